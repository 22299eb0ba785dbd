package pipeline

// The decoder policy, with fakes at the hardware interface (m2mDevices,
// as for the encoder): which decoder each participant gets and why, the
// device's limit of instances, and the way back to software mid-call.

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"strings"
	"testing"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// A Pi 4's bcm2835-codec as probing sees it, and the lab's vicodec.
var (
	piH264Decoder  = v4l2m2m.DeviceInfo{Path: "/dev/video10", Card: "bcm2835-codec-decode", DecodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	piH264Encoder  = v4l2m2m.DeviceInfo{Path: "/dev/video11", Card: "bcm2835-codec-encode", EncodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatH264}}
	vicodecDecoder = v4l2m2m.DeviceInfo{Path: "/dev/video4", Card: "vicodec", DecodeFormats: []camera.PixelFormat{v4l2m2m.PixelFormatFWHT}}
)

// fakeDecoder stands in for an m2m decoder or libavcodec: each picture it
// gives is filled with its kind's mark, so a test sees which decoder made
// it. From frame failAt on it fails for good (the device vanished); frame
// corruptAt it says is corrupt, as a device marks a buffer (1-based; 0:
// never).
type fakeDecoder struct {
	mark              byte
	device            string
	failAt, corruptAt int
	frames            int
	closed            bool
	onClose           func()
}

const (
	hardwareMark = 'h'
	softwareMark = 's'
)

func (d *fakeDecoder) Decode(frame []byte) (*image.YCbCr, error) {
	d.frames++
	switch {
	case d.failAt > 0 && d.frames >= d.failAt:
		return nil, fmt.Errorf("%s (bcm2835-codec-decode): waiting for a decoded picture: %w", d.device, v4l2m2m.ErrGone)
	case d.frames == d.corruptAt:
		return nil, fmt.Errorf("%s (bcm2835-codec-decode): the device could not decode frame %d: %w", d.device, d.frames, v4l2m2m.ErrCorruptFrame)
	}
	pic := image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)
	pic.Y[0] = d.mark
	return pic, nil
}

func (d *fakeDecoder) Close() error {
	d.closed = true
	if d.onClose != nil {
		d.onClose()
	}
	return nil
}

func (m *fakeM2M) openDecoder(o v4l2m2m.DecoderOptions) (media.VideoDecoder, error) {
	if m.decodersOpen == m.instances {
		return nil, fmt.Errorf("%s: VIDIOC_REQBUFS OUTPUT: device or resource busy", o.Device)
	}
	m.decodersOpen++
	d := &fakeDecoder{mark: hardwareMark, device: o.Device, failAt: m.decoderFailAt, onClose: func() { m.decodersOpen-- }}
	m.decoders = append(m.decoders, d)
	return d, nil
}

func newTestDecoders(mode config.DecoderMode, m *fakeM2M) *VideoDecoders {
	software := func(media.Codec) (media.VideoDecoder, error) { return &fakeDecoder{mark: softwareMark}, nil }
	v := NewVideoDecoders(VideoDecodersOptions{Mode: mode, Software: software, Logger: quietLog})
	v.m2m = m
	return v
}

// H.264 access units as far as the decoders' policy reads them: an IDR
// slice, and a P slice.
var (
	h264Keyframe = []byte{0, 0, 0, 1, 0x65, 0x88, 0x84}
	h264PFrame   = []byte{0, 0, 0, 1, 0x41, 0x9a, 0x02}
)

// decodedBy says which kind of decoder made pic.
func decodedBy(pic *image.YCbCr) string {
	switch {
	case pic == nil:
		return "no picture"
	case pic.Y[0] == hardwareMark:
		return "hardware"
	case pic.Y[0] == softwareMark:
		return "software"
	}
	return "unknown"
}

