package main

import (
	"errors"
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

// fakeEncoder stands in for a hardware or software encoder.
type fakeEncoder struct {
	failAfter int // Encode fails from this frame on; 0: never
	frames    int
	bitrate   int
	closed    bool
}

func (e *fakeEncoder) Codec() media.Codec                { return media.CodecH264 }
func (e *fakeEncoder) Accepts(p camera.PixelFormat) bool { return p == camera.PixelFormatI420 }
func (e *fakeEncoder) ForceKeyFrame()                    {}
func (e *fakeEncoder) SetBitrate(bitsPerSecond int)      { e.bitrate = bitsPerSecond }
func (e *fakeEncoder) Close() error                      { e.closed = true; return nil }
func (e *fakeEncoder) Encode(camera.Frame) (media.EncodedFrame, error) {
	e.frames++
	if e.failAfter > 0 && e.frames >= e.failAfter {
		return media.EncodedFrame{}, errors.New("/dev/video11 (bcm2835-codec-encode): VIDIOC_QBUF 0 OUTPUT: device is gone")
	}
	return media.EncodedFrame{Data: []byte{1}}, nil
}

// TestFallbackEncoderGoesOnInSoftware: the hardware encoder fails at its
// fourth frame; that frame and the rest come from software, the caller
// sees no error, and the status says why.
func TestFallbackEncoderGoesOnInSoftware(t *testing.T) {
	hw, sw := &fakeEncoder{failAfter: 4}, &fakeEncoder{}
	var status v4l2m2m.Choice
	choice := v4l2m2m.Choice{Hardware: true, Device: "/dev/video11", Card: "bcm2835-codec-encode", Codec: media.CodecH264}
	enc := newFallbackEncoder(hw, func() (media.VideoEncoder, error) { return sw, nil }, choice,
		slog.New(slog.NewTextHandler(io.Discard, nil)), func(c v4l2m2m.Choice) { status = c })
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
	if sw.bitrate != 800_000 {
		t.Errorf("software encoder got bitrate %d, want the 800000 asked of the hardware one", sw.bitrate)
	}
	if enc.Codec() != media.CodecH264 || status.Hardware ||
		!strings.Contains(status.Reason, "failed mid-call") || !strings.Contains(status.Reason, "device is gone") {
		t.Errorf("status after the failure: %+v; want software with the hardware's error", status)
	}
}

func TestNewVideoEncoderChoice(t *testing.T) {
	vicodec := v4l2m2m.DeviceInfo{Path: "/dev/video0", Card: "vicodec", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatFWHT}}
	broken := v4l2m2m.DeviceInfo{Path: "/dev/null", Card: "fake-h264", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	tests := []struct {
		name    string
		mode    string
		devices []v4l2m2m.DeviceInfo
		reason  string // in the status, or in the error
		fails   bool
	}{
		{"software forced", "software", []v4l2m2m.DeviceInfo{broken}, "video.encoder = software", false},
		{"auto, only an FWHT encoder (the lab)", "auto", []v4l2m2m.DeviceInfo{vicodec}, "no m2m device encodes H264", false},
		{"auto, the hardware encoder does not start", "auto", []v4l2m2m.DeviceInfo{broken}, "the hardware encoder /dev/null (fake-h264) did not start", false},
		{"hardware forced, none there", "hardware", []v4l2m2m.DeviceInfo{vicodec}, "video.encoder = hardware, but no m2m device encodes H264", true},
		{"hardware forced, it does not start", "hardware", []v4l2m2m.DeviceInfo{broken}, "video.encoder = hardware: open /dev/null", true},
	}
	saved := probeM2M
	t.Cleanup(func() { probeM2M = saved })
	for _, tt := range tests {
		probeM2M = func() ([]v4l2m2m.DeviceInfo, error) { return tt.devices, nil }
		cfg := config.Default()
		cfg.Video.Encoder = config.EncoderMode(tt.mode)
		d := &daemon{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		f := camera.Format{Pixel: camera.PixelFormatI420, Width: 64, Height: 64, FPS: 30}
		enc, err := d.newVideoEncoder(f, pipeline.VideoSettings{Width: 64, Height: 64, FPS: 30, BitsPerSecond: 300_000, KeyframeInterval: 60})
		if tt.fails {
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("%s: err = %v, want one saying %q", tt.name, err, tt.reason)
			}
			if enc != nil {
				enc.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		c := d.videoEncoderChoice()
		if c.Hardware || enc.Codec() != media.CodecH264 || !strings.Contains(c.Reason, tt.reason) {
			t.Errorf("%s: chose %+v (codec %s); want software H264 because %q", tt.name, c, enc.Codec(), tt.reason)
		}
		enc.Close()
	}
}
