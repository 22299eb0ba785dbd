package pipeline

// The encoder policy, with fakes at the hardware interface (m2mDevices):
// which encoder the sender opens and why, and the way back to software.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeEncoder stands in for a hardware or software encoder.
type fakeEncoder struct {
	failAfter int // Encode fails from this frame on; 0: never
	frames    int
	bitrate   atomic.Int64
	keyframes atomic.Int32
	closed    bool
}

func (e *fakeEncoder) Codec() media.Codec                { return media.CodecH264 }
func (e *fakeEncoder) Accepts(p camera.PixelFormat) bool { return p == camera.PixelFormatI420 }
func (e *fakeEncoder) ForceKeyFrame()                    { e.keyframes.Add(1) }
func (e *fakeEncoder) SetBitrate(bitsPerSecond int)      { e.bitrate.Store(int64(bitsPerSecond)) }
func (e *fakeEncoder) Close() error                      { e.closed = true; return nil }
func (e *fakeEncoder) Encode(camera.Frame) (media.EncodedFrame, error) {
	e.frames++
	if e.failAfter > 0 && e.frames >= e.failAfter {
		return media.EncodedFrame{}, errors.New("/dev/video11 (bcm2835-codec-encode): VIDIOC_QBUF 0 OUTPUT: device is gone")
	}
	return media.EncodedFrame{Data: []byte{1}}, nil
}

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

// fakeM2M is a board's m2m devices: devices to probe, an encoder (and a
// decoder) that opens instances times and is then busy (or, with open nil, the real
// v4l2m2m on whatever node a test names), scalers that take the pictures
// or refuse them.
type fakeM2M struct {
	devices    []v4l2m2m.DeviceInfo
	instances  int
	scalerOpen bool
	realOpen   bool // open encoders with v4l2m2m itself (nodes that are not codecs)

	encoders []*fakeEncoder
	encOpts  []v4l2m2m.EncoderOptions
	scalers  []*fakeScaler

	// For the decoders (decoders_test.go): what probing says besides the
	// devices and how often it ran; instances is the decoder's limit too,
	// each decoder fails from frame decoderFailAt on (0: never).
	probeErr      error
	probes        int
	decoderFailAt int
	decoders      []*fakeDecoder
	decodersOpen  int
}

func (m *fakeM2M) probe() ([]v4l2m2m.DeviceInfo, error) { m.probes++; return m.devices, m.probeErr }

func (m *fakeM2M) openEncoder(o v4l2m2m.EncoderOptions) (media.VideoEncoder, error) {
	if m.realOpen {
		return boardM2M{}.openEncoder(o)
	}
	if len(m.encoders) == m.instances {
		return nil, fmt.Errorf("%s busy", o.Device)
	}
	e := &fakeEncoder{}
	m.encoders, m.encOpts = append(m.encoders, e), append(m.encOpts, o)
	return e, nil
}

func (m *fakeM2M) openScaler(o v4l2m2m.ScalerOptions) (frameScaler, error) {
	if !m.scalerOpen {
		return nil, fmt.Errorf("%s: takes no %s", o.Device, o.In.Pixel)
	}
	s := &fakeScaler{opts: o}
	m.scalers = append(m.scalers, s)
	return s, nil
}

// newTestSender is a sender of H.264 with the given mode and layers on
// the fake devices m.
func newTestSender(mode config.EncoderMode, layers int, m *fakeM2M) *VideoSender {
	s := NewVideoSender(VideoSenderOptions{Codec: media.CodecH264, BitsPerSecond: 1_500_000, KeyframeInterval: 60,
		Layers: layers, Mode: mode, Logger: quietLog})
	s.m2m = m
	return s
}