// TestDecoderChoice: which decoder a participant gets on each board and
// setting, and the reason the status page and the log give.
func TestDecoderChoice(t *testing.T) {
	tests := []struct {
		name     string
		mode     config.DecoderMode
		codec    media.Codec
		devices  []v4l2m2m.DeviceInfo
		probeErr error
		hardware bool
		device   string
		reason   string
	}{
		{"Pi 4, H.264", config.DecoderAuto, media.CodecH264, []v4l2m2m.DeviceInfo{piH264Encoder, piH264Decoder}, nil, true, "/dev/video10", "bcm2835-codec-decode decodes H264"},
		{"Pi 4, software chosen", config.DecoderSoftware, media.CodecH264, []v4l2m2m.DeviceInfo{piH264Decoder}, nil, false, "", "software chosen in the settings"},
		{"Pi 4, a VP8 participant", config.DecoderAuto, media.CodecVP8, []v4l2m2m.DeviceInfo{piH264Decoder}, nil, false, "", "no m2m device decodes VP8; found /dev/video10 (bcm2835-codec-decode, ): decodes H264"},
		{"the lab: vicodec reads FWHT only", config.DecoderAuto, media.CodecH264, []v4l2m2m.DeviceInfo{vicodecDecoder}, nil, false, "", "no m2m device decodes H264; found /dev/video4 (vicodec"},
		{"no m2m devices", config.DecoderAuto, media.CodecH264, nil, nil, false, "", "found no m2m devices"},
		{"a node that cannot be probed", config.DecoderAuto, media.CodecH264, nil, errors.New("/dev/video0: permission denied"), false, "", "could not probe: /dev/video0: permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeM2M{devices: tt.devices, probeErr: tt.probeErr, instances: 4}
			v := newTestDecoders(tt.mode, m)
			dec, err := v.Open("guest-1", tt.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			c := v.Choice("guest-1")
			if c.Hardware != tt.hardware || c.Device != tt.device || c.Codec != tt.codec || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("chose %+v; want hardware=%v device=%q, a reason with %q", c, tt.hardware, tt.device, tt.reason)
			}
			if tt.mode == config.DecoderSoftware && m.probes > 0 {
				t.Errorf("software chosen, and the devices were probed %d times", m.probes)
			}
		})
	}
}

