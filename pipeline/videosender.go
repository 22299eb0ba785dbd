package pipeline

// The camera's send path as the box runs it: which encoders (one, or one
// per simulcast layer), hardware or software, how each goes on in software
// when the hardware fails mid-call, and what the call asks of them.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// VideoSenderOptions say what the camera's pictures become.
type VideoSenderOptions struct {
	// Codec is what the call carries: H.264 or VP8.
	Codec media.Codec
	// BitsPerSecond is the most the first (full-size) layer sends; the
	// smaller simulcast layers get their share of it (PlanSimulcast).
	BitsPerSecond int
	// KeyframeInterval is the most frames between two keyframes.
	KeyframeInterval int
	// Layers is how many simulcast layers the call publishes: Send codes
	// up to that many, fewer when the camera's picture is too small to
	// halve. 0 or 1: one layer, no simulcast.
	Layers int
	// Mode chooses hardware (m2m) or software encoders; auto takes the
	// hardware when the board has an encoder of Codec and goes on in
	// software when it does not start or fails later.
	Mode config.EncoderMode
	// DMABUF lets a hardware encoder import the camera's buffers
	// (camera.Frame.DMABuf) rather than copy each picture.
	DMABUF bool
	// Content codes shared content rather than a camera
	// (VideoSettings.Content).
	Content bool
	// Logger gets the choice and its reasons; nil means slog.Default().
	Logger *slog.Logger
}

// VideoSender codes the camera's pictures for the call: it chooses and
// opens the encoders for each camera it is given (Send), and takes the
// call's keyframe and bitrate requests for them.
type VideoSender struct {
	opts VideoSenderOptions
	log  *slog.Logger
	m2m  m2mDevices
	set  atomic.Pointer[layerSet] // the encoders of the Send running, nil between
	// brokenFrames counts the camera's frames dropped because they did
	// not decode (ErrBrokenFrame), over every Send.
	brokenFrames atomic.Int64

	mu     sync.Mutex
	choice EncoderChoice // guarded by mu
	// fallbacks counts the times the hardware encoder failed and software
	// took over; guarded by mu.
	fallbacks int
	// width and height are the camera's pictures as the encoders were
	// opened for them (the largest layer); guarded by mu.
	width, height int
}

// NewVideoSender makes a sender; nothing is opened until Send.
func NewVideoSender(opts VideoSenderOptions) *VideoSender {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &VideoSender{opts: opts, log: log, m2m: boardM2M{dir: "/dev"}}
}

