package v4l2

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/callbox/callbox/device/camera"
	go4vl "github.com/vladimirvivien/go4vl/v4l2"
	"golang.org/x/sys/unix"
)

// DeviceInfo describes one V4L2 video node.
type DeviceInfo struct {
	Path    string // /dev/video0
	Card    string // V4L2 card name: "vivid", "HD Pro Webcam C920"
	Driver  string // "vivid", "uvcvideo"
	BusInfo string // "platform:vivid-000", "usb-0000:00:14.0-1"
	// Capture is true for a single-planar video capture node with
	// streaming I/O: what Open can stream from.
	Capture bool
	// Kind says what the node is, in words: "video capture",
	// "memory-to-memory device (codec or scaler)", "video output", ...
	Kind string
}

// classify reads QUERYCAP flags: the node's own (device_caps) when the
// driver reports them, else the whole device's.
func classify(c go4vl.Capability) (capture bool, kind string) {
	caps := c.Capabilities
	if caps&go4vl.CapDeviceCapabilities != 0 {
		caps = c.DeviceCapabilities
	}
	has := func(flag uint32) bool { return caps&flag != 0 }
	switch {
	case has(go4vl.CapVideoMem2Mem | go4vl.CapVideoMem2MemMPlane),
		has(go4vl.CapVideoCapture) && has(go4vl.CapVideoOutput),
		has(go4vl.CapVideoCaptureMPlane) && has(go4vl.CapVideoOutputMPlane):
		return false, "memory-to-memory device (codec or scaler)"
	case has(go4vl.CapVideoCapture) && has(go4vl.CapStreaming):
		return true, "video capture"
	case has(go4vl.CapVideoCapture):
		return false, "video capture device without streaming I/O"
	case has(go4vl.CapVideoCaptureMPlane):
		return false, "multi-planar video capture device (not supported)"
	case has(go4vl.CapVideoOutput | go4vl.CapVideoOutputMPlane):
		return false, "video output device"
	case has(go4vl.CapMetadataCapture | go4vl.CapMetadataOutput):
		return false, "metadata device"
	case has(go4vl.CapTouch):
		return false, "touch device"
	default:
		return false, "device without video capture"
	}
}

// openNode opens a V4L2 node the way video drivers expect (read-write,
// non-blocking) and turns errno into the package's errors. We open it
// ourselves rather than with go4vl's OpenDevice to get O_CLOEXEC (the
// daemon starts helper processes) and errno-level errors.
func openNode(path string) (int, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return -1, fmt.Errorf("open %s: %w", path, camera.ErrNotFound)
	case errors.Is(err, unix.EBUSY):
		return -1, fmt.Errorf("open %s: %w", path, camera.ErrBusy)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return -1, fmt.Errorf("open %s: permission denied (is the user in the video group?): %w", path, err)
	default:
		return -1, fmt.Errorf("open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("open %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		unix.Close(fd)
		return -1, fmt.Errorf("open %s: %w (not a device node)", path, camera.ErrNotCapture)
	}
	return fd, nil
}

// probe opens path and asks what it is. The caller closes fd.
func probe(path string) (int, DeviceInfo, error) {
	fd, err := openNode(path)
	if err != nil {
		return -1, DeviceInfo{}, err
	}
	c, err := go4vl.GetCapability(uintptr(fd))
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, go4vl.ErrorUnsupported) || errors.Is(err, go4vl.ErrorBadArgument) { // ENOTTY, EINVAL
			return -1, DeviceInfo{}, fmt.Errorf("open %s: %w (not a V4L2 device)", path, camera.ErrNotCapture)
		}
		return -1, DeviceInfo{}, fmt.Errorf("open %s: query capabilities: %w", path, err)
	}
	capture, kind := classify(c)
	return fd, DeviceInfo{Path: path, Card: c.Card, Driver: c.Driver, BusInfo: c.BusInfo, Capture: capture, Kind: kind}, nil
}

// ListDevices lists the V4L2 video nodes in /dev.
func ListDevices() ([]DeviceInfo, error) {
	infos, _, err := listDevicesIn("/dev")
	return infos, err
}

// ListDevicesIn lists the V4L2 video nodes (video*) in dir, in node
// order (video2 before video10). Nodes that are not V4L2 are left out.
func ListDevicesIn(dir string) ([]DeviceInfo, error) {
	infos, _, err := listDevicesIn(dir)
	return infos, err
}

// listDevicesIn also returns why nodes were left out, for error messages
// ("no camera vivid ... /dev/video0: permission denied").
func listDevicesIn(dir string) ([]DeviceInfo, []error, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "video*"))
	if err != nil {
		return nil, nil, fmt.Errorf("list cameras in %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("list cameras in %s: %w", dir, err)
	}
	sortNodes(paths)
	var infos []DeviceInfo
	var skipped []error
	for _, p := range paths {
		fd, info, err := probe(p)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		unix.Close(fd)
		infos = append(infos, info)
	}
	return infos, skipped, nil
}

// sortNodes orders video nodes by number: video2 before video10.
func sortNodes(paths []string) {
	slices.SortFunc(paths, func(a, b string) int {
		return cmp.Or(cmp.Compare(nodeNumber(a), nodeNumber(b)), strings.Compare(a, b))
	})
}

func nodeNumber(path string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(path), "video"))
	if err != nil {
		return -1
	}
	return n
}

// matchCard picks the node Open should use for a card name: the first
// capture node whose card equals name (ignoring case), else the first whose
// card contains it; an empty name takes the first capture node. vivid, like
// many drivers, has several nodes with one card name (capture, output), so
// the match is among capture nodes.
func matchCard(infos []DeviceInfo, name string) (DeviceInfo, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		for _, info := range infos {
			if info.Capture {
				return info, nil
			}
		}
		return DeviceInfo{}, camera.ErrNotFound
	}
	for _, match := range []func(card string) bool{
		func(card string) bool { return strings.EqualFold(strings.TrimSpace(card), name) },
		func(card string) bool { return strings.Contains(strings.ToLower(card), strings.ToLower(name)) },
	} {
		var named []DeviceInfo
		for _, info := range infos {
			if match(info.Card) {
				named = append(named, info)
			}
		}
		for _, info := range named {
			if info.Capture {
				return info, nil
			}
		}
		if len(named) > 0 {
			return DeviceInfo{}, fmt.Errorf("camera %q: %s is a %s: %w", name, named[0].Path, named[0].Kind, camera.ErrNotCapture)
		}
	}
	return DeviceInfo{}, camera.ErrNotFound
}

// findCamera resolves a card name (or "" for the first camera) in dir.
func findCamera(dir, name string) (DeviceInfo, error) {
	infos, skipped, err := listDevicesIn(dir)
	if err != nil {
		return DeviceInfo{}, err
	}
	info, err := matchCard(infos, name)
	if errors.Is(err, camera.ErrNotFound) {
		what := fmt.Sprintf("camera %q", name)
		if name == "" {
			what = "camera"
		}
		var found []string
		for _, i := range infos {
			found = append(found, fmt.Sprintf("%q at %s (%s)", i.Card, i.Path, i.Kind))
		}
		msg := "none"
		if len(found) > 0 {
			msg = strings.Join(found, ", ")
		}
		for _, s := range skipped {
			if !errors.Is(s, camera.ErrNotCapture) { // say why real nodes were not looked at
				msg += "; " + s.Error()
			}
		}
		return DeviceInfo{}, fmt.Errorf("open %s: %w in %s (V4L2 nodes there: %s)", what, camera.ErrNotFound, dir, msg)
	}
	return info, err
}
