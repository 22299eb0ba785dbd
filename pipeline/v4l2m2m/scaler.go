package v4l2m2m

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/callbox/callbox/device/camera"
	"golang.org/x/sys/unix"
)

// ScalerOptions say which m2m device turns pictures of one size and
// format into another: vim2m in the lab, the Pi's ISP (bcm2835-codec-isp).
type ScalerOptions struct {
	Device string
	// In is what Scale is given, Out what it returns.
	In, Out camera.Format
	Logger  *slog.Logger
}

// Scaler converts raw pictures with a m2m device, one at a time: the
// simulcast layers' scaler where hardware has one. Not for concurrent use.
type Scaler struct {
	m2m    // out: pictures in; cap: scaled pictures out
	opts   ScalerOptions
	in     queueFormat
	result queueFormat
	frame  []byte // the last result, reused
	sizes  [1]int
	n      int64
}

// NewScaler opens the device and sets both queues' formats; the device
// must take In and give Out exactly.
func NewScaler(opts ScalerOptions) (*Scaler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	for _, f := range []camera.Format{opts.In, opts.Out} {
		if _, ok := layoutOf(f.Pixel); !ok {
			return nil, fmt.Errorf("m2m scaler %s: pixel format %s: %w", opts.Device, f.Pixel, ErrUnsupported)
		}
	}
	m, err := openM2M(opts.Device)
	if err != nil {
		return nil, err
	}
	s := &Scaler{m2m: m, opts: opts}
	if err := s.initialize(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Scaler) initialize() error {
	in, out := s.opts.In, s.opts.Out
	var err error
	if s.in, err = s.d.setFormat(s.out.typ, &queueFormat{pixel: in.Pixel, width: in.Width, height: in.Height}, 0); err != nil {
		return err
	}
	if s.result, err = s.d.setFormat(s.cap.typ, &queueFormat{pixel: out.Pixel, width: out.Width, height: out.Height}, 0); err != nil {
		return err
	}
	for _, q := range []struct {
		got  queueFormat
		want camera.Format
	}{{s.in, in}, {s.result, out}} {
		if q.got.pixel != q.want.Pixel || q.got.width != q.want.Width || q.got.height != q.want.Height {
			return fmt.Errorf("%s (%s): asked for %s %dx%d, the device set %s: %w",
				s.d.path, s.d.card, q.want.Pixel, q.want.Width, q.want.Height, q.got, ErrUnsupported)
		}
	}
	if _, err := s.out.allocate(2, memoryMMAP); err != nil {
		return err
	}
	if _, err := s.cap.allocate(2, memoryMMAP); err != nil {
		return err
	}
	if err := s.out.streamOn(); err != nil {
		return err
	}
	return s.startCapture()
}

// Scale converts one picture; the result is valid until the next call.
func (s *Scaler) Scale(f camera.Frame) (camera.Frame, error) {
	if s.closed {
		return camera.Frame{}, fmt.Errorf("%s: scaler is closed", s.d.path)
	}
	in := s.opts.In
	if f.Format.Pixel != in.Pixel || f.Format.Width != in.Width || f.Format.Height != in.Height {
		return camera.Frame{}, fmt.Errorf("%s (%s): frame is %s, the scaler takes %s %dx%d",
			s.d.path, s.d.card, f.Format, in.Pixel, in.Width, in.Height)
	}
	index, err := s.freeOutputBuffer(nil)
	if err != nil {
		return camera.Frame{}, err
	}
	src, err := framePicture(f)
	if err != nil {
		return camera.Frame{}, err
	}
	dst, err := pictureIn(s.in.pixel, s.in.width, s.in.height, s.in.planes[0].bytesPerLine, s.in.height, s.out.bufs[index]...)
	if err != nil {
		return camera.Frame{}, err
	}
	if err := copyPicture(dst, src); err != nil {
		return camera.Frame{}, err
	}
	s.n++
	s.sizes[0] = s.in.planes[0].sizeImage
	if err := s.out.enqueue(index, s.sizes[:], unix.NsecToTimeval(s.n*1000), dmabuf{}); err != nil {
		return camera.Frame{}, err
	}
	deadline := time.Now().Add(s.timeout)
	for {
		if _, err := s.await(readyCapture, deadline, "the scaled picture"); err != nil {
			return camera.Frame{}, err
		}
		b, ok, err := s.cap.dequeue()
		if err != nil {
			return camera.Frame{}, err
		}
		if !ok {
			continue
		}
		s.frame = append(s.frame[:0], s.cap.data(b)...)
		if err := s.cap.enqueue(b.index, nil, unix.Timeval{}, dmabuf{}); err != nil {
			return camera.Frame{}, err
		}
		if b.flags&bufFlagError != 0 {
			return camera.Frame{}, fmt.Errorf("%s (%s): the device failed to scale frame %d", s.d.path, s.d.card, f.Seq)
		}
		out := s.opts.Out
		out.Stride = s.result.planes[0].bytesPerLine
		out.FPS = f.Format.FPS
		return camera.Frame{Format: out, Data: s.frame, Seq: f.Seq, Time: f.Time}, nil
	}
}