// Choice says which encoder runs (hardware or software, the device) and
// why, for the status page: the zero EncoderChoice before the first Send,
// and on a nil sender (a daemon that sends no video).
func (s *VideoSender) Choice() EncoderChoice {
	if s == nil {
		return EncoderChoice{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.choice
}

func (s *VideoSender) setChoice(c EncoderChoice) {
	s.mu.Lock()
	if s.choice.Hardware && !c.Hardware {
		s.fallbacks++
	}
	s.choice = c
	s.mu.Unlock()
}

// Size is the picture the encoders were opened for, the largest layer's
// before the bitrate ladder's halving (ladder.go); 0, 0 before the first
// Send and on a nil sender.
func (s *VideoSender) Size() (width, height int) {
	if s == nil {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.width, s.height
}

// Fallbacks is how often software took over from a failing hardware
// encoder, for the box's metrics; 0 on a nil sender.
func (s *VideoSender) Fallbacks() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fallbacks
}

// ForceLayerKeyFrame makes layer's next frame a keyframe (0 is the full
// size, the only layer without simulcast). Safe from any goroutine; a
// layer not being sent is ignored.
func (s *VideoSender) ForceLayerKeyFrame(layer int) {
	switch set := s.set.Load(); {
	case set == nil:
	case set.ladder != nil && layer == 0:
		set.ladder.forceKeyFrame()
	case layer >= 0 && layer < len(set.layers):
		set.layers[layer].Encoder.ForceKeyFrame()
	}
}

// SetLayerBitrate sets layer's bitrate from its next frame on. Safe from
// any goroutine; a layer not being sent is ignored.
func (s *VideoSender) SetLayerBitrate(layer, bitsPerSecond int) {
	switch set := s.set.Load(); {
	case set == nil:
	case set.ladder != nil && layer == 0:
		set.ladder.setBitrate(bitsPerSecond, time.Now())
	case layer >= 0 && layer < len(set.layers):
		set.layers[layer].Encoder.SetBitrate(bitsPerSecond)
	}
}

// BrokenFrames is how many of the camera's frames were dropped because
// they did not decode (a truncated JPEG), over every Send; 0 on a nil
// sender (a daemon that sends no video). Safe from any goroutine.
func (s *VideoSender) BrokenFrames() int64 {
	if s == nil {
		return 0
	}
	return s.brokenFrames.Load()
}

// Send opens the encoders for src's pictures, then reads, converts,
// scales and codes them, handing each coded frame to out with its layer
// (0 the full size), until ctx ends or a part fails; it closes the
// encoders when it returns. An MJPEG camera's frames are decoded once,
// before any encoder sees them, and those that do not decode are dropped
// (BrokenFrames). One Send at a time.
func (s *VideoSender) Send(ctx context.Context, src camera.Source, out func(layer int, f media.EncodedFrame) error) error {
	if src.Format().Pixel == camera.PixelFormatMJPEG {
		decoded := &mjpegSource{Source: src, broken: &s.brokenFrames, log: s.log}
		defer decoded.Close()
		src = decoded
	}
	f := src.Format()
	set, err := s.open(f)
	if err != nil {
		return err
	}
	s.set.Store(set)
	defer func() {
		s.set.Store(nil)
		set.Close()
	}()
	if set.ladder != nil {
		s.log.Info("sending video", "format", f.String(), "codec", s.opts.Codec, "sizes", layerNames(set.plan))
		return set.ladder.send(ctx, src, func(f media.EncodedFrame) error { return out(0, f) })
	}
	if len(set.layers) == 1 {
		s.log.Info("sending video", "format", f.String(), "codec", s.opts.Codec)
		return SendVideo(ctx, src, set.layers[0].Encoder, func(f media.EncodedFrame) error { return out(0, f) })
	}
	s.log.Info("sending video", "format", f.String(), "codec", s.opts.Codec, "simulcast", layerNames(set.plan))
	return SendSimulcast(ctx, src, set.layers, out)
}

// open opens an encoder per layer for pictures of format f: the hardware
// one, once per layer, when the mode allows it and the device has that
// many instances to give, else software for all of them.
func (s *VideoSender) open(f camera.Format) (*layerSet, error) {
	codec, mode := s.opts.Codec, s.opts.Mode
	s.mu.Lock()
	s.width, s.height = f.Width, f.Height
	s.mu.Unlock()
	settings := VideoSettings{Width: f.Width, Height: f.Height, FPS: f.FPS,
		BitsPerSecond: s.opts.BitsPerSecond, KeyframeInterval: s.opts.KeyframeInterval,
		// Content at a constant quality up to the bitrate: a still slide
		// goes out sharp at a fraction of it.
		Content: s.opts.Content, Capped: s.opts.Content}
	plan := []LayerSpec{{Width: f.Width, Height: f.Height, BitsPerSecond: s.opts.BitsPerSecond}}
	if s.opts.Layers > 1 {
		plan = PlanSimulcast(f.Width, f.Height, s.opts.BitsPerSecond)
		plan = plan[:min(len(plan), s.opts.Layers)] // the call has no track for more
	}
	var devices []v4l2m2m.DeviceInfo
	var probeErr error
	if mode != config.EncoderSoftware {
		devices, probeErr = s.m2m.probe()
	}
	choice, err := chooseEncoder(mode, codec, devices, probeErr)
	if err != nil {
		return nil, err
	}
	if choice.Hardware {
		set, err := s.openHardware(settings, f.Pixel, plan, choice, devices)
		if err == nil {
			s.setChoice(choice)
			return set, nil
		}
		if mode == config.EncoderHardware {
			return nil, fmt.Errorf("%w: %s (%s) did not start: %w", ErrNoHardwareEncoder, choice.Device, choice.Card, err)
		}
		choice = EncoderChoice{Codec: codec, Reason: fmt.Sprintf("the hardware encoder %s (%s) did not start: %v", choice.Device, choice.Card, err)}
		s.log.Warn("video encoder: software", "codec", codec, "why", choice.Reason)
	} else {
		s.log.Info("video encoder: software", "codec", codec, "why", choice.Reason, "layers", len(plan))
	}
	s.setChoice(choice)
	if len(plan) == 1 {
		// One stream whose size follows the network (ladder.go): the
		// camera's and its halves, each coded with the whole bitrate, the
		// camera's size up to it only.
		plan = PlanSimulcast(f.Width, f.Height, s.opts.BitsPerSecond)
		for i := range plan {
			plan[i].BitsPerSecond = s.opts.BitsPerSecond
		}
		settings.Capped = true
	}
	if s.opts.Layers <= 1 {
		open := func(i int) (media.VideoEncoder, error) {
			return NewSoftwareVideoEncoder(codec, SimulcastLayerSettings(settings, plan, i))
		}
		ladder, err := newLadder(plan, f.FPS, s.opts.BitsPerSecond, open, s.log)
		if err != nil {
			return nil, err
		}
		return &layerSet{plan: plan, ladder: ladder}, nil
	}
	layers, err := NewSoftwareSimulcastLayers(codec, settings, plan)
	if err != nil {
		return nil, err
	}
	return &layerSet{plan: plan, layers: layers}, nil
}

// openHardware opens the m2m encoder once per layer of plan and, where the
// board has a raw-to-raw m2m device that takes the pictures, a scaler per
// smaller layer (libswscale otherwise). Outside hardware mode each encoder
// goes on in software if it fails mid-call, and each scaler in libswscale.
func (s *VideoSender) openHardware(vs VideoSettings, pixel camera.PixelFormat, plan []LayerSpec,
	choice EncoderChoice, devices []v4l2m2m.DeviceInfo) (*layerSet, error) {
	codec := s.opts.Codec
	set := &layerSet{plan: plan}
	above := pixel // the format of the picture the layer above hands down
	scaledBy := "libswscale"
	for i, l := range plan {
		layer := SimulcastLayer{Width: l.Width, Height: l.Height}
		in := above
		if i > 0 {
			scaler := s.m2mScaler(devices, camera.Format{Pixel: above, Width: plan[i-1].Width, Height: plan[i-1].Height},
				camera.Format{Pixel: above, Width: l.Width, Height: l.Height})
			if scaler != nil {
				set.scalers = append(set.scalers, scaler)
				layer.Scale = scaler.scale(l.Width, l.Height)
				scaledBy = "m2m scaler"
			} else {
				in = camera.PixelFormatI420 // what libswscale gives
			}
		}
		hw, err := s.m2m.openEncoder(v4l2m2m.EncoderOptions{
			Device: choice.Device, Codec: codec, Width: l.Width, Height: l.Height, FPS: vs.FPS,
			BitsPerSecond: l.BitsPerSecond, KeyframeInterval: vs.KeyframeInterval, Pixel: in, Logger: s.log,
			// The camera's exported buffers, imported where the formats
			// match; the encoder copies, saying why once, where not.
			DMABUF: i == 0 && s.opts.DMABUF,
		})
		if err == nil && hw.Codec() != codec { // never publish what the call does not carry
			hw.Close()
			err = fmt.Errorf("it makes %s, the call carries %s", hw.Codec(), codec)
		}
		if err != nil {
			set.Close()
			if len(plan) > 1 {
				err = fmt.Errorf("encoder instance %d of %d (%dx%d): %w", i+1, len(plan), l.Width, l.Height, err)
			}
			return nil, err
		}
		layer.Encoder = hw
		if s.opts.Mode != config.EncoderHardware {
			ls := SimulcastLayerSettings(vs, plan, i)
			software := func() (media.VideoEncoder, error) { return NewSoftwareVideoEncoder(codec, ls) }
			layer.Encoder = newFallbackEncoder(hw, software, choice, s.log, s.setChoice)
		}
		set.layers = append(set.layers, layer)
		above = in
		if !hw.Accepts(in) {
			above = camera.PixelFormatI420 // the send path converts for it
		}
	}
	if len(plan) > 1 {
		s.log.Info("video encoder: hardware simulcast", "codec", codec, "device", choice.Device, "card", choice.Card,
			"layers", layerNames(plan), "scaled_by", scaledBy, "why", choice.Reason)
	} else {
		s.log.Info("video encoder: hardware", "codec", codec, "device", choice.Device, "card", choice.Card, "why", choice.Reason)
	}
	return set, nil
}

// m2mScaler opens the first m2m scaler that takes pictures of format in
// and gives out; nil (libswscale) when none does.
func (s *VideoSender) m2mScaler(devices []v4l2m2m.DeviceInfo, in, out camera.Format) *fallbackScaler {
	var tried []string
	for _, dev := range devices {
		if !dev.Converts {
			continue
		}
		hw, err := s.m2m.openScaler(v4l2m2m.ScalerOptions{Device: dev.Path, In: in, Out: out, Logger: s.log})
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", dev.Path, err))
			continue
		}
		return &fallbackScaler{hw: hw, device: dev.Path, log: s.log}
	}
	if len(tried) > 0 {
		s.log.Info("simulcast scales in software", "layer", fmt.Sprintf("%dx%d", out.Width, out.Height), "why", strings.Join(tried, "; "))
	}
	return nil
}

func layerNames(plan []LayerSpec) string {
	var names []string
	for _, l := range plan {
		names = append(names, fmt.Sprintf("%dx%d@%dkbps", l.Width, l.Height, l.BitsPerSecond/1000))
	}
	return strings.Join(names, ", ")
}

// layerSet is the encoders of one Send, one per layer (one in all without
// simulcast), and the m2m scalers between them; or, without simulcast in
// software, the ladder that sends one of plan's sizes at a time, by the
// bitrate, and holds their encoders.
type layerSet struct {
	layers  []SimulcastLayer
	plan    []LayerSpec
	scalers []*fallbackScaler
	ladder  *ladder
}

func (l *layerSet) Close() error {
	var errs []error
	if l.ladder != nil {
		errs = append(errs, l.ladder.Close())
	}
	for _, layer := range l.layers {
		errs = append(errs, layer.Encoder.Close())
	}
	for _, s := range l.scalers {
		s.Close()
	}
	return errors.Join(errs...)
}

// m2mDevices are the board's m2m devices as the sender and the decoders
// (decoders.go) find and open them; tests give fakes.
type m2mDevices interface {
	probe() ([]v4l2m2m.DeviceInfo, error)
	openEncoder(v4l2m2m.EncoderOptions) (media.VideoEncoder, error)
	openScaler(v4l2m2m.ScalerOptions) (frameScaler, error)
	openDecoder(v4l2m2m.DecoderOptions) (media.VideoDecoder, error)
}

// boardM2M are the m2m devices among the video nodes in dir.
type boardM2M struct{ dir string }

func (b boardM2M) probe() ([]v4l2m2m.DeviceInfo, error) { return v4l2m2m.Probe(b.dir) }

func (boardM2M) openEncoder(o v4l2m2m.EncoderOptions) (media.VideoEncoder, error) {
	e, err := v4l2m2m.NewEncoder(o)
	if err != nil {
		return nil, err // not a nil *Encoder in a non-nil interface
	}
	return e, nil
}

func (boardM2M) openScaler(o v4l2m2m.ScalerOptions) (frameScaler, error) {
	sc, err := v4l2m2m.NewScaler(o)
	if err != nil {
		return nil, err
	}
	return sc, nil
}

func (boardM2M) openDecoder(o v4l2m2m.DecoderOptions) (media.VideoDecoder, error) {
	d, err := v4l2m2m.NewDecoder(o)
	if err != nil {
		return nil, err
	}
	return d, nil
}
