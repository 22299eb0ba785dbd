package v4l2m2m

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"golang.org/x/sys/unix"
)

// EncoderOptions say which device encodes what. Width, Height and FPS are
// the camera's; the device may round the size up (the excess is cropped
// away) but never down.
type EncoderOptions struct {
	// Device is the m2m node, e.g. /dev/video11; Probe finds one.
	Device string
	// Codec is what to produce: H264, VP8, or FWHT on the lab's vicodec.
	Codec            media.Codec
	Width, Height    int
	FPS              int
	BitsPerSecond    int
	KeyframeInterval int
	// Pixel is the raw format frames will come in. If the device does not
	// take it, the encoder takes I420, NV12 or YUYV (its first of them) and
	// Accepts says so; 0 means the same.
	Pixel camera.PixelFormat
	// DMABUF makes the OUTPUT queue import the camera's buffers (a frame's
	// camera.Frame.DMABuf, from device/camera/v4l2's ExportDMABUF) instead
	// of copying the picture. Where the device refuses, or a frame's
	// buffer does not fit (another pixel format or line layout, or no
	// exported buffer at all), the encoder logs why once and copies into
	// its own buffers from then on.
	DMABUF bool
	Logger *slog.Logger
}

// Encoder is a V4L2 stateful encoder (Documentation/userspace-api/media/v4l/
// dev-encoder.rst) driven one frame at a time: Encode queues a raw frame on
// the OUTPUT queue and waits for its coded frame on the CAPTURE queue. It
// implements media.VideoEncoder. In steady state it allocates nothing
// per frame. Encode, Submit, Drain, Reset and Close are for one goroutine;
// ForceKeyFrame and SetBitrate are safe from any.
type Encoder struct {
	m2m   // out: raw frames in; cap: coded frames out
	opts  EncoderOptions
	log   *slog.Logger
	codec media.Codec
	raw   queueFormat // the OUTPUT format
	// dmabufRefused is why DMABUF import is not used, when it was asked for.
	dmabufRefused string
	// slotFD is, per OUTPUT buffer, the DMABUF last queued in it: a camera
	// buffer goes back to the slot it had, where the driver still has it
	// attached (vb2 re-imports only when a slot's buffer changes).
	slotFD  []int
	imports int // frames handed over as DMABUF, for the tests

	hasForceKeyFrame bool
	hasBitrate       bool
	bitrateRange     control

	forceKeyframe  atomic.Bool
	bitrate        atomic.Int64
	appliedBitrate int64
	saidNoBitrate  bool

	frameNo   int64
	bytesUsed [3]int
	coded     []byte // the last coded frame, reused
	header    []byte // a header-only buffer (SPS/PPS) waiting for its picture
	pending   []media.EncodedFrame
	captured  [32]stampedTime // capture times of submitted frames, by frame number
}

