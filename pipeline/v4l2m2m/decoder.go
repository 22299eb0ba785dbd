package v4l2m2m

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"golang.org/x/sys/unix"
)

// DecoderOptions say which device decodes what.
type DecoderOptions struct {
	// Device is the m2m node; Probe finds one.
	Device string
	Codec  media.Codec
	// Width and Height are a hint for the first buffers; the stream's own
	// size (a source-change event) decides.
	Width, Height int
	Logger        *slog.Logger
}

// Decoder is a V4L2 stateful decoder (Documentation/userspace-api/media/v4l/
// dev-decoder.rst): coded frames go to the OUTPUT queue, pictures come back
// on the CAPTURE queue, which is set up when the device has read the
// stream's size (V4L2_EVENT_SOURCE_CHANGE) and set up again when the size
// changes. It implements media.VideoDecoder and is used by one
// goroutine at a time.
type Decoder struct {
	m2m  // out: coded frames in; cap: pictures out
	opts DecoderOptions
	log  *slog.Logger

	raw           queueFormat // the CAPTURE format, once set up
	visible       image.Rectangle
	sourceChanged bool         // a resolution change waits for the LAST buffer
	img           *image.YCbCr // the picture, when it is copied out (NV12, a cropped picture)
	// held is the CAPTURE buffer the last picture Decode returned lies in
	// (an I420 picture is handed out in place), given back to the device
	// at the next Decode or Drain; -1 when none.
	held      int
	bytesUsed [1]int
	frameNo   int64
	// wait is how long Decode waits for a picture after the device took
	// the coded frame, before saying it needs more input.
	wait time.Duration
}

// NewDecoder opens the device and runs the spec's Initialization sequence
// up to the point where the stream's first bytes are needed.
func NewDecoder(opts DecoderOptions) (*Decoder, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	coded := FormatOf(opts.Codec)
	if coded == 0 {
		return nil, fmt.Errorf("v4l2m2m decoder %s: unknown codec %q", opts.Device, opts.Codec)
	}
	m, err := openM2M(opts.Device)
	if err != nil {
		return nil, err
	}
	dec := &Decoder{m2m: m, opts: opts, log: opts.Logger.With("device", opts.Device, "card", m.d.card), wait: 100 * time.Millisecond, held: -1}
	dec.handleEvents = dec.takeEvents
	if err := dec.initialize(coded); err != nil {
		dec.Close()
		return nil, err
	}
	return dec, nil
}

// initialize: 1. the coded format on OUTPUT, 2. OUTPUT buffers and
// streaming, 3. the events that announce the CAPTURE format.
func (dec *Decoder) initialize(coded camera.PixelFormat) error {
	o := dec.opts
	w, h := max(o.Width, 640), max(o.Height, 360)
	got, err := dec.d.setFormat(dec.out.typ, &queueFormat{pixel: coded, width: w, height: h}, max(w*h, 512<<10))
	if err != nil {
		return err
	}
	if got.pixel != coded {
		return fmt.Errorf("%s (%s): does not decode %s (OUTPUT format %s): %w", dec.d.path, dec.d.card, o.Codec, got.pixel, ErrUnsupported)
	}
	if err := dec.d.subscribe(eventSourceChange); err != nil {
		return err
	}
	if err := dec.d.subscribe(eventEOS); err != nil {
		dec.log.Debug("the decoder has no EOS event", "err", err)
	}
	if _, err := dec.out.allocate(4, memoryMMAP); err != nil {
		return err
	}
	return dec.out.streamOn()
}

// setUpCapture is the spec's Capture Setup: read the format the stream
// needs, choose I420 (or NV12) among the formats offered for it, allocate
// and queue the buffers, start streaming.
func (dec *Decoder) setUpCapture() error {
	cur, err := dec.d.setFormat(dec.cap.typ, nil, 0)
	if err != nil {
		return err
	}
	formats, err := dec.d.enumFormats(dec.cap.typ)
	if err != nil {
		return err
	}
	want := cur.pixel
	for _, p := range []camera.PixelFormat{camera.PixelFormatI420, camera.PixelFormatNV12} {
		if containsFormat(formats, p) {
			want = p
			break
		}
	}
	if want != cur.pixel {
		if cur, err = dec.d.setFormat(dec.cap.typ, &queueFormat{pixel: want, width: cur.width, height: cur.height}, 0); err != nil {
			return err
		}
	}
	if cur.pixel != camera.PixelFormatI420 && cur.pixel != camera.PixelFormatNV12 {
		return fmt.Errorf("%s (%s): decodes to %s only, not I420 or NV12: %w", dec.d.path, dec.d.card, cur.pixel, ErrUnsupported)
	}
	if len(cur.planes) == 0 || cur.planes[0].bytesPerLine == 0 {
		return fmt.Errorf("%s (%s): CAPTURE format %s has no line length", dec.d.path, dec.d.card, cur)
	}
	dec.raw = cur
	dec.visible = image.Rect(0, 0, cur.width, cur.height)
	if r, err := dec.composeRect(); err == nil && !r.Empty() && r.In(dec.visible) {
		dec.visible = r
	}
	count := 4
	if c, ok := dec.d.queryControl(cidMinBuffersForCapture); ok {
		if v, err := dec.d.getControl(c.id); err == nil && int(v)+2 > count {
			count = int(v) + 2
		}
	}
	if _, err := dec.cap.allocate(count, memoryMMAP); err != nil {
		return err
	}
	if err := dec.startCapture(); err != nil {
		return err
	}
	dec.img = image.NewYCbCr(image.Rect(0, 0, dec.visible.Dx(), dec.visible.Dy()), image.YCbCrSubsampleRatio420)
	dec.log.Info("hardware decoder streaming", "codec", dec.opts.Codec, "picture", cur.String(), "visible", dec.visible.Size().String())
	return nil
}

