package main

// Simulcast (video.simulcast): the camera sent in up to three sizes, each
// coded on its own. Hardware when the board's m2m encoder opens once per
// layer (with an m2m scaler when there is one that takes the pictures,
// libswscale otherwise); software (x264, libvpx, libswscale) when not.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// The m2m devices as simulcast opens them; tests replace them.
var (
	openM2MEncoder = func(o v4l2m2m.EncoderOptions) (media.VideoEncoder, error) {
		e, err := v4l2m2m.NewEncoder(o)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	openM2MScaler = func(o v4l2m2m.ScalerOptions) (m2mScaler, error) {
		s, err := v4l2m2m.NewScaler(o)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
)

// m2mScaler is what simulcast uses of v4l2m2m.Scaler.
type m2mScaler interface {
	Scale(camera.Frame) (camera.Frame, error)
	Close() error
}

// simulcastLayers is what the call publishes for cfg: nil without
// simulcast, else the layers of the configured size. The camera may give
// another size; sendSimulcast then sends its own sizes in these layers.
func simulcastLayers(cfg config.Config) []call.VideoLayer {
	if !cfg.Video.Simulcast {
		return nil
	}
	var layers []call.VideoLayer
	for _, l := range pipeline.PlanSimulcast(cfg.Video.Width&^1, cfg.Video.Height&^1, cfg.Video.BitrateKbps*1000) {
		layers = append(layers, call.VideoLayer{Width: l.Width, Height: l.Height, MaxBitrate: l.BitsPerSecond})
	}
	if len(layers) < 2 {
		return nil // too small to split
	}
	return layers
}

// sendSimulcast is sendVideo for simulcast: the encoders (hardware or
// software), then one send path for all layers.
func (d *daemon) sendSimulcast(ctx context.Context, src camera.Source, s pipeline.VideoSettings) error {
	f := src.Format()
	plan := pipeline.PlanSimulcast(f.Width, f.Height, s.BitsPerSecond)
	if published := len(simulcastLayers(d.cfg)); len(plan) > published {
		plan = plan[:published] // the call has no track for more
	}
	set, err := d.newSimulcastLayers(f, s, plan)
	if err != nil {
		return err
	}
	var enc media.VideoEncoder = set
	d.encoder.Store(&enc)
	defer func() {
		d.encoder.Store(nil)
		set.Close()
	}()
	d.log.Info("sending video", "format", f.String(), "codec", set.Codec(), "simulcast", layerNames(plan))
	return pipeline.SendSimulcast(ctx, d.rx.selfView(src), set.layers, d.session.WriteVideoLayer)
}

func layerNames(plan []pipeline.LayerSpec) string {
	var names []string
	for _, l := range plan {
		names = append(names, fmt.Sprintf("%dx%d@%dkbps", l.Width, l.Height, l.BitsPerSecond/1000))
	}
	return strings.Join(names, ", ")
}

// newSimulcastLayers opens an encoder per layer: the hardware one, once per
// layer, when video.encoder allows it and the device has that many
// instances to give, else software for all of them.
func (d *daemon) newSimulcastLayers(f camera.Format, s pipeline.VideoSettings, plan []pipeline.LayerSpec) (*layerSet, error) {
	codec := videoCodec(d.cfg)
	mode := d.cfg.Video.Encoder
	software := func(layer int) func() (media.VideoEncoder, error) {
		ls := pipeline.SimulcastLayerSettings(s, plan, layer)
		return func() (media.VideoEncoder, error) { return pipeline.NewSoftwareVideoEncoder(codec, ls) }
	}
	choice, devices, err := d.chooseEncoder()
	if err != nil {
		return nil, err
	}
	if choice.Hardware {
		set, err := d.hardwareLayers(f, s, plan, choice, devices, software)
		if err == nil {
			d.encoderChoice.set(choice)
			return set, nil
		}
		if mode == v4l2m2m.ModeHardware {
			return nil, fmt.Errorf("video.encoder = hardware: %w", err)
		}
		choice = v4l2m2m.Choice{Codec: codec, Reason: fmt.Sprintf("simulcast on the hardware encoder %s (%s): %v", choice.Device, choice.Card, err)}
		d.log.Warn("video encoder: software", "codec", codec, "why", choice.Reason)
	} else {
		d.log.Info("video encoder: software", "codec", codec, "why", choice.Reason, "simulcast_layers", len(plan))
	}
	d.encoderChoice.set(choice)
	layers, err := pipeline.NewSoftwareSimulcastLayers(codec, s, plan)
	if err != nil {
		return nil, err
	}
	return &layerSet{plan: plan, layers: layers}, nil
}

// hardwareLayers opens the m2m encoder once per layer and, where the
// board has a raw-to-raw m2m device that takes the pictures, a scaler per
// smaller layer (libswscale otherwise). In auto mode each encoder goes on
// in software if it fails mid-call, as the single-layer one does, and each
// scaler in libswscale.
func (d *daemon) hardwareLayers(f camera.Format, s pipeline.VideoSettings, plan []pipeline.LayerSpec,
	choice v4l2m2m.Choice, devices []v4l2m2m.DeviceInfo, software func(layer int) func() (media.VideoEncoder, error)) (*layerSet, error) {
	codec := videoCodec(d.cfg)
	set := &layerSet{plan: plan}
	above := f.Pixel // the format of the picture the layer above hands down
	scaledBy := "libswscale"
	for i, l := range plan {
		layer := pipeline.SimulcastLayer{Width: l.Width, Height: l.Height}
		in := above
		if i > 0 {
			scaler := d.m2mScaler(devices, camera.Format{Pixel: above, Width: plan[i-1].Width, Height: plan[i-1].Height},
				camera.Format{Pixel: above, Width: l.Width, Height: l.Height})
			if scaler != nil {
				set.scalers = append(set.scalers, scaler)
				layer.Scale = scaler.scale(l.Width, l.Height)
				scaledBy = "m2m scaler"
			} else {
				in = camera.PixelFormatI420 // what libswscale gives
			}
		}
		hw, err := openM2MEncoder(v4l2m2m.EncoderOptions{
			Device: choice.Device, Codec: codec, Width: l.Width, Height: l.Height, FPS: s.FPS,
			BitsPerSecond: l.BitsPerSecond, KeyframeInterval: s.KeyframeInterval, Pixel: in, Logger: d.log,
			DMABUF: i == 0 && d.cfg.Video.Camera != config.CameraTestPattern, // the camera's own frames
		})
		if err == nil && hw.Codec() != codec {
			hw.Close()
			err = fmt.Errorf("it makes %s, the call carries %s", hw.Codec(), codec)
		}
		if err != nil {
			set.Close()
			return nil, fmt.Errorf("encoder instance %d of %d (%dx%d): %w", i+1, len(plan), l.Width, l.Height, err)
		}
		layer.Encoder = hw
		if d.cfg.Video.Encoder != v4l2m2m.ModeHardware {
			layer.Encoder = newFallbackEncoder(hw, software(i), choice, d.log, d.encoderChoice.set)
		}
		set.layers = append(set.layers, layer)
		above = in
		if !hw.Accepts(in) {
			above = camera.PixelFormatI420 // the send path converts for it
		}
	}
	d.log.Info("video encoder: hardware simulcast", "codec", codec, "device", choice.Device, "card", choice.Card,
		"layers", layerNames(plan), "scaled_by", scaledBy, "why", choice.Reason)
	return set, nil
}

// m2mScaler opens the first m2m scaler that takes pictures of format in
// and gives out; nil (libswscale) when none does.
func (d *daemon) m2mScaler(devices []v4l2m2m.DeviceInfo, in, out camera.Format) *fallbackScaler {
	var tried []string
	for _, dev := range devices {
		if !dev.Converts {
			continue
		}
		hw, err := openM2MScaler(v4l2m2m.ScalerOptions{Device: dev.Path, In: in, Out: out, Logger: d.log})
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", dev.Path, err))
			continue
		}
		return &fallbackScaler{hw: hw, device: dev.Path, log: d.log}
	}
	if len(tried) > 0 {
		d.log.Info("simulcast scales in software", "layer", fmt.Sprintf("%dx%d", out.Width, out.Height), "why", strings.Join(tried, "; "))
	}
	return nil
}

// fallbackScaler is an m2m scaler until it fails, then libswscale.
type fallbackScaler struct {
	hw     m2mScaler // nil once it failed
	device string
	sw     pipeline.Scaler
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

// layerSet is the simulcast layers' encoders seen as one, for what asks
// the video encoder for something (a keyframe on joining, a bitrate):
// every layer does it. Frames are encoded per layer by SendSimulcast.
type layerSet struct {
	layers  []pipeline.SimulcastLayer
	plan    []pipeline.LayerSpec
	scalers []*fallbackScaler
}

var errEncodePerLayer = errors.New("simulcast encodes per layer")

func (l *layerSet) Codec() media.Codec                { return l.layers[0].Encoder.Codec() }
func (l *layerSet) Accepts(p camera.PixelFormat) bool { return l.layers[0].Encoder.Accepts(p) }
func (l *layerSet) Encode(camera.Frame) (media.EncodedFrame, error) {
	return media.EncodedFrame{}, errEncodePerLayer
}

func (l *layerSet) ForceKeyFrame() {
	for _, layer := range l.layers {
		layer.Encoder.ForceKeyFrame()
	}
}

// SetBitrate shares bitsPerSecond out in the layers' proportions.
func (l *layerSet) SetBitrate(bitsPerSecond int) {
	total := 0
	for _, p := range l.plan {
		total += p.BitsPerSecond
	}
	for i, layer := range l.layers {
		layer.Encoder.SetBitrate(int(int64(bitsPerSecond) * int64(l.plan[i].BitsPerSecond) / int64(max(total, 1))))
	}
}

// forceLayerKeyframe and setLayerBitrate are what a receiver of one layer
// asks (call.Options.OnLayerKeyframeWanted, OnLayerBitrate).
func (l *layerSet) forceLayerKeyframe(i int) {
	if i >= 0 && i < len(l.layers) {
		l.layers[i].Encoder.ForceKeyFrame()
	}
}

func (l *layerSet) setLayerBitrate(i, bitsPerSecond int) {
	if i >= 0 && i < len(l.layers) {
		l.layers[i].Encoder.SetBitrate(bitsPerSecond)
	}
}

func (l *layerSet) Close() error {
	var errs []error
	for _, layer := range l.layers {
		errs = append(errs, layer.Encoder.Close())
	}
	for _, s := range l.scalers {
		s.Close()
	}
	return errors.Join(errs...)
}

func (d *daemon) forceLayerKeyframe(layer int) {
	if enc := d.encoder.Load(); enc != nil {
		if set, ok := (*enc).(*layerSet); ok {
			set.forceLayerKeyframe(layer)
		} else if layer == 0 {
			(*enc).ForceKeyFrame()
		}
	}
}

func (d *daemon) setLayerBitrate(layer, bitsPerSecond int) {
	if enc := d.encoder.Load(); enc != nil {
		if set, ok := (*enc).(*layerSet); ok {
			set.setLayerBitrate(layer, bitsPerSecond)
		} else if layer == 0 {
			(*enc).SetBitrate(bitsPerSecond)
		}
	}
}
