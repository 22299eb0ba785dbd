package v4l2m2m

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// DeviceInfo is what probing learnt of one m2m device: what it takes on
// its OUTPUT queue and gives on its CAPTURE queue.
type DeviceInfo struct {
	Path, Driver, Card string
	MultiPlanar        bool
	// Takes and Gives are the OUTPUT and CAPTURE formats.
	Takes, Gives []camera.PixelFormat
	// EncodeFormats are the coded formats it makes from raw pictures;
	// DecodeFormats the coded formats it turns into raw pictures.
	EncodeFormats, DecodeFormats []camera.PixelFormat
	// Converts is true for a raw-to-raw device: a scaler or colour
	// converter.
	Converts bool
}

// CanEncode reports whether the device makes codec c.
func (i DeviceInfo) CanEncode(c media.Codec) bool {
	f := FormatOf(c)
	return f != 0 && slices.Contains(i.EncodeFormats, f)
}

// CanDecode reports whether the device reads codec c.
func (i DeviceInfo) CanDecode(c media.Codec) bool {
	f := FormatOf(c)
	return f != 0 && slices.Contains(i.DecodeFormats, f)
}

func (i DeviceInfo) String() string {
	var does []string
	for _, f := range i.EncodeFormats {
		does = append(does, "encodes "+f.String())
	}
	for _, f := range i.DecodeFormats {
		does = append(does, "decodes "+f.String())
	}
	if i.Converts {
		does = append(does, "converts raw pictures")
	}
	return fmt.Sprintf("%s (%s, %s): %s", i.Path, i.Card, i.Driver, strings.Join(does, ", "))
}

// Probe lists the m2m devices among dir's video nodes (dir is /dev on a
// board), by their capabilities and formats, not their names. Nodes that
// are not m2m devices are skipped; nodes that cannot be opened are named
// in the error, next to the devices that could.
func Probe(dir string) ([]DeviceInfo, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "video*"))
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", dir, err)
	}
	sort.Slice(paths, func(a, b int) bool { return nodeNumber(paths[a]) < nodeNumber(paths[b]) })
	var infos []DeviceInfo
	var errs []error
	for _, p := range paths {
		info, err := probeOne(p)
		if errors.Is(err, ErrNotM2M) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		infos = append(infos, info)
	}
	return infos, errors.Join(errs...)
}

func nodeNumber(path string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(path), "video"))
	if err != nil {
		return 1 << 30
	}
	return n
}

func probeOne(path string) (DeviceInfo, error) {
	if st, err := os.Stat(path); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return DeviceInfo{}, fmt.Errorf("%s: %w", path, ErrNotM2M)
	}
	d, err := openDevice(path)
	if err != nil {
		return DeviceInfo{}, err
	}
	defer d.close()
	info := DeviceInfo{Path: path, Driver: d.driver, Card: d.card, MultiPlanar: d.mplane}
	takes, err := d.enumFormats(d.outType)
	if err != nil {
		return info, err
	}
	gives, err := d.enumFormats(d.capType)
	if err != nil {
		return info, err
	}
	classify(&info, takes, gives)
	return info, nil
}

// classify fills in what a device does from its two queues' formats.
func classify(info *DeviceInfo, takes, gives []formatDesc) {
	rawIn, rawOut := false, false
	for _, f := range takes {
		info.Takes = append(info.Takes, f.pixel)
		rawIn = rawIn || !f.compressed
	}
	for _, f := range gives {
		info.Gives = append(info.Gives, f.pixel)
		rawOut = rawOut || !f.compressed
	}
	for _, f := range gives {
		if f.compressed && rawIn {
			info.EncodeFormats = append(info.EncodeFormats, f.pixel)
		}
	}
	for _, f := range takes {
		if f.compressed && rawOut {
			info.DecodeFormats = append(info.DecodeFormats, f.pixel)
		}
	}
	info.Converts = rawIn && rawOut && len(info.EncodeFormats) == 0 && len(info.DecodeFormats) == 0
}
