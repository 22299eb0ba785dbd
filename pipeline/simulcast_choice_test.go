package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// TestSimulcastChoosesHardwareOrSoftware: the hardware path needs the
// m2m encoder once per layer; without that every layer is software and the
// status says why. The scaler is the m2m one where one opens for the
// pictures, libswscale where not.
func TestSimulcastChoosesHardwareOrSoftware(t *testing.T) {
	h264 := v4l2m2m.DeviceInfo{Path: "/dev/video11", Card: "bcm2835-codec-encode", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	isp := v4l2m2m.DeviceInfo{Path: "/dev/video12", Card: "bcm2835-codec-isp", Converts: true}
	tests := []struct {
		name       string
		mode       config.EncoderMode
		devices    []v4l2m2m.DeviceInfo
		instances  int  // the encoder opens this many times, then is busy
		scalerOpen bool // the scaler takes the pictures
		hardware   bool
		m2mScaled  bool
		reason     string // in the status, or in the error
		fails      bool
	}{
		{"auto, three instances and a scaler", config.EncoderAuto, []v4l2m2m.DeviceInfo{h264, isp}, 3, true, true, true, "encodes H264", false},
		{"auto, three instances, the scaler refuses the format", config.EncoderAuto, []v4l2m2m.DeviceInfo{h264, isp}, 3, false, true, false, "encodes H264", false},
		{"auto, three instances, no scaler", config.EncoderAuto, []v4l2m2m.DeviceInfo{h264}, 3, true, true, false, "encodes H264", false},
		{"auto, only two instances", config.EncoderAuto, []v4l2m2m.DeviceInfo{h264, isp}, 2, true, false, false, "encoder instance 3 of 3 (320x180): /dev/video11 busy", false},
		{"auto, no hardware encoder", config.EncoderAuto, []v4l2m2m.DeviceInfo{isp}, 3, true, false, false, "no m2m device encodes H264", false},
		{"software forced", config.EncoderSoftware, []v4l2m2m.DeviceInfo{h264, isp}, 3, true, false, false, "software chosen in the settings", false},
		{"hardware forced, only two instances", config.EncoderHardware, []v4l2m2m.DeviceInfo{h264, isp}, 2, true, false, false, "no hardware encoder: /dev/video11 (bcm2835-codec-encode) did not start: encoder instance 3 of 3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeM2M{devices: tt.devices, instances: tt.instances, scalerOpen: tt.scalerOpen}
			s := newTestSender(tt.mode, 3, m)
			set, err := s.open(camera.Format{Pixel: camera.PixelFormatYUYV, Width: 1280, Height: 720, FPS: 30})
			if tt.fails {
				if err == nil || !strings.Contains(err.Error(), tt.reason) {
					t.Fatalf("err = %v, want one saying %q", err, tt.reason)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer set.Close()
				c := s.Choice()
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
				for i, e := range m.encoders {
					if !e.closed {
						t.Errorf("hardware encoder instance %d left open after going to software", i+1)
					}
				}
				for _, s := range m.scalers {
					if !s.closed {
						t.Errorf("m2m scaler %v left open after going to software", s.opts.Out)
					}
				}
				return
			}
			// Each layer's encoder is opened for its size and for what it is
			// given: I420 from the layer above (the fake takes only I420).
			for i, o := range m.encOpts {
				want := []string{"1280x720", "640x360", "320x180"}[i]
				if got := fmt.Sprintf("%dx%d", o.Width, o.Height); got != want {
					t.Errorf("encoder instance %d opened for %s, want %s", i+1, got, want)
				}
				if i > 0 && o.Pixel != camera.PixelFormatI420 {
					t.Errorf("encoder instance %d opened for %s pictures, want I420", i+1, o.Pixel)
				}
			}
			for i, s := range m.scalers {
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
	s := &fallbackScaler{hw: hw, device: "/dev/video12", log: quietLog}
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

// TestSenderTakesTheCallsRequestsPerLayer: while Send runs three hardware
// layers, a keyframe request or a bitrate for one layer (what the call
// asks when a receiver of that layer lost a picture, or its network
// changed) reaches that layer's encoder only; with Send over, requests
// are ignored.
func TestSenderTakesTheCallsRequestsPerLayer(t *testing.T) {
	h264 := v4l2m2m.DeviceInfo{Path: "/dev/video11", Card: "bcm2835-codec-encode", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	m := &fakeM2M{devices: []v4l2m2m.DeviceInfo{h264}, instances: 3}
	s := newTestSender(config.EncoderHardware, 3, m)
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: 640, Height: 360, FPS: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(t.Context())
	sent := make(chan int, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Send(ctx, src, func(layer int, f media.EncodedFrame) error {
			select {
			case sent <- layer:
			default:
			}
			return nil
		})
	}()
	seen := map[int]bool{}
	for len(seen) < 3 {
		select {
		case l := <-sent:
			seen[l] = true
		case err := <-done:
			t.Fatalf("Send ended before every layer sent: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("only layers %v sent in 5 s", seen)
		}
	}
	before := []int32{m.encoders[0].keyframes.Load(), m.encoders[1].keyframes.Load(), m.encoders[2].keyframes.Load()}
	s.ForceLayerKeyFrame(2)
	s.SetLayerBitrate(1, 123_000)
	s.ForceLayerKeyFrame(3) // no such layer
	for i, e := range m.encoders {
		wantKeyframes, wantBitrate := int32(0), int64(0)
		if i == 2 {
			wantKeyframes = 1
		}
		if i == 1 {
			wantBitrate = 123_000
		}
		if got := e.keyframes.Load() - before[i]; got != wantKeyframes {
			t.Errorf("layer %d: %d keyframes asked, want %d", i, got, wantKeyframes)
		}
		if got := e.bitrate.Load(); got != wantBitrate {
			t.Errorf("layer %d: bitrate set to %d, want %d", i, got, wantBitrate)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Send: %v", err)
	}
	for i, e := range m.encoders {
		if !e.closed {
			t.Errorf("layer %d's encoder left open after Send", i)
		}
	}
	s.ForceLayerKeyFrame(0) // no Send: nothing to ask, and no panic
}
