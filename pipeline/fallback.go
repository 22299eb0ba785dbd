package pipeline

// The way back to software when the hardware fails mid-call: for an
// encoder, and for a simulcast layer's scaler.

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// fallbackEncoder runs the hardware encoder until it fails (the device
// vanished, refused a frame, stopped answering), then opens the software
// one and goes on with the same frame: the call never notices more than a
// keyframe.
type fallbackEncoder struct {
	codec    media.Codec
	cur      atomic.Pointer[media.VideoEncoder]
	software func() (media.VideoEncoder, error)
	choice   EncoderChoice
	log      *slog.Logger
	onChange func(EncoderChoice)
	bitrate  atomic.Int64 // the last asked for, to carry over
	switched bool
}

func newFallbackEncoder(hw media.VideoEncoder, software func() (media.VideoEncoder, error),
	choice EncoderChoice, log *slog.Logger, onChange func(EncoderChoice)) *fallbackEncoder {
	e := &fallbackEncoder{codec: hw.Codec(), software: software, choice: choice, log: log, onChange: onChange}
	e.cur.Store(&hw)
	return e
}

func (e *fallbackEncoder) Codec() media.Codec { return e.codec }

func (e *fallbackEncoder) Accepts(p camera.PixelFormat) bool { return (*e.cur.Load()).Accepts(p) }

func (e *fallbackEncoder) ForceKeyFrame() { (*e.cur.Load()).ForceKeyFrame() }

func (e *fallbackEncoder) SetBitrate(bitsPerSecond int) {
	e.bitrate.Store(int64(bitsPerSecond))
	(*e.cur.Load()).SetBitrate(bitsPerSecond)
}

func (e *fallbackEncoder) Encode(f camera.Frame) (media.EncodedFrame, error) {
	enc := *e.cur.Load()
	coded, err := enc.Encode(f)
	if err == nil || e.switched {
		return coded, err
	}
	e.switched = true
	sw, swErr := e.software()
	if swErr != nil {
		return coded, fmt.Errorf("hardware encoder failed (%w), and the software one did not start: %w", err, swErr)
	}
	reason := fmt.Sprintf("the hardware encoder %s (%s) failed mid-call: %v", e.choice.Device, e.choice.Card, err)
	e.log.Warn("video encoder: going on in software", "codec", e.codec, "why", reason)
	if b := e.bitrate.Load(); b > 0 {
		sw.SetBitrate(int(b))
	}
	e.cur.Store(&sw)
	if cerr := enc.Close(); cerr != nil {
		e.log.Debug("closing the failed hardware encoder", "err", cerr)
	}
	e.onChange(EncoderChoice{Codec: e.codec, Reason: reason})
	if !sw.Accepts(f.Format.Pixel) {
		// The send path converts the next frame for the new encoder; this
		// one is dropped.
		return media.EncodedFrame{}, nil
	}
	return sw.Encode(f)
}

func (e *fallbackEncoder) Close() error { return (*e.cur.Load()).Close() }

// frameScaler is what simulcast uses of an m2m scaler (v4l2m2m.Scaler).
type frameScaler interface {
	Scale(camera.Frame) (camera.Frame, error)
	Close() error
}

// fallbackScaler is an m2m scaler until it fails, then libswscale.
type fallbackScaler struct {
	hw     frameScaler // nil once it failed
	device string
	sw     Scaler
	log    *slog.Logger
}

func (s *fallbackScaler) scale(w, h int) func(camera.Frame) (camera.Frame, error) {
	return func(f camera.Frame) (camera.Frame, error) {
		if s.hw != nil {
			out, err := s.hw.Scale(f)
			if err == nil {
				return out, nil
			}
			s.log.Warn("simulcast: the m2m scaler failed; scaling in software", "device", s.device, "err", err)
			s.hw.Close()
			s.hw = nil
		}
		return s.sw.Scale(f, w, h)
	}
}

func (s *fallbackScaler) Close() {
	if s.hw != nil {
		s.hw.Close()
		s.hw = nil
	}
	s.sw.Close()
}
