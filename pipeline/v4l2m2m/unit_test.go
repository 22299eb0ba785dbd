package v4l2m2m

import (
	"errors"
	"strings"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

func TestIsKeyframe(t *testing.T) {
	fwht := func(flags uint32) []byte {
		b := make([]byte, 44)
		b[20], b[21], b[22], b[23] = byte(flags>>24), byte(flags>>16), byte(flags>>8), byte(flags)
		return b
	}
	tests := []struct {
		name  string
		codec media.Codec
		data  []byte
		want  bool
	}{
		{"H.264 SPS PPS IDR", media.CodecH264, []byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 0x88}, true},
		{"H.264 P slice", media.CodecH264, []byte{0, 0, 0, 1, 0x41, 0x9a}, false},
		{"H.264 garbage", media.CodecH264, []byte{0x65, 0x65, 0x65}, false},
		{"VP8 key frame", media.CodecVP8, []byte{0x10, 0x02, 0x00}, true},
		{"VP8 inter frame", media.CodecVP8, []byte{0x11, 0x02, 0x00}, false},
		{"FWHT I frame", media.CodecFWHT, fwht(fwhtFlagIFrame | 0x80), true},
		{"FWHT P frame", media.CodecFWHT, fwht(0x80), false},
		{"FWHT short header", media.CodecFWHT, []byte{1, 2, 3}, false},
	}
	for _, tt := range tests {
		if got := media.IsKeyframe(tt.codec, tt.data); got != tt.want {
			t.Errorf("%s: media.IsKeyframe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestH264HasPicture(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"parameter sets alone", []byte{0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2}, false},
		{"with an IDR slice", []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x65, 2}, true},
		{"a P slice", []byte{0, 0, 1, 0x41, 2}, true},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := h264HasPicture(tt.data); got != tt.want {
			t.Errorf("%s: h264HasPicture = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCopyPicture copies a 6x4 I420 picture into buffers with wider lines
// and as NV12, and back, and checks every pixel arrives.
func TestCopyPicture(t *testing.T) {
	const w, h = 6, 4
	src := make([]byte, w*h*3/2)
	for i := range src {
		src[i] = byte(i + 1)
	}
	frame := camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: w, Height: h}, Data: src}
	sp, err := framePicture(frame)
	if err != nil {
		t.Fatal(err)
	}
	for _, pixel := range []camera.PixelFormat{camera.PixelFormatI420, camera.PixelFormatNV12} {
		const stride, rows = 16, 8 // a device's padded layout
		dev := make([]byte, stride*rows*3/2)
		dp, err := pictureIn(pixel, w, h, stride, rows, dev)
		if err != nil {
			t.Fatalf("%s: %v", pixel, err)
		}
		if err := copyPicture(dp, sp); err != nil {
			t.Fatalf("%s: %v", pixel, err)
		}
		back := make([]byte, len(src))
		bp, _ := pictureIn(camera.PixelFormatI420, w, h, 0, h, back)
		if err := copyPicture(bp, dp); err != nil {
			t.Fatalf("%s back: %v", pixel, err)
		}
		if string(back) != string(src) {
			t.Errorf("through a padded %s buffer: got %v, want %v", pixel, back, src)
		}
		if dev[stride] != src[w] {
			t.Errorf("%s: the second line starts at %d, want the source's %d", pixel, dev[stride], src[w])
		}
	}
	yuyv, _ := pictureIn(camera.PixelFormatYUYV, w, h, 0, h, make([]byte, w*h*2))
	if err := copyPicture(yuyv, sp); err == nil {
		t.Error("copying I420 into YUYV: no error")
	}
	if _, err := pictureIn(camera.PixelFormatI420, w, h, 0, h, make([]byte, 10)); err == nil {
		t.Error("a 10-byte buffer for a 6x4 I420 picture: no error")
	}
}

func TestPickRaw(t *testing.T) {
	formats := []formatDesc{{pixel: PixelFormatRGB24}, {pixel: camera.PixelFormatYUYV}, {pixel: camera.PixelFormatNV12}}
	tests := []struct {
		want, got camera.PixelFormat
		fails     bool
	}{
		{want: camera.PixelFormatYUYV, got: camera.PixelFormatYUYV},
		{want: camera.PixelFormatI420, got: camera.PixelFormatNV12},
		{want: 0, got: camera.PixelFormatNV12},
		{want: camera.PixelFormatMJPEG, got: camera.PixelFormatNV12},
	}
	for _, tt := range tests {
		got, err := pickRaw(formats, tt.want)
		if err != nil || got != tt.got {
			t.Errorf("pickRaw(%s) = %s, %v; want %s", tt.want, got, err, tt.got)
		}
	}
	if _, err := pickRaw([]formatDesc{{pixel: PixelFormatRGB24}}, 0); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "RGB3") {
		t.Errorf("a device taking only RGB24: err = %v, want ErrUnsupported naming RGB3", err)
	}
}

// vicodec's nodes and a Pi's bcm2835-codec as probing sees them.
var (
	vicodecEncoder = formats(raw(camera.PixelFormatI420, camera.PixelFormatNV12), coded(PixelFormatFWHT))
	vicodecDecoder = formats(coded(PixelFormatFWHT), raw(camera.PixelFormatI420, camera.PixelFormatNV12))
	piEncoder      = formats(raw(camera.PixelFormatI420, camera.PixelFormatYUYV), coded(PixelFormatH264))
	piDecoder      = formats(coded(PixelFormatH264, fourcc('M', 'J', 'P', 'G')), raw(camera.PixelFormatI420))
	scaler         = formats(raw(PixelFormatRGB24), raw(camera.PixelFormatYUYV, PixelFormatRGB24))
)

type queueFormats struct{ takes, gives []formatDesc }

func formats(takes, gives []formatDesc) queueFormats { return queueFormats{takes, gives} }
func raw(p ...camera.PixelFormat) []formatDesc {
	var out []formatDesc
	for _, f := range p {
		out = append(out, formatDesc{pixel: f})
	}
	return out
}
func coded(p ...camera.PixelFormat) []formatDesc {
	out := raw(p...)
	for i := range out {
		out[i].compressed = true
	}
	return out
}

func probed(path, card string, f queueFormats) DeviceInfo {
	info := DeviceInfo{Path: path, Card: card}
	classify(&info, f.takes, f.gives)
	return info
}

func TestClassify(t *testing.T) {
	enc := probed("/dev/video3", "vicodec", vicodecEncoder)
	if !enc.CanEncode(media.CodecFWHT) || enc.CanEncode(media.CodecH264) || enc.CanDecode(media.CodecFWHT) || enc.Converts {
		t.Errorf("vicodec encoder classified as %+v", enc)
	}
	dec := probed("/dev/video4", "vicodec", vicodecDecoder)
	if !dec.CanDecode(media.CodecFWHT) || dec.CanEncode(media.CodecFWHT) {
		t.Errorf("vicodec decoder classified as %+v", dec)
	}
	pi := probed("/dev/video10", "bcm2835-codec-decode", piDecoder)
	if !pi.CanDecode(media.CodecH264) || pi.CanDecode(media.CodecVP8) {
		t.Errorf("Pi decoder classified as %+v", pi)
	}
	if pi := probed("/dev/video11", "bcm2835-codec-encode", piEncoder); !pi.CanEncode(media.CodecH264) || pi.CanDecode(media.CodecH264) || pi.Converts {
		t.Errorf("Pi encoder classified as %+v", pi)
	}
	if s := probed("/dev/video5", "vim2m", scaler); !s.Converts || len(s.EncodeFormats)+len(s.DecodeFormats) != 0 {
		t.Errorf("vim2m classified as %+v", s)
	}
}

func TestProbeSkipsWhatIsNotM2M(t *testing.T) {
	dir := t.TempDir()
	infos, err := Probe(dir)
	if err != nil || len(infos) != 0 {
		t.Errorf("Probe(empty dir) = %v, %v; want nothing", infos, err)
	}
}
