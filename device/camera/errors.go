package camera

import "errors"

// Sentinel errors; every error this package and its driver
// (device/camera/v4l2) return wraps one of these (or a context error) and
// names the device, so callers branch with errors.Is and people read the
// message.
var (
	// ErrNotFound: no such device node, or no camera with that card name.
	ErrNotFound = errors.New("no such device")
	// ErrBusy: another program holds the camera (EBUSY).
	ErrBusy = errors.New("in use by another program")
	// ErrNotCapture: the node exists but is not a V4L2 video capture
	// device we can stream from (not V4L2 at all, an m2m codec, an output).
	ErrNotCapture = errors.New("not a video capture device")
	// ErrUnsupportedFormat: the device offers no size or pixel format that
	// fits what was asked.
	ErrUnsupportedFormat = errors.New("unsupported format")
	// ErrGone: the camera vanished while streaming (unplugged: ENODEV).
	ErrGone = errors.New("device gone")
	// ErrClosed: ReadFrame after Close.
	ErrClosed = errors.New("source closed")
	// ErrNoStamp: ReadStamp found no readable stamp (absent, damaged, or
	// failing its CRC); it never returns a wrong number instead.
	ErrNoStamp = errors.New("no readable stamp")
)

// ErrNoSignal: an input (an HDMI input) has no picture to give: no cable,
// a source that sends nothing, or a signal it cannot lock to.
var ErrNoSignal = errors.New("no signal")
