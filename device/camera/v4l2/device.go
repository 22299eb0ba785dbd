package v4l2

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbox/callbox/device/camera"
	go4vl "github.com/vladimirvivien/go4vl/v4l2"
	"golang.org/x/sys/unix"
)

// OpenOptions says which camera to open and what to ask of it.
type OpenOptions struct {
	// Device is a node path ("/dev/video0") or a V4L2 card name ("vivid",
	// "C920"), matched against the capture nodes in DevDir: exact name
	// first (ignoring case), then a part of it. Empty means the first
	// capture node.
	Device string
	// DevDir is where card names are looked up; empty means /dev.
	DevDir string
	// Width, Height and FPS wanted; zero means 1280x720 at 30 fps.
	Width, Height, FPS int
	// Pixel forces a pixel format; 0 lets Negotiate choose.
	Pixel camera.PixelFormat
	// Buffers is how many driver buffers to stream with; 0 means 4.
	Buffers int
	// ExportDMABUF exports every driver buffer as a DMABUF (VIDIOC_EXPBUF)
	// and hands it out with each frame (Frame.DMABuf), for a hardware
	// encoder to read the pictures without a copy. A driver that cannot
	// export gets one log line saying why; frames then come without one.
	ExportDMABUF bool
	// Logger gets the negotiated format and dropped frames; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Device is a streaming V4L2 capture device. It implements Source: Data of
// a Frame points into the driver's buffer, valid until the next ReadFrame
// or Close (that buffer goes back to the driver then).
//
// We use go4vl's v4l2 package (ioctl wrappers and types) but not its
// device package: that one delivers frames from its own goroutine through
// a channel, drops frames with errors on a side channel, reads buffer
// timestamps as wall time (they are CLOCK_MONOTONIC) and leaks the fd on
// some Open failures. Here ReadFrame dequeues directly: no goroutine, and
// an unplugged camera is an error from ReadFrame.
type Device struct {
	info   DeviceInfo
	format camera.Format
	caps   []FormatCaps
	log    *slog.Logger

	mu        sync.Mutex // serialises ReadFrame and teardown
	fd        int
	buffers   [][]byte        // mmapped driver buffers
	exports   []camera.DMABuf // the buffers exported as DMABUF, by index; nil if not
	streaming bool
	held      int // buffer handed out with the last Frame, -1 if none
	lastSeq   uint32
	seqHigh   uint64 // extends the driver's 32-bit sequence
	gone      error  // set once the device vanished

	wakeMu sync.Mutex // guards wakeFD against use after close
	wakeFD int        // eventfd that interrupts a blocked ReadFrame

	closed       atomic.Bool
	released     bool                        // teardown done (under mu)
	closeErr     error                       // what teardown said
	stopLifetime atomic.Pointer[func() bool] // unregisters the Open ctx hook
}

var _ camera.Source = (*Device)(nil)

// Open opens a camera, negotiates a format (see Negotiate) and starts
// streaming. Cancelling ctx closes the device, like Close. Errors name the
// device and wrap ErrNotFound, ErrBusy, ErrNotCapture or
// ErrUnsupportedFormat where they apply.
func Open(ctx context.Context, opts OpenOptions) (*Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	fd, info, err := openCapture(opts.Device, opts.DevDir)
	if err != nil {
		return nil, err
	}
	path := info.Path
	d := &Device{info: info, log: log.With("camera", path), fd: fd, held: -1, wakeFD: -1}
	if d.wakeFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		_ = d.teardown() // the eventfd's error is the one to report
		return nil, fmt.Errorf("open %s: eventfd: %w", path, err)
	}
	want := Want{Width: opts.Width, Height: opts.Height, FPS: opts.FPS, Pixel: opts.Pixel}.withDefaults()
	buffers := opts.Buffers
	if buffers <= 0 {
		buffers = 4
	}
	if err := d.start(want, buffers, opts.ExportDMABUF); err != nil {
		_ = d.teardown() // start's error is the one to report
		return nil, err
	}
	d.log.Info("camera streaming", "card", info.Card, "driver", info.Driver, "format", d.format.String(), "stride", d.format.Stride,
		"dmabuf_export", len(d.exports) > 0)
	stop := context.AfterFunc(ctx, d.stopForContext)
	d.stopLifetime.Store(&stop)
	return d, nil
}

