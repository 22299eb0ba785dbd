package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// fakeScaler stands in for an m2m scaler (the Pi's ISP, vim2m).
type fakeScaler struct {
	opts   v4l2m2m.ScalerOptions
	fail   bool
	closed bool
}

func (s *fakeScaler) Scale(f camera.Frame) (camera.Frame, error) {
	if s.fail {
		return camera.Frame{}, errors.New("/dev/video12 (bcm2835-codec-isp): VIDIOC_DQBUF: device is gone")
	}
	out := s.opts.Out
	return camera.Frame{Format: out, Data: make([]byte, out.Width*out.Height*3/2), Seq: f.Seq}, nil
}

func (s *fakeScaler) Close() error { s.closed = true; return nil }

// TestSimulcastChoosesHardwareOrSoftware: the hardware path needs the
// m2m encoder once per layer; without that every layer is software and the
// status says why. The scaler is the m2m one where one opens for the
// pictures, libswscale where not.
func TestSimulcastChoosesHardwareOrSoftware(t *testing.T) {
	h264 := v4l2m2m.DeviceInfo{Path: "/dev/video11", Card: "bcm2835-codec-encode", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	isp := v4l2m2m.DeviceInfo{Path: "/dev/video12", Card: "bcm2835-codec-isp", Converts: true}
	tests := []struct {
		name       string
		mode       string
		devices    []v4l2m2m.DeviceInfo
		instances  int  // the encoder opens this many times, then is busy
		scalerOpen bool // the scaler takes the pictures
		hardware   bool
		m2mScaled  bool
		reason     string // in the status, or in the error
		fails      bool
	}{
		{"auto, three instances and a scaler", "auto", []v4l2m2m.DeviceInfo{h264, isp}, 3, true, true, true, "encodes H264", false},
		{"auto, three instances, the scaler refuses the format", "auto", []v4l2m2m.DeviceInfo{h264, isp}, 3, false, true, false, "encodes H264", false},
		{"auto, three instances, no scaler", "auto", []v4l2m2m.DeviceInfo{h264}, 3, true, true, false, "encodes H264", false},
		{"auto, only two instances", "auto", []v4l2m2m.DeviceInfo{h264, isp}, 2, true, false, false, "encoder instance 3 of 3 (320x180): /dev/video11 busy", false},
		{"auto, no hardware encoder", "auto", []v4l2m2m.DeviceInfo{isp}, 3, true, false, false, "no m2m device encodes H264", false},
		{"software forced", "software", []v4l2m2m.DeviceInfo{h264, isp}, 3, true, false, false, "video.encoder = software", false},
		{"hardware forced, only two instances", "hardware", []v4l2m2m.DeviceInfo{h264, isp}, 2, true, false, false, "video.encoder = hardware: encoder instance 3 of 3", true},
	}
	savedProbe, savedEnc, savedScaler := probeM2M, openM2MEncoder, openM2MScaler
	t.Cleanup(func() { probeM2M, openM2MEncoder, openM2MScaler = savedProbe, savedEnc, savedScaler })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opened []*fakeEncoder
			var encOpts []v4l2m2m.EncoderOptions
			var scalers []*fakeScaler
			probeM2M = func() ([]v4l2m2m.DeviceInfo, error) { return tt.devices, nil }
			openM2MEncoder = func(o v4l2m2m.EncoderOptions) (media.VideoEncoder, error) {
				if len(opened) == tt.instances {
					return nil, fmt.Errorf("%s busy", o.Device)
				}
				e := &fakeEncoder{}
				opened, encOpts = append(opened, e), append(encOpts, o)
				return e, nil
			}
			openM2MScaler = func(o v4l2m2m.ScalerOptions) (m2mScaler, error) {
				if !tt.scalerOpen {
					return nil, fmt.Errorf("%s: takes no %s", o.Device, o.In.Pixel)
				}
				s := &fakeScaler{opts: o}
				scalers = append(scalers, s)
				return s, nil
			}
			cfg := config.Default()
			cfg.Video.Encoder = config.EncoderMode(tt.mode)
			d := &daemon{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			f := camera.Format{Pixel: camera.PixelFormatYUYV, Width: 1280, Height: 720, FPS: 30}
			s := pipeline.VideoSettings{Width: 1280, Height: 720, FPS: 30, BitsPerSecond: 1_500_000, KeyframeInterval: 60}
			set, err := d.newSimulcastLayers(f, s, pipeline.PlanSimulcast(1280, 720, 1_500_000))
			if tt.fails {
				if err == nil || !strings.Contains(err.Error(), tt.reason) {
					t.Fatalf("err = %v, want one saying %q", err, tt.reason)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer set.Close()
				c := d.videoEncoderChoice()
				if c.Hardware != tt.hardware || !strings.Contains(c.Reason, tt.reason) {
					t.Errorf("chose %+v; want hardware %v because %q", c, tt.hardware, tt.reason)
				}
				if len(set.layers) != 3 {
					t.Fatalf("%d layers, want 3", len(set.layers))
				}
				for i, l := range set.layers[1:] {
					if (l.Scale != nil) != tt.m2mScaled {
						t.Errorf("layer %d: scaled by the m2m scaler %v, want %v", i+1, l.Scale != nil, tt.m2mScaled)
					}
				}
			}
			if !tt.hardware {
				for i, e := range opened {
					if !e.closed {
						t.Errorf("hardware encoder instance %d left open after going to software", i+1)
					}
				}
				for _, s := range scalers {
					if !s.closed {
						t.Errorf("m2m scaler %v left open after going to software", s.opts.Out)
					}
				}
				return
			}
			// Each layer's encoder is opened for its size and for what it is
			// given: I420 from the layer above (the fake takes only I420).
			for i, o := range encOpts {
				want := []string{"1280x720", "640x360", "320x180"}[i]
				if got := fmt.Sprintf("%dx%d", o.Width, o.Height); got != want {
					t.Errorf("encoder instance %d opened for %s, want %s", i+1, got, want)
				}
				if i > 0 && o.Pixel != camera.PixelFormatI420 {
					t.Errorf("encoder instance %d opened for %s pictures, want I420", i+1, o.Pixel)
				}
			}
			for i, s := range scalers {
				in, out := s.opts.In, s.opts.Out
				if in.Pixel != camera.PixelFormatI420 || in.Width != 1280>>i || out.Width != 640>>i || out.Pixel != in.Pixel {
					t.Errorf("scaler %d opened for %v to %v, want I420 %d wide to %d wide", i+1, in, out, 1280>>i, 640>>i)
				}
			}
		})
	}
}

// TestFallbackScalerGoesOnInSoftware: the m2m scaler fails mid-call; the
// layer goes on with libswscale at the same size, and the device is closed.
func TestFallbackScalerGoesOnInSoftware(t *testing.T) {
	hw := &fakeScaler{opts: v4l2m2m.ScalerOptions{Out: camera.Format{Pixel: camera.PixelFormatI420, Width: 320, Height: 180}}}
	s := &fallbackScaler{hw: hw, device: "/dev/video12", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer s.Close()
	scale := s.scale(320, 180)
	in := camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: 640, Height: 360}, Data: make([]byte, 640*360*3/2)}
	for i := range 4 {
		if i == 2 {
			hw.fail = true
		}
		out, err := scale(in)
		if err != nil || out.Format.Width != 320 || out.Format.Height != 180 || len(out.Data) != 320*180*3/2 {
			t.Fatalf("frame %d: %v, %v; want a 320x180 picture", i, out.Format, err)
		}
	}
	if !hw.closed || s.hw != nil {
		t.Errorf("the failed m2m scaler is still in use (closed %v)", hw.closed)
	}
}