// TestDecoderInstanceLimit: the device gives two instances; the first two
// participants are decoded in hardware, the other two in software with
// the device's refusal as the reason, and everyone's pictures come. One
// of the first two leaves: the next to come gets its instance.
func TestDecoderInstanceLimit(t *testing.T) {
	m := &fakeM2M{devices: []v4l2m2m.DeviceInfo{piH264Decoder}, instances: 2}
	v := newTestDecoders(config.DecoderAuto, m)
	decoders := map[string]media.VideoDecoder{}
	for _, who := range []string{"ada", "bob", "cy", "dee"} {
		dec, err := v.Open(who, media.CodecH264)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		decoders[who] = dec
	}
	for who, want := range map[string]string{"ada": "hardware", "bob": "hardware", "cy": "software", "dee": "software"} {
		for i, f := range [][]byte{h264Keyframe, h264PFrame} {
			if pic, err := decoders[who].Decode(f); err != nil || decodedBy(pic) != want {
				t.Errorf("%s's frame %d: %s, %v; want a picture from %s", who, i, decodedBy(pic), err, want)
			}
		}
	}
	for who, want := range map[string]string{"ada": "hardware, /dev/video10 (bcm2835-codec-decode)", "bob": "hardware, /dev/video10 (bcm2835-codec-decode)", "cy": "software", "dee": "software"} {
		if got := v.Choice(who).String(); got != want {
			t.Errorf("%s's decoder: %q, want %q", who, got, want)
		}
	}
	if hw, sw := v.InUse(); hw != 2 || sw != 2 {
		t.Errorf("decoders in use: %d hardware, %d software; want 2 and 2", hw, sw)
	}
	if r := v.Choice("cy").Reason; !strings.Contains(r, "/dev/video10 (bcm2835-codec-decode) did not start") || !strings.Contains(r, "busy") {
		t.Errorf("why cy is in software: %q; want the device's refusal", r)
	}
	if err := decoders["ada"].Close(); err != nil {
		t.Fatal(err)
	}
	if c := v.Choice("ada"); c != (DecoderChoice{}) {
		t.Errorf("ada left, and her choice stays: %+v", c)
	}
	eve, err := v.Open("eve", media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	defer eve.Close()
	if !v.Choice("eve").Hardware {
		t.Errorf("eve came after ada left: %+v; want ada's hardware instance", v.Choice("eve"))
	}
	for _, who := range []string{"bob", "cy", "dee"} {
		if err := decoders[who].Close(); err != nil {
			t.Errorf("close %s's decoder: %v", who, err)
		}
	}
	if m.decodersOpen != 1 {
		t.Errorf("%d hardware instances open, want eve's alone", m.decodersOpen)
	}
}

// TestDecoderFallsBackMidCall: the hardware decoder shows frames 0-2,
// says frame 3 is corrupt (the same decoder goes on), then the device
// vanishes at frame 6: Decode says why and that software starts at the
// next keyframe (the screen asks the sender for one), the hardware
// decoder is closed, and from the keyframe at 8 on software shows every
// picture.
func TestDecoderFallsBackMidCall(t *testing.T) {
	m := &fakeM2M{devices: []v4l2m2m.DeviceInfo{piH264Decoder}, instances: 1, decoderFailAt: 7}
	v := newTestDecoders(config.DecoderAuto, m)
	dec, err := v.Open("ada", media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	m.decoders[0].corruptAt = 4
	for i := range 12 {
		frame := h264PFrame
		if i%4 == 0 {
			frame = h264Keyframe
		}
		pic, err := dec.Decode(frame)
		switch {
		case i == 3:
			if !errors.Is(err, v4l2m2m.ErrCorruptFrame) || !v.Choice("ada").Hardware {
				t.Errorf("frame 3 (corrupt): %v, decoder %+v; want ErrCorruptFrame and the hardware decoder kept", err, v.Choice("ada"))
			}
		case i == 6:
			if err == nil || !strings.Contains(err.Error(), "failed mid-call") || !strings.Contains(err.Error(), "next keyframe") {
				t.Errorf("frame 6 (the device vanished): %v; want an error saying it failed and software waits for a keyframe", err)
			}
		case i < 6 && (err != nil || decodedBy(pic) != "hardware"):
			t.Errorf("frame %d: %s, %v; want a picture from the hardware", i, decodedBy(pic), err)
		case i > 6 && (err != nil || decodedBy(pic) != "software"):
			t.Errorf("frame %d: %s, %v; want a picture from software", i, decodedBy(pic), err)
		}
	}
	c := v.Choice("ada")
	if c.Hardware || !strings.Contains(c.Reason, "/dev/video10 (bcm2835-codec-decode) failed mid-call") || !strings.Contains(c.Reason, "device is gone") {
		t.Errorf("after the failure: %+v; want software with the device's error", c)
	}
	if hw := m.decoders[0]; !hw.closed || hw.frames != 7 || m.decodersOpen != 0 {
		t.Errorf("hardware decoder: %d frames, closed %v, %d open; want 7 (the last failed), then closed", hw.frames, hw.closed, m.decodersOpen)
	}
	if v.Fallbacks() != 1 {
		t.Errorf("fallbacks = %d, want 1", v.Fallbacks())
	}
}

// TestDecoderLogCleansTheParticipant: a participant's identity comes from
// the network; the decoder's log line holds it cut and without control
// characters, as callboxd's other lines do.
func TestDecoderLogCleansTheParticipant(t *testing.T) {
	var logged bytes.Buffer
	v := newTestDecoders(config.DecoderAuto, &fakeM2M{})
	v.log = slog.New(slog.NewTextHandler(&logged, nil))
	dec, err := v.Open("guest-\x1b[2J\u202e"+strings.Repeat("x", 3000), media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	dec.Close()
	line := logged.String()
	if len(line) > 400 || strings.Contains(line, "\x1b") || strings.Contains(line, `\x1b`) || strings.Contains(line, "\u202e") || strings.Contains(line, `\u202e`) {
		t.Errorf("log line of %d bytes: %.200q", len(line), line)
	}
}