// Format reports the negotiated format.
func (d *Device) Format() camera.Format { return d.format }

// Info says which device this is.
func (d *Device) Info() DeviceInfo { return d.info }

// openCapture finds device (a node path, or a card name among the nodes
// in devDir, /dev when empty) and opens it, refusing a node that is not a
// video capture device. The caller closes fd.
func openCapture(device, devDir string) (int, DeviceInfo, error) {
	path := device
	if !strings.ContainsRune(path, '/') {
		if devDir == "" {
			devDir = "/dev"
		}
		info, err := findCamera(devDir, path)
		if err != nil {
			return -1, DeviceInfo{}, err
		}
		path = info.Path
	}
	fd, info, err := probe(path)
	if err != nil {
		return -1, DeviceInfo{}, err
	}
	if !info.Capture {
		unix.Close(fd)
		return -1, DeviceInfo{}, fmt.Errorf("open %s: %w (%s)", path, camera.ErrNotCapture, info.Kind)
	}
	return fd, info, nil
}

// Capabilities lists what the device offered when it was opened (formats
// Callbox understands, with sizes and frame intervals).
func (d *Device) Capabilities() []FormatCaps { return d.caps }

// start runs the V4L2 capture set-up: enumerate, negotiate, set format and
// rate, request and map (and export, if asked) buffers, queue them, stream
// on.
func (d *Device) start(want Want, bufferCount int, export bool) error {
	path := d.info.Path
	d.caps = queryCaps(d.fd, want)
	c, err := negotiate(d.caps, want)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}

	fdp := uintptr(d.fd)
	// Only width, height, pixel format and field are set: go4vl's PixFormat
	// is not byte-for-byte v4l2_pix_format past those, so the rest stay 0
	// (driver defaults).
	if err := go4vl.SetPixFormat(fdp, go4vl.PixFormat{
		Width: uint32(c.Width), Height: uint32(c.Height), PixelFormat: uint32(c.Pixel), Field: go4vl.FieldNone,
	}); err != nil {
		return d.setupError("set format "+c.Format.String(), err)
	}
	pf, err := go4vl.GetPixFormat(fdp)
	if err != nil {
		return d.setupError("get format", err)
	}
	if camera.PixelFormat(pf.PixelFormat) != c.Pixel {
		return fmt.Errorf("open %s: asked for %s, driver gave %s: %w", path, c.Pixel, camera.PixelFormat(pf.PixelFormat), camera.ErrUnsupportedFormat)
	}
	if int(pf.Width) != c.Width || int(pf.Height) != c.Height {
		d.log.Warn("camera adjusted the size", "asked", fmt.Sprintf("%dx%d", c.Width, c.Height), "got", fmt.Sprintf("%dx%d", pf.Width, pf.Height))
	}
	d.format = camera.Format{Pixel: c.Pixel, Width: int(pf.Width), Height: int(pf.Height), FPS: c.FPS, Stride: int(pf.BytesPerLine)}
	d.format.FPS = d.setFrameRate(c.interval, c.FPS)

	h := &streamHandle{fd: fdp, count: uint32(bufferCount)}
	req, err := go4vl.InitBuffers(h)
	if err != nil {
		return d.setupError("request buffers", err)
	}
	if req.Count == 0 {
		return fmt.Errorf("open %s: driver gave no buffers", path)
	}
	h.count = req.Count
	for i := range req.Count {
		b, err := go4vl.GetBuffer(h, i)
		if err != nil {
			return d.setupError("query buffer", err)
		}
		m, err := unix.Mmap(d.fd, int64(b.Info.Offset), int(b.Length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("open %s: map buffer %d: %w", path, i, err)
		}
		d.buffers = append(d.buffers, m)
	}
	if export {
		exports, err := exportBuffers(d.fd, uint32(go4vl.BufTypeVideoCapture), d.buffers)
		if err != nil {
			d.log.Warn("camera buffers not exported as DMABUF; a hardware encoder will copy each frame", "reason", err.Error())
		}
		d.exports = exports
	}
	for i := range req.Count {
		if _, err := go4vl.QueueBuffer(fdp, go4vl.IOTypeMMAP, go4vl.BufTypeVideoCapture, i); err != nil {
			return d.setupError("queue buffer", err)
		}
	}
	if err := go4vl.StreamOn(h); err != nil {
		return d.setupError("stream on", err)
	}
	d.streaming = true
	return nil
}

