package v4l2m2m

import (
	"errors"
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
	opts     ScalerOptions
	d        *device
	out, cap *queue
	in       queueFormat
	result   queueFormat
	frame    []byte // the last result, reused
	sizes    [1]int
	n        int64
	closed   bool
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
	d, err := openDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	s := &Scaler{opts: opts, d: d, out: newQueue(d, d.outType), cap: newQueue(d, d.capType)}
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
	for i := range s.cap.bufs {
		if err := s.cap.enqueue(i, nil, unix.Timeval{}, dmabuf{}); err != nil {
			return err
		}
	}
	if err := s.out.streamOn(); err != nil {
		return err
	}
	return s.cap.streamOn()
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
	deadline := time.Now().Add(2 * time.Second)
	index := s.out.free()
	for index < 0 {
		if _, err := s.d.wait(readyOutput, time.Until(deadline)); err != nil {
			return camera.Frame{}, err
		}
		b, ok, err := s.out.dequeue()
		if err != nil {
			return camera.Frame{}, err
		}
		if !ok && time.Now().After(deadline) {
			return camera.Frame{}, s.d.wrap("waiting for a free OUTPUT buffer", errTimeout(2*time.Second))
		}
		if ok {
			index = b.index
		}
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
	for {
		ready, err := s.d.wait(readyCapture, time.Until(deadline))
		if err != nil {
			return camera.Frame{}, err
		}
		if ready == 0 {
			return camera.Frame{}, s.d.wrap("waiting for the scaled picture", errTimeout(2*time.Second))
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

// Close stops streaming, frees the buffers and closes the device.
func (s *Scaler) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, q := range []*queue{s.out, s.cap} {
		if s.d.fd >= 0 {
			errs = append(errs, q.streamOff())
		}
		errs = append(errs, q.release())
	}
	errs = append(errs, s.d.close())
	return errors.Join(errs...)
}