// reallocateCapture is the spec's Dynamic Resolution Change: after the
// LAST buffer of the old size, stop CAPTURE, free its buffers, set up again.
func (dec *Decoder) reallocateCapture() error {
	dec.sourceChanged = false
	dec.held = -1 // STREAMOFF takes every buffer back
	if err := dec.cap.streamOff(); err != nil {
		return err
	}
	if err := dec.cap.release(); err != nil {
		return err
	}
	return dec.setUpCapture()
}

func containsFormat(formats []formatDesc, p camera.PixelFormat) bool {
	for _, f := range formats {
		if f.pixel == p {
			return true
		}
	}
	return false
}

// Size is the size of the pictures, once the stream has said it.
func (dec *Decoder) Size() (int, int) { return dec.visible.Dx(), dec.visible.Dy() }

// Decode takes one complete coded frame and returns the picture it
// completes, or nil when the device needs more input. The picture is I420
// and valid until the next Decode, Drain or Close: where the device
// decodes into I420 it is the device's own buffer, not a copy.
func (dec *Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	if dec.closed {
		return nil, fmt.Errorf("%s: decoder is closed", dec.d.path)
	}
	if err := dec.releaseHeld(); err != nil {
		return nil, err
	}
	if len(frame) == 0 {
		return nil, nil
	}
	index, err := dec.freeOutputBuffer(nil)
	if err != nil {
		return nil, err
	}
	mem := dec.out.bufs[index][0]
	if len(frame) > len(mem) {
		return nil, fmt.Errorf("%s (%s): coded frame of %d bytes is larger than the %d-byte buffers", dec.d.path, dec.d.card, len(frame), len(mem))
	}
	copy(mem, frame)
	dec.frameNo++
	dec.bytesUsed[0] = len(frame)
	if err := dec.out.enqueue(index, dec.bytesUsed[:], unix.NsecToTimeval(dec.frameNo*1000), dmabuf{}); err != nil {
		return nil, err
	}
	return dec.collect(index)
}

// collect waits for the picture of the coded frame in OUTPUT buffer
// index, handling events on the way.
func (dec *Decoder) collect(index int) (*image.YCbCr, error) {
	deadline := time.Now().Add(dec.timeout)
	for {
		left := time.Until(deadline)
		if !dec.out.queued[index] {
			// The device has read the frame: a picture follows soon or not
			// at all.
			left = min(left, dec.wait)
		}
		read := !dec.out.queued[index]
		ready, err := dec.await(readyCapture|readyOutput, time.Now().Add(left), "a decoded picture")
		if errors.Is(err, ErrTimeout) && read {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if ready&readyCapture == 0 || !dec.cap.streaming {
			continue
		}
		img, err := dec.takePicture()
		if err != nil || img != nil {
			return img, err
		}
	}
}

// takeEvents takes every pending event: the first source change sets
// the CAPTURE queue up; a later one waits for the LAST buffer.
func (dec *Decoder) takeEvents() error {
	for {
		typ, changes, ok, err := dec.d.dequeueEvent()
		if err != nil || !ok {
			return err
		}
		if typ != eventSourceChange || changes&srcChangeResolution == 0 {
			continue
		}
		if !dec.cap.streaming {
			if err := dec.setUpCapture(); err != nil {
				return err
			}
		} else {
			dec.sourceChanged = true
		}
	}
}

// takePicture dequeues one CAPTURE buffer; a picture is copied into the
// decoder's image and the buffer given back.
func (dec *Decoder) takePicture() (*image.YCbCr, error) {
	b, ok, err := dec.cap.dequeue()
	if errors.Is(err, errLastBuffer) {
		if dec.sourceChanged {
			return nil, dec.reallocateCapture()
		}
		return nil, nil
	}
	if err != nil || !ok {
		return nil, err
	}
	if b.flags&bufFlagLast != 0 {
		if dec.sourceChanged {
			if err := dec.takeEvents(); err != nil {
				return nil, err
			}
			return nil, dec.reallocateCapture()
		}
		// A drain's end: the decoder goes on with a START.
		if b.bytesUsed == 0 {
			return nil, dec.requeue(b.index)
		}
	}
	if b.flags&bufFlagError != 0 || b.bytesUsed == 0 {
		if err := dec.requeue(b.index); err != nil {
			return nil, err
		}
		if b.flags&bufFlagError != 0 {
			return nil, dec.failed(b)
		}
		return nil, nil
	}
	if img, ok := dec.inPlace(b); ok {
		dec.held = b.index
		return img, nil
	}
	if err := dec.copyOut(b); err != nil {
		return nil, err
	}
	return dec.img, dec.requeue(b.index)
}

// inPlace views an I420 picture where the device decoded it, in CAPTURE
// buffer b; false (copy it out) for NV12 or a picture cropped off the
// buffer's top left.
func (dec *Decoder) inPlace(b dequeued) (*image.YCbCr, bool) {
	if dec.raw.pixel != camera.PixelFormatI420 || dec.visible.Min != (image.Point{}) {
		return nil, false
	}
	p, err := dec.pictureOf(b)
	if err != nil {
		return nil, false
	}
	return &image.YCbCr{
		Y: p.planes[0].data, Cb: p.planes[1].data, Cr: p.planes[2].data,
		YStride: p.planes[0].stride, CStride: p.planes[1].stride,
		SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, p.width, p.height),
	}, true
}