// setFrameRate asks for the negotiated frame period if the driver lets us
// (V4L2_CAP_TIMEPERFRAME) and returns the rate it settled on.
func (d *Device) setFrameRate(iv Interval, fps int) int {
	fdp := uintptr(d.fd)
	sp, err := go4vl.GetStreamParam(fdp, go4vl.BufTypeVideoCapture)
	if err != nil || sp.Capture.Capability&go4vl.StreamParamTimePerFrame == 0 {
		return fps
	}
	sp.Capture.TimePerFrame = go4vl.Fract{Numerator: uint32(iv.Num), Denominator: uint32(iv.Den)}
	if err := go4vl.SetStreamParam(fdp, go4vl.BufTypeVideoCapture, sp); err != nil {
		d.log.Warn("camera refused the frame rate", "fps", fps, "err", err)
	}
	if sp, err = go4vl.GetStreamParam(fdp, go4vl.BufTypeVideoCapture); err == nil {
		got := Interval{int(sp.Capture.TimePerFrame.Numerator), int(sp.Capture.TimePerFrame.Denominator)}.FPS()
		if got > 0 {
			return int(math.Round(got))
		}
	}
	return fps
}

func (d *Device) setupError(step string, err error) error {
	switch {
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("open %s: %w (%s)", d.info.Path, camera.ErrBusy, step)
	case errors.Is(err, go4vl.ErrorSystem):
		return fmt.Errorf("open %s: %s: %w: %w", d.info.Path, step, camera.ErrGone, err)
	default:
		return fmt.Errorf("open %s: %s: %w", d.info.Path, step, err)
	}
}

// queryCaps enumerates the formats Callbox understands with their frame
// sizes and, per size, frame intervals. For a size range the intervals
// are those at the size Negotiate will take from it for want.
func queryCaps(fd int, want Want) []FormatCaps {
	fdp := uintptr(fd)
	descs, _ := go4vl.GetAllFormatDescriptions(fdp) // a partial list is still a list
	var caps []FormatCaps
	for _, desc := range descs {
		fc := FormatCaps{Pixel: camera.PixelFormat(desc.PixelFormat)}
		if pixelRank(fc.Pixel) < 0 {
			caps = append(caps, fc) // named in errors, never chosen
			continue
		}
		sizes, _ := go4vl.GetFormatFrameSizes(fdp, desc.PixelFormat)
		if len(sizes) == 0 {
			// The driver does not enumerate sizes: offer anything and let
			// S_FMT adjust it; start reads back what we got.
			sizes = []go4vl.FrameSizeEnum{{Type: go4vl.FrameSizeTypeContinuous, Size: go4vl.FrameSize{
				MinWidth: 16, MaxWidth: 8192, StepWidth: 1, MinHeight: 16, MaxHeight: 8192, StepHeight: 1}}}
		}
		for _, s := range sizes {
			sc := SizeCaps{
				MinWidth: int(s.Size.MinWidth), MaxWidth: int(s.Size.MaxWidth), StepWidth: int(s.Size.StepWidth),
				MinHeight: int(s.Size.MinHeight), MaxHeight: int(s.Size.MaxHeight), StepHeight: int(s.Size.StepHeight),
			}
			switch s.Type {
			case go4vl.FrameSizeTypeDiscrete:
				sc.StepWidth, sc.StepHeight = 0, 0
			case go4vl.FrameSizeTypeContinuous:
				sc.StepWidth, sc.StepHeight = 1, 1
			}
			w, h := sc.fit(want.Width, want.Height)
			sc.Intervals = queryIntervals(fdp, desc.PixelFormat, w, h)
			fc.Sizes = append(fc.Sizes, sc)
		}
		caps = append(caps, fc)
	}
	return caps
}

