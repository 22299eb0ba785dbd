package pipeline

import (
	"fmt"
	"image"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// VP8Encoder is libvpx (through pion/mediadevices) set up for calls: one
// pass, constant bitrate, realtime deadline, no lag, error resilient.
type VP8Encoder struct {
	enc      codec.ReadCloser
	control  vp8Controller
	settings VideoSettings
	next     *image.YCbCr // the picture the encoder's reader hands out next

	forceKeyframe atomic.Bool
	bitrate       atomic.Int64
	appliedBPS    int
}

type vp8Controller interface {
	codec.KeyFrameController
	codec.BitRateController
}

// NewVP8Encoder opens a libvpx VP8 encoder.
func NewVP8Encoder(s VideoSettings) (*VP8Encoder, error) {
	params, err := vpx.NewVP8Params()
	if err != nil {
		return nil, fmt.Errorf("vp8: %w", err)
	}
	params.BitRate = s.BitsPerSecond
	params.KeyFrameInterval = s.KeyframeInterval
	params.RateControlEndUsage = vpx.RateControlCBR
	params.LagInFrames = 0
	params.ErrorResilient = vpx.ErrorResilientDefault
	params.Deadline = time.Millisecond // VPX_DL_REALTIME is 1 µs; this allows a little more quality at 30 fps

	e := &VP8Encoder{settings: s, appliedBPS: s.BitsPerSecond}
	reader := video.ReaderFunc(func() (image.Image, func(), error) {
		return e.next, func() {}, nil
	})
	enc, err := params.BuildVideoEncoder(reader, prop.Media{Video: prop.Video{
		Width: s.Width, Height: s.Height, FrameRate: float32(s.FPS),
	}})
	if err != nil {
		return nil, fmt.Errorf("vp8: open %dx%d@%d: %w", s.Width, s.Height, s.FPS, err)
	}
	control, ok := enc.(codec.Controllable).Controller().(vp8Controller)
	if !ok {
		enc.Close()
		return nil, fmt.Errorf("vp8: encoder offers no keyframe and bitrate control")
	}
	e.enc, e.control = enc, control
	e.bitrate.Store(int64(s.BitsPerSecond))
	return e, nil
}

func (e *VP8Encoder) Codec() media.Codec { return media.CodecVP8 }

func (e *VP8Encoder) Accepts(p camera.PixelFormat) bool { return p == camera.PixelFormatI420 }

func (e *VP8Encoder) ForceKeyFrame() { e.forceKeyframe.Store(true) }

func (e *VP8Encoder) SetBitrate(bitsPerSecond int) { e.bitrate.Store(int64(bitsPerSecond)) }

// Encode codes one I420 picture of the size the encoder was opened with.
func (e *VP8Encoder) Encode(f camera.Frame) (media.EncodedFrame, error) {
	if e.enc == nil {
		return media.EncodedFrame{}, fmt.Errorf("vp8: encoder is closed")
	}
	if f.Format.Width != e.settings.Width || f.Format.Height != e.settings.Height {
		return media.EncodedFrame{}, fmt.Errorf("vp8: frame is %dx%d, encoder wants %dx%d",
			f.Format.Width, f.Format.Height, e.settings.Width, e.settings.Height)
	}
	img, err := media.I420Image(f)
	if err != nil {
		return media.EncodedFrame{}, fmt.Errorf("vp8: %w", err)
	}
	if bps := int(e.bitrate.Load()); bps != e.appliedBPS {
		if err := e.control.SetBitRate(bps); err != nil {
			return media.EncodedFrame{}, fmt.Errorf("vp8: set bitrate %d: %w", bps, err)
		}
		e.appliedBPS = bps
	}
	if e.forceKeyframe.Swap(false) {
		if err := e.control.ForceKeyFrame(); err != nil {
			return media.EncodedFrame{}, fmt.Errorf("vp8: force a key frame: %w", err)
		}
	}
	e.next = img
	data, release, err := e.enc.Read()
	e.next = nil
	if release != nil {
		release()
	}
	if err != nil {
		return media.EncodedFrame{}, fmt.Errorf("vp8: encode frame %d: %w", f.Seq, err)
	}
	return media.EncodedFrame{
		Data:     data,
		Keyframe: len(data) > 0 && data[0]&1 == 0, // the frame tag's inverse key frame bit (RFC 6386 9.1)
		Captured: f.Time,
		Duration: time.Second / time.Duration(e.settings.FPS),
	}, nil
}

// Close frees the encoder; it is safe to call twice.
func (e *VP8Encoder) Close() error {
	if e.enc == nil {
		return nil
	}
	err := e.enc.Close()
	e.enc = nil
	return err
}