// NewEncoder opens the device and runs the spec's Initialization sequence.
func NewEncoder(opts EncoderOptions) (*Encoder, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if FormatOf(opts.Codec) == 0 {
		return nil, fmt.Errorf("v4l2m2m encoder %s: unknown codec %q", opts.Device, opts.Codec)
	}
	if opts.Width <= 0 || opts.Height <= 0 || opts.Width%2 != 0 || opts.Height%2 != 0 {
		return nil, fmt.Errorf("v4l2m2m encoder %s: picture size %dx%d must be positive and even", opts.Device, opts.Width, opts.Height)
	}
	if opts.FPS <= 0 {
		opts.FPS = 30
	}
	if opts.KeyframeInterval <= 0 {
		opts.KeyframeInterval = 4 * opts.FPS
	}
	m, err := openM2M(opts.Device)
	if err != nil {
		return nil, err
	}
	e := &Encoder{m2m: m, opts: opts, log: opts.Logger.With("device", opts.Device, "card", m.d.card), codec: opts.Codec}
	e.bitrate.Store(int64(opts.BitsPerSecond))
	e.appliedBitrate = int64(opts.BitsPerSecond)
	if err := e.initialize(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// initialize is the spec's Initialization: coded format on CAPTURE, raw
// format on OUTPUT, frame interval, controls, buffers, streaming.
func (e *Encoder) initialize() error {
	o := e.opts
	coded := FormatOf(o.Codec)
	// 1. The coded format on CAPTURE; a buffer big enough for a keyframe.
	got, err := e.d.setFormat(e.cap.typ, &queueFormat{pixel: coded, width: o.Width, height: o.Height}, max(o.Width*o.Height, 256<<10))
	if err != nil {
		return err
	}
	if got.pixel != coded {
		return fmt.Errorf("%s (%s): does not encode %s (CAPTURE format %s): %w", e.d.path, e.d.card, o.Codec, got.pixel, ErrUnsupported)
	}
	// 2. The raw formats it takes for that coded format.
	formats, err := e.d.enumFormats(e.out.typ)
	if err != nil {
		return err
	}
	pixel, err := pickRaw(formats, o.Pixel)
	if err != nil {
		return fmt.Errorf("%s (%s): %w", e.d.path, e.d.card, err)
	}
	// 3. The raw format on OUTPUT.
	raw, err := e.d.setFormat(e.out.typ, &queueFormat{pixel: pixel, width: o.Width, height: o.Height}, 0)
	if err != nil {
		return err
	}
	if raw.pixel != pixel {
		return fmt.Errorf("%s (%s): refuses raw format %s (gave %s): %w", e.d.path, e.d.card, pixel, raw.pixel, ErrUnsupported)
	}
	if raw.width < o.Width || raw.height < o.Height {
		return fmt.Errorf("%s (%s): %dx%d is too large, the most it takes is %dx%d: %w",
			e.d.path, e.d.card, o.Width, o.Height, raw.width, raw.height, ErrUnsupported)
	}
	if len(raw.planes) == 0 || raw.planes[0].bytesPerLine == 0 {
		return fmt.Errorf("%s (%s): OUTPUT format %s has no line length", e.d.path, e.d.card, raw)
	}
	e.raw = raw
	// 4. The frame interval.
	if fps, err := e.d.setFrameRate(o.FPS); err != nil {
		e.log.Debug("the encoder does not take a frame rate", "err", err)
	} else if fps > 0 && int(fps+0.5) != o.FPS {
		e.log.Info("the encoder set another frame rate", "want", o.FPS, "got", fps)
	}
	// 6. The visible size, when the device rounded the coded size up.
	if raw.width != o.Width || raw.height != o.Height {
		if err := e.setCrop(o.Width, o.Height); err != nil {
			e.log.Warn("the encoder pads the picture; receivers see the padding", "size", raw, "err", err)
		}
	}
	e.setControls()
	// 7. Buffers.
	outCount := 4
	if c, ok := e.d.queryControl(cidMinBuffersForOutput); ok {
		if v, err := e.d.getControl(c.id); err == nil && int(v)+2 > outCount {
			outCount = int(v) + 2
		}
	}
	memory := uint32(memoryMMAP)
	if o.DMABUF {
		memory = memoryDMABUF
	}
	if n, err := e.out.allocate(outCount, memory); err != nil {
		if memory != memoryDMABUF {
			return err
		}
		e.refuseDMABUF(err.Error())
		if _, err := e.out.allocate(outCount, memoryMMAP); err != nil {
			return err
		}
	} else if memory == memoryDMABUF {
		e.slotFD = make([]int, n)
		for i := range e.slotFD {
			e.slotFD[i] = -1
		}
	}
	if _, err := e.cap.allocate(4, memoryMMAP); err != nil {
		return err
	}
	// 8. Streaming.
	if err := e.out.streamOn(); err != nil {
		return err
	}
	if err := e.startCapture(); err != nil {
		return err
	}
	e.log.Info("hardware encoder ready", "codec", o.Codec, "raw", raw.String(),
		"fps", o.FPS, "bitrate", o.BitsPerSecond, "memory", memoryName(e.out.memory),
		"force_keyframe", e.keyframeMethod(), "bitrate_control", e.hasBitrate)
	return nil
}

// ErrUnsupported is returned when the device cannot do what was asked: a
// codec, a raw format or a size.
var ErrUnsupported = errors.New("not supported by the device")

// pickRaw chooses the OUTPUT format: want if the device takes it, else the
// first of the formats the pipeline can give.
func pickRaw(formats []formatDesc, want camera.PixelFormat) (camera.PixelFormat, error) {
	takes := func(p camera.PixelFormat) bool {
		for _, f := range formats {
			if f.pixel == p && !f.compressed {
				return true
			}
		}
		return false
	}
	if want != 0 && takes(want) {
		if _, ok := layoutOf(want); ok {
			return want, nil
		}
	}
	for _, p := range []camera.PixelFormat{camera.PixelFormatI420, camera.PixelFormatNV12, camera.PixelFormatYUYV} {
		if takes(p) {
			return p, nil
		}
	}
	var names []string
	for _, f := range formats {
		names = append(names, f.pixel.String())
	}
	return 0, fmt.Errorf("takes none of I420, NV12, YUYV (it takes %v): %w", names, ErrUnsupported)
}

func (e *Encoder) setCrop(width, height int) error {
	s := v4l2Selection{typ: e.out.typ, target: selTgtCrop, r: v4l2Rect{width: uint32(width), height: uint32(height)}}
	if e.d.mplane {
		// VIDIOC_S_SELECTION takes the single-planar type for both APIs.
		s.typ = bufTypeVideoOutput
	}
	if err := ioctlSelection(e.d, &s); err != nil {
		return err
	}
	if int(s.r.width) != width || int(s.r.height) != height {
		return fmt.Errorf("crop %dx%d became %dx%d", width, height, s.r.width, s.r.height)
	}
	return nil
}

// setControls applies the encoding parameters the device has controls for;
// a missing or refused control is logged, not fatal.
func (e *Encoder) setControls() {
	o := e.opts
	try := func(id uint32, value int32, what string) bool {
		c, ok := e.d.queryControl(id)
		if !ok {
			e.log.Debug("the encoder has no control for "+what, "value", value)
			return false
		}
		if value < c.min || value > c.max {
			e.log.Info("the encoder's "+what+" control does not reach the value; using its limit",
				"want", value, "min", c.min, "max", c.max)
			value = min(max(value, c.min), c.max)
		}
		if err := e.d.setControl(id, value); err != nil {
			e.log.Warn("the encoder refused a control", "control", what, "value", value, "err", err)
			return false
		}
		return true
	}
	if _, ok := e.d.queryControl(cidBitrateMode); ok {
		if !try(cidBitrateMode, bitrateModeCBR, "bitrate mode CBR") {
			try(cidBitrateMode, bitrateModeVBR, "bitrate mode VBR")
		}
	}
	if c, ok := e.d.queryControl(cidBitrate); ok {
		e.hasBitrate, e.bitrateRange = true, c
		try(cidBitrate, int32(o.BitsPerSecond), "bitrate")
	}
	try(cidGOPSize, int32(o.KeyframeInterval), "GOP size")
	if o.Codec == media.CodecH264 {
		try(cidH264IPeriod, int32(o.KeyframeInterval), "H.264 I-frame period")
		try(cidH264Profile, h264ProfileConstrainedBaseline, "H.264 profile constrained baseline")
		// The level x264 writes for the same settings; a driver whose
		// range stops below it is given its highest (try clamps).
		level, ok := media.H264LevelFor(o.Width, o.Height, o.FPS, o.BitsPerSecond/1000)
		if !ok {
			level = media.MaxH264Level
		}
		try(cidH264Level, v4l2H264Level[level], "H.264 level "+level.String())
		// Every keyframe must carry SPS and PPS: a receiver that joins late
		// or asks for a keyframe starts from it.
		if !try(cidRepeatSeqHeader, 1, "repeat sequence header") {
			try(cidPrependSPSPPSToIDR, 1, "prepend SPS/PPS to IDR")
		}
	}
	_, e.hasForceKeyFrame = e.d.queryControl(cidForceKeyFrame)
}

func (e *Encoder) keyframeMethod() string {
	if e.hasForceKeyFrame {
		return "V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME"
	}
	return "reset (CAPTURE STREAMOFF/STREAMON)"
}

func (e *Encoder) refuseDMABUF(why string) {
	if e.dmabufRefused == "" {
		e.log.Warn("DMABUF import refused; copying frames into the encoder's own buffers", "reason", why)
	}
	e.dmabufRefused = why
}

// DMABUFRefused says why DMABUF import is not in use ("" when it is, or
// was not asked for).
func (e *Encoder) DMABUFRefused() string { return e.dmabufRefused }

// Codec is what the device produces, as it is: FWHT on vicodec is FWHT.
func (e *Encoder) Codec() media.Codec { return e.codec }

// Accepts reports whether Encode takes p as it is: the OUTPUT format, and
// I420 and NV12 for each other (converted while copying).
func (e *Encoder) Accepts(p camera.PixelFormat) bool {
	if p == e.raw.pixel {
		return true
	}
	yuv420 := func(p camera.PixelFormat) bool { return p == camera.PixelFormatI420 || p == camera.PixelFormatNV12 }
	return yuv420(p) && yuv420(e.raw.pixel)
}

// RawFormat is the negotiated OUTPUT format and size.
func (e *Encoder) RawFormat() (camera.PixelFormat, int, int) {
	return e.raw.pixel, e.raw.width, e.raw.height
}

// ForceKeyFrame makes the next encoded frame a keyframe.
func (e *Encoder) ForceKeyFrame() { e.forceKeyframe.Store(true) }

// SetBitrate changes the target bitrate from the next frame on, where the
// device has a bitrate control.
func (e *Encoder) SetBitrate(bitsPerSecond int) { e.bitrate.Store(int64(bitsPerSecond)) }

// HasBitrateControl reports whether the device takes a target bitrate.
func (e *Encoder) HasBitrateControl() bool { return e.hasBitrate }

// applyRequests turns keyframe and bitrate requests into controls, before
// the next frame is queued.
func (e *Encoder) applyRequests() error {
	if b := e.bitrate.Load(); b != e.appliedBitrate && b > 0 {
		if !e.hasBitrate {
			if !e.saidNoBitrate {
				e.log.Info("the encoder has no bitrate control; its output keeps its own rate", "want", b)
				e.saidNoBitrate = true
			}
			e.appliedBitrate = b
		} else {
			v := min(max(int32(min(b, 1<<31-1)), e.bitrateRange.min), e.bitrateRange.max)
			if err := e.d.setControl(cidBitrate, v); err != nil {
				if errors.Is(err, ErrGone) {
					return err
				}
				e.log.Warn("the encoder refused a bitrate change", "bitrate", v, "err", err)
			}
			e.appliedBitrate = b
		}
	}
	if e.forceKeyframe.Swap(false) {
		if e.hasForceKeyFrame {
			if err := e.d.setControl(cidForceKeyFrame, 1); err != nil {
				return err
			}
		} else if err := e.Reset(); err != nil {
			return err
		}
	}
	return nil
}

// Encode codes one picture of the size the encoder was opened with and
// returns its coded frame; Data is valid until the next call. With DMABUF
// the device reads the picture from the camera's buffer (f.DMABuf) and is
// done with it when Encode returns: the camera may reuse the buffer then.
func (e *Encoder) Encode(f camera.Frame) (media.EncodedFrame, error) {
	if err := e.Submit(f); err != nil {
		return media.EncodedFrame{}, err
	}
	coded, err := e.next()
	if err != nil {
		return media.EncodedFrame{}, err
	}
	if err := e.awaitImports(); err != nil {
		return media.EncodedFrame{}, err
	}
	return coded, nil
}

// awaitImports waits until the device has given back every OUTPUT buffer
// that holds an imported camera buffer. A coded frame says the encoder
// has read its picture, but not that the OUTPUT buffer is back: vicodec
// returns both at once, real encoders may return the OUTPUT buffer later.
// The camera requeues its buffer on the next ReadFrame, so that must not
// happen while the encoder can still read it. A device that holds on to
// the buffer for longer than the timeout has the import taken from it
// (STREAMOFF on OUTPUT returns every buffer) and gets copies from then on.
func (e *Encoder) awaitImports() error {
	if e.out.memory != memoryDMABUF {
		return nil
	}
	deadline := time.Now().Add(e.timeout)
	for e.out.busy() > 0 {
		ready, err := e.d.wait(readyOutput, time.Until(deadline))
		if err != nil {
			return err
		}
		if ready == 0 {
			e.refuseDMABUF(fmt.Sprintf("the encoder kept the camera's buffer for more than %v after coding it", e.timeout))
			return e.switchOutputToMMAP()
		}
		if err := e.reclaimOutput(); err != nil {
			return err
		}
	}
	return nil
}

// Submit queues one picture without waiting for its coded frame: for
// pipelining and for Drain. Coded frames that come back while it waits for
// a free buffer are kept for Drain. A picture imported as DMABUF (see
// Encode) is read by the device until its coded frame is back: the
// caller keeps the camera's buffer until then.
func (e *Encoder) Submit(f camera.Frame) error {
	if e.closed {
		return fmt.Errorf("%s: encoder is closed", e.d.path)
	}
	if f.Format.Width != e.opts.Width || f.Format.Height != e.opts.Height {
		return fmt.Errorf("%s (%s): frame is %dx%d, the encoder was set up for %dx%d",
			e.d.path, e.d.card, f.Format.Width, f.Format.Height, e.opts.Width, e.opts.Height)
	}
	if !e.Accepts(f.Format.Pixel) {
		return fmt.Errorf("%s (%s): frame is %s, the encoder takes %s: %w", e.d.path, e.d.card, f.Format.Pixel, e.raw.pixel, ErrUnsupported)
	}
	if err := e.applyRequests(); err != nil {
		return err
	}
	index, err := e.freeOutputBuffer(e.keepCoded)
	if err != nil {
		return err
	}
	e.frameNo++
	stamp := unix.NsecToTimeval(e.frameNo * 1000) // frame n at n µs: the driver copies it to the coded frame
	e.captured[e.frameNo%int64(len(e.captured))] = stampedTime{e.frameNo, f.Time}
	if e.out.memory == memoryDMABUF {
		if why := e.dmabufMismatch(f); why == "" {
			index = e.importSlot(f.DMABuf.FD, index)
			err := e.out.enqueue(index, e.rawSizes(), stamp, dmabuf{f.DMABuf.FD, f.DMABuf.Length})
			if err == nil {
				e.slotFD[index] = f.DMABuf.FD
				e.imports++
				return nil
			}
			if errors.Is(err, ErrGone) {
				return err
			}
			e.refuseDMABUF(err.Error())
		} else {
			e.refuseDMABUF(why)
		}
		if err := e.switchOutputToMMAP(); err != nil {
			return err
		}
		if index, err = e.freeOutputBuffer(e.keepCoded); err != nil {
			return err
		}
	}
	if err := e.fill(index, f); err != nil {
		return err
	}
	return e.out.enqueue(index, e.rawSizes(), stamp, dmabuf{})
}

// importSlot is the free OUTPUT buffer that last held the DMABUF fd, or
// free (a free one) if none did.
func (e *Encoder) importSlot(fd, free int) int {
	for i, slot := range e.slotFD {
		if slot == fd && !e.out.queued[i] {
			return i
		}
	}
	return free
}

// dmabufMismatch says why f's buffer cannot be handed over as it is.
func (e *Encoder) dmabufMismatch(f camera.Frame) string {
	buf := f.DMABuf
	if buf == nil {
		return "the frame comes without the camera's buffer (the camera does not export its buffers, or the picture was converted or scaled on the way)"
	}
	if !buf.Holds(f.Data) {
		// The pipeline converted or scaled the picture: f.Data is no longer
		// what the camera's buffer holds.
		return "the frame's picture is not the camera's buffer (it was converted or scaled on the way)"
	}
	stride := f.Format.Stride
	if l, ok := layoutOf(f.Format.Pixel); ok && stride == 0 {
		stride = f.Format.Width * l.bytesPerPixel
	}
	switch {
	case f.Format.Pixel != e.raw.pixel:
		return fmt.Sprintf("the camera gives %s, the encoder takes %s", f.Format.Pixel, e.raw.pixel)
	case len(e.raw.planes) != 1:
		return fmt.Sprintf("the encoder wants %d separate planes", len(e.raw.planes))
	case stride != e.raw.planes[0].bytesPerLine || f.Format.Height != e.raw.height:
		return fmt.Sprintf("line lengths differ: camera %d bytes x %d lines, encoder %d x %d",
			stride, f.Format.Height, e.raw.planes[0].bytesPerLine, e.raw.height)
	case buf.Length < e.raw.planes[0].sizeImage:
		return fmt.Sprintf("the buffer has %d bytes, the encoder wants %d", buf.Length, e.raw.planes[0].sizeImage)
	}
	return ""
}

// switchOutputToMMAP gives up DMABUF import: a pair of STREAMOFF and
// STREAMON on OUTPUT, which the spec says resumes encoding as before.
func (e *Encoder) switchOutputToMMAP() error {
	if err := e.out.streamOff(); err != nil {
		return err
	}
	if err := e.out.release(); err != nil {
		return err
	}
	if _, err := e.out.allocate(max(len(e.slotFD), 4), memoryMMAP); err != nil {
		return err
	}
	return e.out.streamOn()
}

func (e *Encoder) rawSizes() []int {
	for i := range e.bytesUsed {
		e.bytesUsed[i] = 0
	}
	for i, p := range e.raw.planes {
		if i < len(e.bytesUsed) {
			e.bytesUsed[i] = p.sizeImage
		}
	}
	return e.bytesUsed[:max(len(e.raw.planes), 1)]
}

// fill copies f into OUTPUT buffer index, in the device's line layout.
func (e *Encoder) fill(index int, f camera.Frame) error {
	src, err := framePicture(f)
	if err != nil {
		return fmt.Errorf("%s (%s): frame %d: %w", e.d.path, e.d.card, f.Seq, err)
	}
	dst, err := pictureIn(e.raw.pixel, e.opts.Width, e.opts.Height, e.raw.planes[0].bytesPerLine, e.raw.height, e.out.bufs[index]...)
	if err != nil {
		return fmt.Errorf("%s (%s): OUTPUT buffer: %w", e.d.path, e.d.card, err)
	}
	return copyPicture(dst, src)
}

// keepCoded takes a coded frame that came back while Submit waited for a
// free OUTPUT buffer, and keeps a copy of it for next or Drain.
func (e *Encoder) keepCoded() error {
	f, ok, err := e.takeCoded()
	if ok {
		f.Data = append([]byte(nil), f.Data...)
		e.pending = append(e.pending, f)
	}
	return err
}

// ErrTimeout is returned when the device did not answer in time.
var ErrTimeout = errors.New("the device did not answer")

func errTimeout(d time.Duration) error {
	return fmt.Errorf("nothing in %v: %w", d, ErrTimeout)
}

// next returns the next coded frame: one kept by Submit, or the next one
// from the device.
func (e *Encoder) next() (media.EncodedFrame, error) {
	if len(e.pending) > 0 {
		f := e.pending[0]
		e.pending = e.pending[1:]
		return f, nil
	}
	deadline := time.Now().Add(e.timeout)
	for {
		ready, err := e.await(readyCapture|readyOutput, deadline, "a coded frame")
		if err != nil {
			return media.EncodedFrame{}, err
		}
		if ready&readyCapture == 0 {
			continue
		}
		f, ok, err := e.takeCoded()
		if err != nil {
			return media.EncodedFrame{}, err
		}
		if ok {
			return f, nil
		}
	}
}

// takeCoded dequeues one CAPTURE buffer, copies its frame out (codedFrame)
// and gives the buffer back. ok is false for a buffer with no picture yet
// (nothing ready, or a header that waits for its picture).
func (e *Encoder) takeCoded() (media.EncodedFrame, bool, error) {
	b, ok, err := e.cap.dequeue()
	if err != nil || !ok {
		return media.EncodedFrame{}, false, err
	}
	f, ok, err := e.codedFrame(b)
	if b.flags&bufFlagLast == 0 {
		if err := e.cap.enqueue(b.index, nil, unix.Timeval{}, dmabuf{}); err != nil {
			return media.EncodedFrame{}, false, err
		}
	}
	return f, ok, err
}

// codedFrame copies the coded frame out of dequeued CAPTURE buffer b,
// after the header-only buffer (SPS/PPS) that came before it, if any. ok is
// false when b has no picture: empty, or a header that waits for its
// picture. Data is the encoder's own buffer, valid until the next call.
func (e *Encoder) codedFrame(b dequeued) (media.EncodedFrame, bool, error) {
	data := e.cap.data(b)
	e.coded = append(append(e.coded[:0], e.header...), data...)
	e.header = e.header[:0]
	if b.flags&bufFlagError != 0 {
		return media.EncodedFrame{}, false, e.d.wrap("encoding", fmt.Errorf("the device marked coded frame %d as failed", b.sequence))
	}
	if len(data) == 0 {
		return media.EncodedFrame{}, false, nil
	}
	if e.codec == media.CodecH264 && !h264HasPicture(e.coded) {
		e.header = append(e.header[:0], e.coded...)
		return media.EncodedFrame{}, false, nil
	}
	return media.EncodedFrame{
		Data:     e.coded,
		Keyframe: b.flags&bufFlagKeyframe != 0 || media.IsKeyframe(e.codec, e.coded),
		Captured: e.capturedAt(b.stamp),
		Duration: time.Second / time.Duration(e.opts.FPS),
	}, true, nil
}

type stampedTime struct {
	frameNo int64
	at      time.Time
}

// capturedAt finds when the picture of a coded frame was captured, from
// the timestamp the driver copied from its OUTPUT buffer.
func (e *Encoder) capturedAt(stamp unix.Timeval) time.Time {
	n := stamp.Nano() / 1000
	if c := e.captured[n%int64(len(e.captured))]; c.frameNo == n {
		return c.at
	}
	return time.Time{}
}

// Drain is the spec's Drain sequence: V4L2_ENC_CMD_STOP, then every coded
// frame of the pictures submitted before it, up to the buffer marked LAST
// (each a copy). Afterwards the encoder goes on with a new stream, which
// starts with a keyframe. A frame the device marked as failed is left out
// and its error returned with the others.
func (e *Encoder) Drain() ([]media.EncodedFrame, error) {
	frames := e.pending
	e.pending = nil
	err := e.drain(func() error { return e.d.encoderCommand(encCmdStop) }, func(b dequeued) error {
		f, ok, err := e.codedFrame(b)
		if ok {
			f.Data = append([]byte(nil), f.Data...)
			frames = append(frames, f)
		}
		return err
	})
	e.header = e.header[:0]
	return frames, err
}

// Reset is the spec's Reset sequence: STREAMOFF and STREAMON on CAPTURE.
// The encoder drops what it held and starts a new stream, which begins
// with a keyframe; this is how a keyframe is forced on devices without
// V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME.
func (e *Encoder) Reset() error {
	e.header = e.header[:0]
	return e.restartCapture()
}