func queryIntervals(fd uintptr, pixel uint32, width, height int) []IntervalRange {
	var out []IntervalRange
	for i := range uint32(64) { // bounded: a broken driver must not loop us
		e, err := go4vl.GetFormatFrameInterval(fd, i, pixel, uint32(width), uint32(height))
		if err != nil {
			break
		}
		r := IntervalRange{
			Min: Interval{int(e.Interval.Min.Numerator), int(e.Interval.Min.Denominator)},
			Max: Interval{int(e.Interval.Max.Numerator), int(e.Interval.Max.Denominator)},
		}
		if e.Type == go4vl.FrameIntervalTypeStepwise {
			r.Step = Interval{int(e.Interval.Step.Numerator), int(e.Interval.Step.Denominator)}
		}
		out = append(out, r)
		if e.Type != go4vl.FrameIntervalTypeDiscrete {
			break // one range describes them all
		}
	}
	return out
}

// ReadFrame waits for the next captured frame. The previous frame's
// buffer goes back to the driver first. A camera unplugged mid-stream
// gives an error wrapping ErrGone; after Close, ErrClosed.
func (d *Device) ReadFrame(ctx context.Context) (camera.Frame, error) {
	if err := ctx.Err(); err != nil {
		return camera.Frame{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		_ = d.release() // the last frame is given back now (see stopForContext); Close returns its error
		return camera.Frame{}, fmt.Errorf("read %s: %w", d.info.Path, camera.ErrClosed)
	}
	if d.gone != nil {
		return camera.Frame{}, d.gone
	}
	if d.held >= 0 {
		idx := d.held
		d.held = -1
		if _, err := go4vl.QueueBuffer(uintptr(d.fd), go4vl.IOTypeMMAP, go4vl.BufTypeVideoCapture, uint32(idx)); err != nil {
			return camera.Frame{}, d.streamError("queue buffer", err)
		}
	}
	stop := context.AfterFunc(ctx, d.wake)
	defer stop()
	deviceError := false
	for {
		buf, err := go4vl.DequeueBuffer(uintptr(d.fd), go4vl.IOTypeMMAP, go4vl.BufTypeVideoCapture)
		switch {
		case err == nil:
			f, ok, err := d.frameFrom(buf)
			if err != nil {
				return camera.Frame{}, err
			}
			if ok {
				return f, nil
			}
			deviceError = false
			continue // an empty or damaged buffer went back; wait for the next
		case !errors.Is(err, unix.EAGAIN):
			return camera.Frame{}, d.streamError("dequeue", err)
		case deviceError:
			// poll said error, yet nothing to dequeue: the stream is dead.
			return camera.Frame{}, d.streamError("poll", unix.EIO)
		}
		fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}, {Fd: int32(d.wakeFD), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return camera.Frame{}, fmt.Errorf("read %s: poll: %w", d.info.Path, err)
		}
		if fds[1].Revents != 0 {
			var b [8]byte
			_, _ = unix.Read(d.wakeFD, b[:]) // drain; the reason is checked below
			if d.closed.Load() {
				_ = d.release() // Close returns its error
				return camera.Frame{}, fmt.Errorf("read %s: %w", d.info.Path, camera.ErrClosed)
			}
			if err := ctx.Err(); err != nil {
				return camera.Frame{}, err
			}
		}
		if fds[0].Revents&unix.POLLNVAL != 0 {
			return camera.Frame{}, d.streamError("poll", unix.EBADF)
		}
		deviceError = fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 && fds[0].Revents&unix.POLLIN == 0
	}
}

