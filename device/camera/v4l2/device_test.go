package v4l2

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/device/camera"
	go4vl "github.com/vladimirvivien/go4vl/v4l2"
	"golang.org/x/sys/unix"
)

// Opening real capture needs a V4L2 device (the lab VM's vivid); here we
// check every error a user can meet without one.

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "video0")
	if err := os.WriteFile(regular, []byte("not a camera"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "video9")
	// A device directory holding only nodes that are not V4L2.
	notV4L2 := t.TempDir()
	for name, target := range map[string]string{"video0": "/dev/null", "video1": "/dev/zero"} {
		if err := os.Symlink(target, filepath.Join(notV4L2, name)); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name    string
		opts    OpenOptions
		is      error
		message string
	}{
		{"missing path", OpenOptions{Device: missing}, camera.ErrNotFound, "open " + missing + ": no such device"},
		{"character device that is not V4L2", OpenOptions{Device: "/dev/null"}, camera.ErrNotCapture, "open /dev/null: not a video capture device (not a V4L2 device)"},
		{"regular file", OpenOptions{Device: regular}, camera.ErrNotCapture, "open " + regular + ": not a video capture device (not a device node)"},
		{"card name, no devices", OpenOptions{Device: "vivid", DevDir: t.TempDir()}, camera.ErrNotFound, `open camera "vivid": no such device in`},
		{"card name, only non-V4L2 nodes", OpenOptions{Device: "vivid", DevDir: notV4L2}, camera.ErrNotFound, "(V4L2 nodes there: none)"},
		{"first camera, none there", OpenOptions{DevDir: notV4L2}, camera.ErrNotFound, "open camera: no such device in " + notV4L2},
		{"device directory missing", OpenOptions{Device: "vivid", DevDir: missing}, os.ErrNotExist, "list cameras in " + missing},
	}
	if _, err := os.Stat("/dev/video9"); errors.Is(err, os.ErrNotExist) {
		tests = append(tests, struct {
			name    string
			opts    OpenOptions
			is      error
			message string
		}{"the brief's example", OpenOptions{Device: "/dev/video9"}, camera.ErrNotFound, "open /dev/video9: no such device"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Open(t.Context(), tt.opts)
			if err == nil {
				d.Close()
				t.Fatalf("Open(%+v) succeeded, want an error", tt.opts)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
		})
	}
}

func TestOpenCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Open(ctx, OpenOptions{Device: "/dev/null"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestOpenDoesNotLeakFDs(t *testing.T) {
	before := openFDs(t)
	for range 20 {
		for _, opts := range []OpenOptions{{Device: "/dev/null"}, {Device: "vivid", DevDir: "/dev"}} {
			// Failed opens are what this is about; a vivid that is there
			// (the lab VM) opens and is closed again.
			if d, err := Open(t.Context(), opts); err == nil {
				d.Close()
			}
		}
	}
	if after := openFDs(t); after != before {
		t.Errorf("open file descriptors went from %d to %d", before, after)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(entries)
}

func TestListDevicesInSkipsNonV4L2(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"video0", "video10", "video2"} {
		if err := os.Symlink("/dev/null", filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := ListDevicesIn(dir)
	if err != nil || len(infos) != 0 {
		t.Errorf("ListDevicesIn = %+v, %v; want none and no error", infos, err)
	}
}

func TestSortNodes(t *testing.T) {
	paths := []string{"/dev/video10", "/dev/video2", "/dev/video0", "/dev/video-odd", "/dev/video1"}
	sortNodes(paths)
	want := []string{"/dev/video-odd", "/dev/video0", "/dev/video1", "/dev/video2", "/dev/video10"}
	if !slices.Equal(paths, want) {
		t.Errorf("sorted %v, want %v", paths, want)
	}
}

var labNodes = []DeviceInfo{
	{Path: "/dev/video0", Card: "vivid", Driver: "vivid", Kind: "video output"},
	{Path: "/dev/video1", Card: "vivid", Driver: "vivid", Capture: true, Kind: "video capture"},
	{Path: "/dev/video2", Card: "HD Pro Webcam C920", Driver: "uvcvideo", Capture: true, Kind: "video capture"},
	{Path: "/dev/video3", Card: "HD Pro Webcam C920", Driver: "uvcvideo", Kind: "metadata device"},
	{Path: "/dev/video4", Card: "vicodec-source", Driver: "vicodec", Kind: "memory-to-memory device (codec or scaler)"},
}

func TestMatchCard(t *testing.T) {
	tests := []struct {
		name     string
		infos    []DeviceInfo
		card     string
		path     string
		is       error
		contains string
	}{
		{"exact name, capture node among several", labNodes, "vivid", "/dev/video1", nil, ""},
		{"case ignored", labNodes, "VIVID", "/dev/video1", nil, ""},
		{"part of a name", labNodes, "c920", "/dev/video2", nil, ""},
		{"spaces trimmed", labNodes, " HD Pro Webcam C920 ", "/dev/video2", nil, ""},
		{"empty: first capture node", labNodes, "", "/dev/video1", nil, ""},
		{"m2m codec is not a camera", labNodes, "vicodec", "", camera.ErrNotCapture, `camera "vicodec": /dev/video4 is a memory-to-memory device`},
		{"no such card", labNodes, "logitech brio", "", camera.ErrNotFound, ""},
		{"no devices", nil, "vivid", "", camera.ErrNotFound, ""},
		{"no capture devices", labNodes[4:], "", "", camera.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := matchCard(tt.infos, tt.card)
			if tt.is != nil {
				if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.contains) {
					t.Errorf("matchCard(%q) = %v, %v; want error %v saying %q", tt.card, got.Path, err, tt.is, tt.contains)
				}
				return
			}
			if err != nil || got.Path != tt.path {
				t.Errorf("matchCard(%q) = %q, %v; want %q", tt.card, got.Path, err, tt.path)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	const devCaps = go4vl.CapDeviceCapabilities
	tests := []struct {
		name    string
		cap     go4vl.Capability
		capture bool
		kind    string
	}{
		{"webcam", go4vl.Capability{Capabilities: devCaps | go4vl.CapVideoCapture | go4vl.CapMetadataCapture | go4vl.CapStreaming,
			DeviceCapabilities: go4vl.CapVideoCapture | go4vl.CapStreaming}, true, "video capture"},
		{"webcam metadata node", go4vl.Capability{Capabilities: devCaps | go4vl.CapVideoCapture | go4vl.CapMetadataCapture | go4vl.CapStreaming,
			DeviceCapabilities: go4vl.CapMetadataCapture | go4vl.CapStreaming}, false, "metadata device"},
		{"old driver without device caps", go4vl.Capability{Capabilities: go4vl.CapVideoCapture | go4vl.CapStreaming}, true, "video capture"},
		{"read() only", go4vl.Capability{Capabilities: go4vl.CapVideoCapture | go4vl.CapReadWrite}, false, "without streaming"},
		{"m2m codec", go4vl.Capability{Capabilities: devCaps, DeviceCapabilities: go4vl.CapVideoMem2MemMPlane | go4vl.CapStreaming}, false, "memory-to-memory"},
		{"old m2m: capture and output", go4vl.Capability{Capabilities: go4vl.CapVideoCapture | go4vl.CapVideoOutput | go4vl.CapStreaming}, false, "memory-to-memory"},
		{"output", go4vl.Capability{Capabilities: devCaps, DeviceCapabilities: go4vl.CapVideoOutput | go4vl.CapStreaming}, false, "video output"},
		{"multi-planar capture", go4vl.Capability{Capabilities: devCaps, DeviceCapabilities: go4vl.CapVideoCaptureMPlane | go4vl.CapStreaming}, false, "multi-planar"},
		{"radio", go4vl.Capability{Capabilities: devCaps, DeviceCapabilities: go4vl.CapRadio | go4vl.CapTuner}, false, "without video capture"},
	}
	for _, tt := range tests {
		capture, kind := classify(tt.cap)
		if capture != tt.capture || !strings.Contains(kind, tt.kind) {
			t.Errorf("%s: classify = %v %q, want %v %q", tt.name, capture, kind, tt.capture, tt.kind)
		}
	}
}

func TestCaptureTime(t *testing.T) {
	wall := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	mono := 1000 * time.Second // the monotonic clock now
	monoFlag := uint32(go4vl.BufFlagTimestampMonotonic)
	tests := []struct {
		name      string
		flags     uint32
		sec, usec int64
		want      time.Time
	}{
		{"monotonic, 20 ms ago", monoFlag, 999, 980_000, wall.Add(-20 * time.Millisecond)},
		{"monotonic, with other flags", monoFlag | go4vl.BufFlagMapped | go4vl.BufFlagDone, 1000, 0, wall},
		{"copy timestamps (m2m)", go4vl.BufFlagTimestampCopy, 999, 0, wall},
		{"unknown clock", go4vl.BufFlagTimestampUnknown, 999, 0, wall},
		{"no timestamp", monoFlag, 0, 0, wall},
		{"in the future", monoFlag, 1001, 0, wall},
		{"implausibly old", monoFlag, 100, 0, wall},
	}
	for _, tt := range tests {
		if got := captureTime(tt.flags, tt.sec, tt.usec, wall, mono); !got.Equal(tt.want) {
			t.Errorf("%s: captureTime = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func quietDevice(path string) *Device {
	return &Device{info: DeviceInfo{Path: path}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), fd: -1, held: -1, wakeFD: -1}
}

// A damaged frame's buffer goes back to the driver; one the driver does
// not take back (here: no device behind the descriptor) ends the read
// with ErrGone, instead of capturing on with a buffer fewer each time.
func TestDroppedFrameNotRequeuedIsAnError(t *testing.T) {
	d := quietDevice("/dev/video0")
	d.buffers = [][]byte{make([]byte, 100)}
	_, ok, err := d.frameFrom(go4vl.Buffer{Index: 0, BytesUsed: 0})
	if ok || !errors.Is(err, camera.ErrGone) {
		t.Errorf("an empty buffer the driver did not take back: ok %v, err %v; want a dropped frame and ErrGone", ok, err)
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		gone    bool
		message string
	}{
		// go4vl reports ENODEV/EIO from DQBUF as go4vl.ErrorSystem.
		{"unplugged (go4vl)", errors.Join(errors.New("buffer dequeue"), go4vl.ErrorSystem), true, "read /dev/video0: device gone (dequeue: "},
		{"unplugged (errno)", unix.ENODEV, true, "read /dev/video0: device gone"},
		{"I/O error", unix.EIO, true, "device gone"},
		{"bad argument", go4vl.ErrorBadArgument, false, "read /dev/video0: dequeue: bad argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := quietDevice("/dev/video0")
			// An fd where DQBUF fails harmlessly (ENOTTY), so only a
			// remembered "gone" can make the next read say ErrGone.
			fd, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			d.fd = fd
			t.Cleanup(func() { d.Close() })
			err = d.streamError("dequeue", tt.err)
			if errors.Is(err, camera.ErrGone) != tt.gone || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("streamError = %q; want gone=%v saying %q", err, tt.gone, tt.message)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("streamError = %q lost the cause %v", err, tt.err)
			}
			// Once gone, every later read says so at once, without a device.
			_, again := d.ReadFrame(t.Context())
			if errors.Is(again, camera.ErrGone) != tt.gone {
				t.Errorf("ReadFrame after %v: %v; want gone=%v", tt.err, again, tt.gone)
			}
		})
	}
}

func TestSetupErrors(t *testing.T) {
	d := quietDevice("/dev/video0")
	err := d.setupError("set format YUYV 640x480@30", unix.EBUSY)
	if !errors.Is(err, camera.ErrBusy) || err.Error() != "open /dev/video0: in use by another program (set format YUYV 640x480@30)" {
		t.Errorf("setupError(EBUSY) = %q", err)
	}
	if err := d.setupError("stream on", go4vl.ErrorSystem); !errors.Is(err, camera.ErrGone) {
		t.Errorf("setupError(ErrorSystem) = %q, want camera.ErrGone", err)
	}
}

func TestClosedDeviceRead(t *testing.T) {
	d := quietDevice("/dev/video0")
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := d.ReadFrame(t.Context()); !errors.Is(err, camera.ErrClosed) {
		t.Errorf("ReadFrame after Close: %v, want camera.ErrClosed", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
