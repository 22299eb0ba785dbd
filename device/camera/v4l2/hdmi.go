package v4l2

// An HDMI input (a TC358743 bridge, vivid's HDMI input): its signal comes
// and goes, and says its size through the digital video timings
// (VIDIOC_QUERY_DV_TIMINGS), which the receiver is set to
// (VIDIOC_S_DV_TIMINGS) before it streams; a change is an event
// (V4L2_EVENT_SOURCE_CHANGE). An input without DV timings (a USB HDMI
// capture stick, which is a UVC camera and draws its own "no signal"
// picture) has a signal as long as the device is there.
//
// go4vl has none of these ioctls, so they are C helpers over
// <linux/videodev2.h>: the kernel's structs as the compiler lays them
// out, no copy of ours to keep in step.

/*
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/videodev2.h>

static int cbx_ioctl(int fd, unsigned long req, void *arg) {
	int r;
	do r = ioctl(fd, req, arg); while (r < 0 && errno == EINTR);
	return r < 0 ? errno : 0;
}

// cbx_find_dv_input selects the first input that has DV timings and
// returns its index, -1 when there is none, or -errno.
static int cbx_find_dv_input(int fd) {
	struct v4l2_input in;
	for (unsigned i = 0; i < 64; i++) {
		memset(&in, 0, sizeof in);
		in.index = i;
		int err = cbx_ioctl(fd, VIDIOC_ENUMINPUT, &in);
		if (err == EINVAL) return -1;
		if (err) return -err;
		if (in.capabilities & V4L2_IN_CAP_DV_TIMINGS) {
			int idx = (int)i;
			err = cbx_ioctl(fd, VIDIOC_S_INPUT, &idx);
			return err ? -err : (int)i;
		}
	}
	return -1;
}

typedef struct {
	uint32_t width, height, interlaced;
	uint64_t pixelclock;
	uint32_t htotal, vtotal;
} cbx_timings;

// cbx_query_timings asks the receiver what it sees; with set, it also
// sets the receiver to it. Returns 0 or errno.
static int cbx_query_timings(int fd, int set, cbx_timings *out) {
	struct v4l2_dv_timings t;
	memset(&t, 0, sizeof t);
	int err = cbx_ioctl(fd, VIDIOC_QUERY_DV_TIMINGS, &t);
	if (err) return err;
	if (t.type != V4L2_DV_BT_656_1120) return EINVAL;
	out->width = t.bt.width;
	out->height = t.bt.height;
	out->interlaced = t.bt.interlaced;
	out->pixelclock = t.bt.pixelclock;
	out->htotal = V4L2_DV_BT_FRAME_WIDTH(&t.bt);
	out->vtotal = V4L2_DV_BT_FRAME_HEIGHT(&t.bt);
	return set ? cbx_ioctl(fd, VIDIOC_S_DV_TIMINGS, &t) : 0;
}

// cbx_subscribe_source_change subscribes to the source changes of input
// (a source change's id is the input's index).
static int cbx_subscribe_source_change(int fd, unsigned input) {
	struct v4l2_event_subscription s;
	memset(&s, 0, sizeof s);
	s.type = V4L2_EVENT_SOURCE_CHANGE;
	s.id = input;
	return cbx_ioctl(fd, VIDIOC_SUBSCRIBE_EVENT, &s);
}

// cbx_dequeue_event takes one pending event; 1 when it is a source
// change, 0 another, or -errno (-ENOENT: none pending).
static int cbx_dequeue_event(int fd) {
	struct v4l2_event ev;
	memset(&ev, 0, sizeof ev);
	int err = cbx_ioctl(fd, VIDIOC_DQEVENT, &ev);
	if (err) return -err;
	return ev.type == V4L2_EVENT_SOURCE_CHANGE;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/callbox/callbox/device/camera"
	"golang.org/x/sys/unix"
)

// HDMIOptions say which input to open and what to ask of an input that
// cannot say its size.
type HDMIOptions struct {
	// Device is a node path or a card name, as OpenOptions.Device.
	Device string
	DevDir string
	// Width, Height and FPS are asked of an input without DV timings (a
	// USB capture stick); one with DV timings streams at its signal's.
	Width, Height, FPS int
	Logger             *slog.Logger
}

// HDMIInput is a capture device's HDMI input: what its signal is
// (Signal), when that changes (WaitChange), and its pictures (Open). It
// holds a file descriptor of its own for the events; Close releases it.
type HDMIInput struct {
	opts HDMIOptions
	path string
	log  *slog.Logger
	fd   int
	// dv: the input has DV timings and source-change events; without
	// them it has a signal while the device is there.
	dv bool

	wakeMu sync.Mutex
	wakeFD int // eventfd that interrupts a WaitChange; -1 once closed
}

// OpenHDMI opens the device's HDMI input: the first input with DV
// timings, selected, with source-change events subscribed to; or, on a
// device with none, the device as a camera whose signal is always there.
func OpenHDMI(opts HDMIOptions) (*HDMIInput, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	fd, info, err := openCapture(opts.Device, opts.DevDir)
	if err != nil {
		return nil, err
	}
	path := info.Path
	in := &HDMIInput{opts: opts, path: path, log: log.With("content_camera", path), fd: fd, wakeFD: -1}
	idx := int(C.cbx_find_dv_input(C.int(fd)))
	switch {
	case idx < 0 && idx != -1:
		in.Close()
		return nil, fmt.Errorf("open %s: select the HDMI input: %w", path, unix.Errno(-idx))
	case idx >= 0:
		if errno := C.cbx_subscribe_source_change(C.int(fd), C.uint(idx)); errno != 0 {
			in.Close()
			return nil, fmt.Errorf("open %s: subscribe to source changes: %w", path, unix.Errno(errno))
		}
		in.dv = true
		in.log.Info("content input: HDMI with DV timings", "input", idx)
	default:
		in.log.Info("content input has no DV timings (a USB capture stick?): its signal is taken to be there while the device is")
	}
	if in.wakeFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		in.Close()
		return nil, fmt.Errorf("open %s: eventfd: %w", path, err)
	}
	return in, nil
}

// Signal is the input's signal now: its size and frame rate from the DV
// timings, or an error wrapping camera.ErrNoSignal (no cable, no lock, a
// signal out of the receiver's range).
func (in *HDMIInput) Signal() (camera.Format, error) {
	if !in.dv {
		return camera.Format{Width: in.opts.Width, Height: in.opts.Height, FPS: in.opts.FPS}, nil
	}
	t, err := in.query(false)
	if err != nil {
		return camera.Format{}, err
	}
	return t, nil
}

// query reads the DV timings (and with set, sets the receiver to them).
func (in *HDMIInput) query(set bool) (camera.Format, error) {
	var t C.cbx_timings
	setInt := 0
	if set {
		setInt = 1
	}
	switch errno := unix.Errno(C.cbx_query_timings(C.int(in.fd), C.int(setInt), &t)); errno {
	case 0:
	case unix.ENOLINK:
		return camera.Format{}, fmt.Errorf("%s: %w (no cable or no source)", in.path, camera.ErrNoSignal)
	case unix.ENOLCK:
		return camera.Format{}, fmt.Errorf("%s: %w (the receiver cannot lock to the signal)", in.path, camera.ErrNoSignal)
	case unix.ERANGE:
		return camera.Format{}, fmt.Errorf("%s: %w (a signal out of the receiver's range)", in.path, camera.ErrNoSignal)
	case unix.ENODEV:
		return camera.Format{}, fmt.Errorf("%s: %w", in.path, camera.ErrGone)
	default:
		return camera.Format{}, fmt.Errorf("%s: query DV timings: %w", in.path, errno)
	}
	f := camera.Format{Width: int(t.width), Height: int(t.height)}
	if t.htotal > 0 && t.vtotal > 0 {
		f.FPS = int((uint64(t.pixelclock) + uint64(t.htotal)*uint64(t.vtotal)/2) / (uint64(t.htotal) * uint64(t.vtotal)))
	}
	if t.width > camera.MaxContentWidth || t.height > camera.MaxContentHeight {
		return camera.Format{}, fmt.Errorf("%s: %w (%dx%d is larger than content's %dx%d)", in.path, camera.ErrNoSignal,
			t.width, t.height, camera.MaxContentWidth, camera.MaxContentHeight)
	}
	return f, nil
}

// WaitChange waits for a source-change event; on an input without them,
// until ctx ends.
func (in *HDMIInput) WaitChange(ctx context.Context) error {
	fds := []unix.PollFd{{Fd: int32(in.wakeFD), Events: unix.POLLIN}}
	if in.dv {
		fds = append(fds, unix.PollFd{Fd: int32(in.fd), Events: unix.POLLPRI})
	}
	stop := context.AfterFunc(ctx, in.wake)
	defer stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		fds[0].Revents = 0
		if len(fds) > 1 {
			fds[1].Revents = 0
		}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("%s: wait for events: %w", in.path, err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			var buf [8]byte
			_, _ = unix.Read(in.wakeFD, buf[:]) // drained; ctx says why
			continue
		}
		if len(fds) > 1 && fds[1].Revents&(unix.POLLERR|unix.POLLHUP) != 0 && fds[1].Revents&unix.POLLPRI == 0 {
			return fmt.Errorf("%s: %w", in.path, camera.ErrGone)
		}
		changed := false
		for {
			r := int(C.cbx_dequeue_event(C.int(in.fd)))
			if r < 0 {
				break // ENOENT: none left
			}
			changed = changed || r == 1
		}
		if changed {
			return nil
		}
	}
}

func (in *HDMIInput) wake() {
	in.wakeMu.Lock()
	defer in.wakeMu.Unlock()
	if in.wakeFD >= 0 {
		_, _ = unix.Write(in.wakeFD, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}
}

// Open sets the receiver to sig's timings (asked again: the signal may
// have moved on, and then a source-change event follows) and streams the
// input at its size. The stream is a Device of its own; close it before
// the next Open.
func (in *HDMIInput) Open(ctx context.Context, sig camera.Format) (camera.Source, error) {
	if in.dv {
		t, err := in.query(true)
		if err != nil {
			return nil, err
		}
		sig.Width, sig.Height = t.Width, t.Height
		if t.FPS > 0 {
			sig.FPS = t.FPS
		}
	}
	return Open(ctx, OpenOptions{Device: in.path, Width: sig.Width, Height: sig.Height, FPS: sig.FPS, Logger: in.opts.Logger})
}

// Close releases the input's descriptors; not while a WaitChange runs.
func (in *HDMIInput) Close() error {
	in.wakeMu.Lock()
	if in.wakeFD >= 0 {
		unix.Close(in.wakeFD)
		in.wakeFD = -1
	}
	in.wakeMu.Unlock()
	return unix.Close(in.fd)
}