// frameFrom turns a dequeued buffer into a Frame; false (buffer requeued)
// when it holds nothing usable. A buffer the driver does not take back is
// an error as in ReadFrame's own requeue: left out, the queue would shrink
// with every damaged frame until capture stalls.
func (d *Device) frameFrom(buf go4vl.Buffer) (camera.Frame, bool, error) {
	var mono unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono) // fails only for an unknown clock
	nowWall := time.Now()
	if int(buf.Index) >= len(d.buffers) {
		d.log.Warn("camera returned an unknown buffer", "index", buf.Index)
		return camera.Frame{}, false, nil
	}
	if buf.Flags&go4vl.BufFlagError != 0 || buf.BytesUsed == 0 {
		d.log.Debug("camera frame dropped", "seq", buf.Sequence, "flags", fmt.Sprintf("%#x", buf.Flags), "bytes", buf.BytesUsed)
		if _, err := go4vl.QueueBuffer(uintptr(d.fd), go4vl.IOTypeMMAP, go4vl.BufTypeVideoCapture, buf.Index); err != nil {
			return camera.Frame{}, false, d.streamError("queue buffer", err)
		}
		return camera.Frame{}, false, nil
	}
	if buf.Sequence < d.lastSeq {
		d.seqHigh += 1 << 32
	}
	d.lastSeq = buf.Sequence
	data := d.buffers[buf.Index]
	data = data[:min(int(buf.BytesUsed), len(data))]
	d.held = int(buf.Index)
	var exported *camera.DMABuf
	if int(buf.Index) < len(d.exports) {
		exported = &d.exports[buf.Index] // into the device's slice: no allocation per frame
	}
	return camera.Frame{
		Format: d.format,
		Data:   data,
		Seq:    d.seqHigh + uint64(buf.Sequence),
		Time:   captureTime(buf.Flags, int64(buf.Timestamp.Sec), int64(buf.Timestamp.Usec), nowWall, time.Duration(mono.Nano())),
		DMABuf: exported,
	}, true, nil
}

// captureTime converts a V4L2 buffer timestamp to wall time. Drivers stamp
// buffers on CLOCK_MONOTONIC (V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC); go4vl
// hands the raw timeval over, and we shift it by how long ago it was on
// that clock. Other clocks, a missing stamp, or one that is implausibly
// old or in the future: the time of dequeue.
func captureTime(flags uint32, sec, usec int64, nowWall time.Time, nowMono time.Duration) time.Time {
	if flags&go4vl.BufFlagTimestampMask != go4vl.BufFlagTimestampMonotonic || (sec == 0 && usec == 0) {
		return nowWall
	}
	age := nowMono - (time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond)
	if age < 0 || age > 5*time.Second {
		return nowWall
	}
	return nowWall.Add(-age)
}

// streamError wraps an error from the streaming ioctls. go4vl folds
// ENODEV, EIO, ENXIO and EBADF into go4vl.ErrorSystem; on a streaming
// capture node they all mean the stream is dead (an unplugged USB camera
// gives EIO from DQBUF, then ENODEV), so they become ErrGone and stick.
func (d *Device) streamError(step string, err error) error {
	if errors.Is(err, go4vl.ErrorSystem) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EIO) || errors.Is(err, unix.EBADF) {
		d.gone = fmt.Errorf("read %s: %w (%s: %w)", d.info.Path, camera.ErrGone, step, err)
		d.log.Warn("camera gone", "err", err)
		return d.gone
	}
	return fmt.Errorf("read %s: %s: %w", d.info.Path, step, err)
}

