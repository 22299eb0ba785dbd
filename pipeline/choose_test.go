package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

func TestChooseEncoder(t *testing.T) {
	vicodec := v4l2m2m.DeviceInfo{Path: "/dev/video3", Card: "vicodec", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatFWHT}}
	vim2m := v4l2m2m.DeviceInfo{Path: "/dev/video5", Card: "vim2m", Converts: true}
	piDecoder := v4l2m2m.DeviceInfo{Path: "/dev/video10", Card: "bcm2835-codec-decode", DecodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	piEncoder := v4l2m2m.DeviceInfo{Path: "/dev/video11", Card: "bcm2835-codec-encode", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	lab := []v4l2m2m.DeviceInfo{vicodec, vim2m}
	pi := []v4l2m2m.DeviceInfo{piDecoder, piEncoder}
	tests := []struct {
		name     string
		mode     config.EncoderMode
		codec    media.Codec
		devices  []v4l2m2m.DeviceInfo
		hardware bool
		device   string
		reason   string // a part of the reason or error
		fails    bool
	}{
		{"Pi 4, auto, H.264", config.EncoderAuto, media.CodecH264, pi, true, "/dev/video11", "bcm2835-codec-encode encodes H264", false},
		{"Pi 4, hardware, H.264", config.EncoderHardware, media.CodecH264, pi, true, "/dev/video11", "encodes H264 (hardware chosen in the settings)", false},
		{"Pi 4, forced software", config.EncoderSoftware, media.CodecH264, pi, false, "", "software chosen in the settings", false},
		{"Pi 4, VP8 call", config.EncoderAuto, media.CodecVP8, pi, false, "", "no m2m device encodes VP8", false},
		{"lab, auto, H.264: vicodec speaks FWHT", config.EncoderAuto, media.CodecH264, lab, false, "", "vicodec", false},
		{"lab, FWHT", config.EncoderAuto, media.CodecFWHT, lab, true, "/dev/video3", "vicodec encodes FWHT", false},
		{"no devices, auto", config.EncoderAuto, media.CodecH264, nil, false, "", "found no m2m devices", false},
		{"no devices, forced hardware", config.EncoderHardware, media.CodecH264, nil, false, "", "no hardware encoder: no m2m device encodes H264", true},
		{"unknown mode", "gpu", media.CodecH264, pi, false, "", `encoder mode "gpu" is not one of auto, hardware, software`, true},
	}
	for _, tt := range tests {
		c, err := chooseEncoder(tt.mode, tt.codec, tt.devices, nil)
		if tt.fails {
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("%s: err = %v, want one saying %q", tt.name, err, tt.reason)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.Hardware != tt.hardware || c.Device != tt.device || !strings.Contains(c.Reason, tt.reason) {
			t.Errorf("%s: chose %+v; want hardware=%v device=%q reason with %q", tt.name, c, tt.hardware, tt.device, tt.reason)
		}
	}
	c, _ := chooseEncoder(config.EncoderAuto, media.CodecH264, nil, errors.New("/dev/video0: permission denied"))
	if !strings.Contains(c.Reason, "permission denied") {
		t.Errorf("a probe error is not in the reason: %q", c.Reason)
	}
}