// releaseHeld gives the buffer of the last picture back to the device.
func (dec *Decoder) releaseHeld() error {
	if dec.held < 0 {
		return nil
	}
	index := dec.held
	dec.held = -1
	return dec.requeue(index)
}

// ErrCorruptFrame: the device decoded a frame into a buffer it marked as
// failed (a corrupt frame, or one whose reference is missing). The
// decoder itself is fine and recovers at the next keyframe; any other
// error from Decode means the device is not.
var ErrCorruptFrame = errors.New("corrupt frame or missing reference")

// failed is the error of a CAPTURE buffer the device marked as failed.
func (dec *Decoder) failed(b dequeued) error {
	return fmt.Errorf("%s (%s): the device could not decode frame %d: %w", dec.d.path, dec.d.card, b.sequence, ErrCorruptFrame)
}

func (dec *Decoder) requeue(index int) error {
	if !dec.cap.streaming {
		return nil
	}
	return dec.cap.enqueue(index, nil, unix.Timeval{}, dmabuf{})
}

// pictureOf is the picture in CAPTURE buffer b, up to the visible
// rectangle's bottom right.
func (dec *Decoder) pictureOf(b dequeued) (picture, error) {
	planes := dec.cap.bufs[b.index]
	mem := make([][]byte, len(planes))
	copy(mem, planes)
	if len(mem) == 1 {
		mem[0] = mem[0][min(max(b.dataOffset, 0), len(mem[0])):]
	}
	w, h := dec.visible.Max.X, dec.visible.Max.Y
	p, err := pictureIn(dec.raw.pixel, w, h, dec.raw.planes[0].bytesPerLine, dec.raw.height, mem...)
	if err != nil {
		return picture{}, fmt.Errorf("%s (%s): decoded picture: %w", dec.d.path, dec.d.card, err)
	}
	return p, nil
}

func (dec *Decoder) copyOut(b dequeued) error {
	src, err := dec.pictureOf(b)
	if err != nil {
		return err
	}
	return copyPicture(imagePicture(dec.img), src)
}

// Drain is the spec's Drain: V4L2_DEC_CMD_STOP, then every picture still
// inside the decoder up to the LAST buffer (each a copy); then decoding
// goes on. A picture the device could not decode is left out and its
// error returned with the others.
func (dec *Decoder) Drain() ([]*image.YCbCr, error) {
	if !dec.cap.streaming {
		return nil, nil
	}
	if err := dec.releaseHeld(); err != nil {
		return nil, err
	}
	var pics []*image.YCbCr
	err := dec.drain(func() error { return dec.d.decoderCommand(decCmdStop) }, func(b dequeued) error {
		if b.flags&bufFlagError != 0 {
			return dec.failed(b)
		}
		if b.bytesUsed == 0 {
			return nil
		}
		if err := dec.copyOut(b); err != nil {
			return err
		}
		c := *dec.img
		c.Y, c.Cb, c.Cr = bytes.Clone(c.Y), bytes.Clone(c.Cb), bytes.Clone(c.Cr)
		pics = append(pics, &c)
		return nil
	})
	return pics, err
}