func (d *Device) wake() {
	d.wakeMu.Lock()
	defer d.wakeMu.Unlock()
	if d.wakeFD >= 0 {
		var one [8]byte // eventfd takes a host-order uint64 to add
		binary.NativeEndian.PutUint64(one[:], 1)
		_, _ = unix.Write(d.wakeFD, one[:]) // fails only when the counter is full: a wake is pending anyway
	}
}

// Close stops streaming, returns the buffers and closes the device. A
// ReadFrame blocked in another goroutine returns ErrClosed. The caller
// must be done with the last frame's Data. Safe to call more than once.
func (d *Device) Close() error {
	d.closed.Store(true)
	d.wake()
	if stop := d.stopLifetime.Load(); stop != nil {
		(*stop)()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.release()
}

// stopForContext ends the stream when Open's context is cancelled. It runs
// on a goroutine of its own, perhaps while the reader still encodes the
// last frame straight from the driver's buffer: a blocked ReadFrame
// returns ErrClosed, but the buffers are unmapped only once no frame is
// out (now, or at the reader's next ReadFrame or Close), never under the
// reader's feet.
func (d *Device) stopForContext() {
	d.closed.Store(true)
	d.wake()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.held < 0 {
		_ = d.release() // Close returns its error
	}
}

// release tears the device down once; d.mu must be held.
func (d *Device) release() error {
	if !d.released {
		d.released = true
		d.closeErr = d.teardown()
	}
	return d.closeErr
}

// teardown releases everything start and Open took, in reverse. Errors
// from a device that is already gone are expected and not reported.
func (d *Device) teardown() error {
	var errs []error
	h := &streamHandle{fd: uintptr(d.fd), count: uint32(len(d.buffers))}
	if d.streaming {
		if err := go4vl.StreamOff(h); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", d.info.Path, err))
		}
		d.streaming = false
	}
	// The exports hold the buffers: close them before the buffers go.
	closeExports(d.exports)
	d.exports = nil
	for _, b := range d.buffers {
		_ = unix.Munmap(b) // fails only for memory that mmap did not give
	}
	if len(d.buffers) > 0 {
		_, _ = go4vl.ResetBuffers(h) // free driver buffers now, not at close; a gone device has freed them
	}
	d.buffers, d.held = nil, -1
	if d.fd >= 0 {
		if err := unix.Close(d.fd); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", d.info.Path, err))
		}
		d.fd = -1
	}
	d.wakeMu.Lock()
	if d.wakeFD >= 0 {
		unix.Close(d.wakeFD)
		d.wakeFD = -1
	}
	d.wakeMu.Unlock()
	if d.gone != nil {
		return nil
	}
	return errors.Join(errs...)
}

// streamHandle lets go4vl's buffer helpers (InitBuffers, GetBuffer,
// StreamOn, ...) run on our fd: they take its StreamingDevice interface
// but read only Fd, BufferType, BufferCount and MemIOType.
type streamHandle struct {
	fd    uintptr
	count uint32
}

func (h *streamHandle) Name() string                 { return "" }
func (h *streamHandle) Fd() uintptr                  { return h.fd }
func (h *streamHandle) Capability() go4vl.Capability { return go4vl.Capability{} }
func (h *streamHandle) MemIOType() go4vl.IOType      { return go4vl.IOTypeMMAP }
func (h *streamHandle) GetOutput() <-chan []byte     { return nil }
func (h *streamHandle) SetInput(<-chan []byte)       {}
func (h *streamHandle) Close() error                 { return nil }
func (h *streamHandle) Buffers() [][]byte            { return nil }
func (h *streamHandle) BufferType() go4vl.BufType    { return go4vl.BufTypeVideoCapture }
func (h *streamHandle) BufferCount() uint32          { return h.count }
func (h *streamHandle) Start(context.Context) error  { return nil }
func (h *streamHandle) Stop() error                  { return nil }
