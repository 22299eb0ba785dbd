package main

// The choice between the board's hardware video encoder (a V4L2 m2m
// device) and the software ones, and the way back to software when the
// hardware fails mid-call.

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// probeM2M finds the board's m2m devices; tests replace it.
var probeM2M = func() ([]v4l2m2m.DeviceInfo, error) { return v4l2m2m.Probe("/dev") }

// encoderChoice is the video encoder in use and why, for logs and the
// status page.
type encoderChoice struct {
	mu     sync.Mutex
	choice v4l2m2m.Choice
}

func (c *encoderChoice) set(choice v4l2m2m.Choice) {
	c.mu.Lock()
	c.choice = choice
	c.mu.Unlock()
}

func (c *encoderChoice) get() v4l2m2m.Choice {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.choice
}

// videoEncoderChoice says which video encoder runs (hardware or software,
// the device) and why: for the status page.
func (d *daemon) videoEncoderChoice() v4l2m2m.Choice { return d.encoderChoice.get() }

// chooseEncoder looks for m2m devices (unless video.encoder = software)
// and decides between hardware and software, with the reason.
func (d *daemon) chooseEncoder() (v4l2m2m.Choice, []v4l2m2m.DeviceInfo, error) {
	var devices []v4l2m2m.DeviceInfo
	var probeErr error
	if d.cfg.Video.Encoder != v4l2m2m.ModeSoftware {
		devices, probeErr = probeM2M()
	}
	choice, err := v4l2m2m.ChooseEncoder(string(d.cfg.Video.Encoder), videoCodec(d.cfg), devices, probeErr)
	return choice, devices, err
}

// newVideoEncoder chooses and opens the video encoder as video.encoder
// says: auto takes a hardware encoder of the call's codec when there is
// one and falls back to software if it fails to start or fails later;
// hardware insists on one; software never looks.
func (d *daemon) newVideoEncoder(f camera.Format, s pipeline.VideoSettings) (media.VideoEncoder, error) {
	codec := videoCodec(d.cfg)
	mode := d.cfg.Video.Encoder
	software := func() (media.VideoEncoder, error) { return pipeline.NewSoftwareVideoEncoder(codec, s) }
	choice, _, err := d.chooseEncoder()
	if err != nil {
		return nil, err
	}
	if !choice.Hardware {
		d.log.Info("video encoder: software", "codec", codec, "why", choice.Reason)
		d.encoderChoice.set(choice)
		return software()
	}
	hw, err := v4l2m2m.NewEncoder(v4l2m2m.EncoderOptions{
		Device: choice.Device, Codec: codec, Width: s.Width, Height: s.Height, FPS: s.FPS,
		BitsPerSecond: s.BitsPerSecond, KeyframeInterval: s.KeyframeInterval, Pixel: f.Pixel, Logger: d.log,
		// The camera's exported buffers, imported where the formats match;
		// the encoder copies, saying why once, where not.
		DMABUF: d.cfg.Video.Camera != config.CameraTestPattern,
	})
	if err == nil && hw.Codec() != codec { // never publish what the call does not carry
		hw.Close()
		err = fmt.Errorf("%s makes %s, the call carries %s", choice.Device, hw.Codec(), codec)
	}
	if err != nil {
		if mode == v4l2m2m.ModeHardware {
			return nil, fmt.Errorf("video.encoder = hardware: %w", err)
		}
		choice = v4l2m2m.Choice{Codec: codec, Reason: fmt.Sprintf("the hardware encoder %s (%s) did not start: %v", choice.Device, choice.Card, err)}
		d.log.Warn("video encoder: software", "codec", codec, "why", choice.Reason)
		d.encoderChoice.set(choice)
		return software()
	}
	d.log.Info("video encoder: hardware", "codec", codec, "device", choice.Device, "card", choice.Card, "why", choice.Reason)
	d.encoderChoice.set(choice)
	if mode == v4l2m2m.ModeHardware {
		return hw, nil
	}
	return newFallbackEncoder(hw, software, choice, d.log, d.encoderChoice.set), nil
}

// fallbackEncoder runs the hardware encoder until it fails (the device
// vanished, refused a frame, stopped answering), then opens the software
// one and goes on with the same frame: the call never notices more than a
// keyframe.
type fallbackEncoder struct {
	codec    media.Codec
	cur      atomic.Pointer[media.VideoEncoder]
	software func() (media.VideoEncoder, error)
	choice   v4l2m2m.Choice
	log      *slog.Logger
	onChange func(v4l2m2m.Choice)
	bitrate  atomic.Int64 // the last asked for, to carry over
	switched bool
}

func newFallbackEncoder(hw media.VideoEncoder, software func() (media.VideoEncoder, error),
	choice v4l2m2m.Choice, log *slog.Logger, onChange func(v4l2m2m.Choice)) *fallbackEncoder {
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
		return coded, fmt.Errorf("hardware encoder failed (%w), and the software one did not start: %v", err, swErr)
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
	e.onChange(v4l2m2m.Choice{Codec: e.codec, Reason: reason})
	if !sw.Accepts(f.Format.Pixel) {
		// The send path converts the next frame for the new encoder; this
		// one is dropped.
		return media.EncodedFrame{}, nil
	}
	return sw.Encode(f)
}

func (e *fallbackEncoder) Close() error { return (*e.cur.Load()).Close() }