// TestFallbackEncoderGoesOnInSoftware: the hardware encoder fails at its
// fourth frame; that frame and the rest come from software, the caller
// sees no error, and the status says why.
func TestFallbackEncoderGoesOnInSoftware(t *testing.T) {
	hw, sw := &fakeEncoder{failAfter: 4}, &fakeEncoder{}
	var status EncoderChoice
	choice := EncoderChoice{Hardware: true, Device: "/dev/video11", Card: "bcm2835-codec-encode", Codec: media.CodecH264}
	enc := newFallbackEncoder(hw, func() (media.VideoEncoder, error) { return sw, nil }, choice,
		quietLog, func(c EncoderChoice) { status = c })
	enc.SetBitrate(800_000)
	frame := camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: 64, Height: 64}, Data: make([]byte, 64*64*3/2)}
	for i := 1; i <= 10; i++ {
		coded, err := enc.Encode(frame)
		if err != nil || len(coded.Data) == 0 {
			t.Fatalf("frame %d: %d bytes, %v; want the call to go on", i, len(coded.Data), err)
		}
	}
	if hw.frames != 4 || sw.frames != 7 || !hw.closed {
		t.Errorf("hardware coded %d frames (closed %v), software %d; want 4 (the last failed, then closed) and 7", hw.frames, hw.closed, sw.frames)
	}
	if sw.bitrate.Load() != 800_000 {
		t.Errorf("software encoder got bitrate %d, want the 800000 asked of the hardware one", sw.bitrate.Load())
	}
	if enc.Codec() != media.CodecH264 || status.Hardware ||
		!strings.Contains(status.Reason, "failed mid-call") || !strings.Contains(status.Reason, "device is gone") {
		t.Errorf("status after the failure: %+v; want software with the hardware's error", status)
	}
}

// TestSenderChoosesTheEncoder: one layer, each mode, with a board that has
// only vicodec (FWHT, the lab) or an H.264 encoder node that does not
// open: the sender codes in software and says why, or fails in hardware
// mode with ErrNoHardwareEncoder and the reason.
func TestSenderChoosesTheEncoder(t *testing.T) {
	vicodec := v4l2m2m.DeviceInfo{Path: "/dev/video0", Card: "vicodec", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatFWHT}}
	broken := v4l2m2m.DeviceInfo{Path: "/dev/null", Card: "fake-h264", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	tests := []struct {
		name    string
		mode    config.EncoderMode
		devices []v4l2m2m.DeviceInfo
		reason  string // in the status, or in the error
		fails   bool
	}{
		{"software forced", config.EncoderSoftware, []v4l2m2m.DeviceInfo{broken}, "software chosen in the settings", false},
		{"auto, only an FWHT encoder (the lab)", config.EncoderAuto, []v4l2m2m.DeviceInfo{vicodec}, "no m2m device encodes H264", false},
		{"auto, the hardware encoder does not start", config.EncoderAuto, []v4l2m2m.DeviceInfo{broken}, "the hardware encoder /dev/null (fake-h264) did not start", false},
		{"hardware forced, none there", config.EncoderHardware, []v4l2m2m.DeviceInfo{vicodec}, "no hardware encoder: no m2m device encodes H264", true},
		{"hardware forced, it does not start", config.EncoderHardware, []v4l2m2m.DeviceInfo{broken}, "no hardware encoder: /dev/null (fake-h264) did not start: open /dev/null", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSender(tt.mode, 1, &fakeM2M{devices: tt.devices, realOpen: true})
			set, err := s.open(camera.Format{Pixel: camera.PixelFormatI420, Width: 64, Height: 64, FPS: 30})
			if tt.fails {
				if !errors.Is(err, ErrNoHardwareEncoder) || !strings.Contains(err.Error(), tt.reason) {
					t.Errorf("err = %v, want ErrNoHardwareEncoder saying %q", err, tt.reason)
				}
				if set != nil {
					set.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			c := s.Choice()
			// One stream, software: the ladder (of one size here, 64x64
			// does not halve) with the camera size's encoder open.
			if set.ladder == nil || len(set.ladder.plan) != 1 || c.Hardware || set.ladder.encoders[0].Codec() != media.CodecH264 || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("chose %+v (%+v); want software H264 in one layer because %q", c, set, tt.reason)
			}
		})
	}
}
