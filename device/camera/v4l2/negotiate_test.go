package v4l2

import (
	"errors"
	"strings"
	"testing"

	"github.com/callbox/callbox/device/camera"
)

// fourcc is a pixel format Callbox does not name.
func fourcc(a, b, c, d byte) camera.PixelFormat {
	return camera.PixelFormat(uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24)
}

// A typical USB webcam: raw YUYV only at small sizes or low rates,
// MJPEG up to 1080p30.
var webcam = []FormatCaps{
	{Pixel: camera.PixelFormatYUYV, Sizes: []SizeCaps{
		DiscreteSize(640, 480, DiscreteInterval(30), DiscreteInterval(15)),
		DiscreteSize(1280, 720, DiscreteInterval(10)),
	}},
	{Pixel: camera.PixelFormatMJPEG, Sizes: []SizeCaps{
		DiscreteSize(640, 480, DiscreteInterval(30)),
		DiscreteSize(1280, 720, DiscreteInterval(30), DiscreteInterval(15)),
		DiscreteSize(1920, 1080, DiscreteInterval(30)),
	}},
}

// Like vivid's webcam input: many formats, same discrete sizes each.
var vividLike = func() []FormatCaps {
	sizes := []SizeCaps{
		DiscreteSize(320, 180, DiscreteInterval(60), DiscreteInterval(30)),
		DiscreteSize(640, 360, DiscreteInterval(60), DiscreteInterval(30)),
		DiscreteSize(1280, 720, DiscreteInterval(30), DiscreteInterval(25)),
		DiscreteSize(1920, 1080, DiscreteInterval(25), DiscreteInterval(15)),
	}
	var caps []FormatCaps
	for _, p := range []camera.PixelFormat{camera.PixelFormatYUYV, fourcc('R', 'G', 'B', '3'), camera.PixelFormatNV12, camera.PixelFormatI420} {
		caps = append(caps, FormatCaps{Pixel: p, Sizes: sizes})
	}
	return caps
}()

// A sensor with a stepwise size range and a continuous rate range.
var stepwise = []FormatCaps{
	{Pixel: camera.PixelFormatNV12, Sizes: []SizeCaps{{
		MinWidth: 64, MaxWidth: 2592, StepWidth: 32,
		MinHeight: 64, MaxHeight: 1944, StepHeight: 16,
		Intervals: []IntervalRange{{Min: Interval{1, 60}, Max: Interval{1, 1}}},
	}}},
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name string
		caps []FormatCaps
		want Want
		got  camera.Format
	}{
		{"raw format preferred when it does size and rate",
			webcam, Want{Width: 640, Height: 480, FPS: 30}, camera.Format{Pixel: camera.PixelFormatYUYV, Width: 640, Height: 480, FPS: 30}},
		{"MJPEG when raw falls short of the rate",
			webcam, Want{Width: 1280, Height: 720, FPS: 30}, camera.Format{Pixel: camera.PixelFormatMJPEG, Width: 1280, Height: 720, FPS: 30}},
		{"raw at lower rate chosen when rate asked is low",
			webcam, Want{Width: 1280, Height: 720, FPS: 10}, camera.Format{Pixel: camera.PixelFormatYUYV, Width: 1280, Height: 720, FPS: 10}},
		{"closest rate to wanted",
			webcam[:1], Want{Width: 640, Height: 480, FPS: 20}, camera.Format{Pixel: camera.PixelFormatYUYV, Width: 640, Height: 480, FPS: 15}},
		{"smallest covering size when exact missing",
			webcam, Want{Width: 800, Height: 600, FPS: 30}, camera.Format{Pixel: camera.PixelFormatMJPEG, Width: 1280, Height: 720, FPS: 30}},
		{"largest smaller size when none covers",
			webcam, Want{Width: 2560, Height: 1440, FPS: 30}, camera.Format{Pixel: camera.PixelFormatMJPEG, Width: 1920, Height: 1080, FPS: 30}},
		{"zero want means 1280x720@30",
			webcam, Want{}, camera.Format{Pixel: camera.PixelFormatMJPEG, Width: 1280, Height: 720, FPS: 30}},
		{"forced pixel format",
			webcam, Want{Width: 1280, Height: 720, FPS: 30, Pixel: camera.PixelFormatYUYV}, camera.Format{Pixel: camera.PixelFormatYUYV, Width: 1280, Height: 720, FPS: 10}},
		{"I420 first among raw formats",
			vividLike, Want{Width: 1280, Height: 720, FPS: 30}, camera.Format{Pixel: camera.PixelFormatI420, Width: 1280, Height: 720, FPS: 30}},
		{"NV12 over YUYV",
			vividLike[:3], Want{Width: 640, Height: 360, FPS: 30}, camera.Format{Pixel: camera.PixelFormatNV12, Width: 640, Height: 360, FPS: 30}},
		{"YUYV when NV12 absent, unknown format ignored",
			vividLike[:2], Want{Width: 320, Height: 180, FPS: 60}, camera.Format{Pixel: camera.PixelFormatYUYV, Width: 320, Height: 180, FPS: 60}},
		{"stepwise exact",
			stepwise, Want{Width: 1280, Height: 720, FPS: 30}, camera.Format{Pixel: camera.PixelFormatNV12, Width: 1280, Height: 720, FPS: 30}},
		{"stepwise rounds up to the step",
			stepwise, Want{Width: 1000, Height: 562, FPS: 24}, camera.Format{Pixel: camera.PixelFormatNV12, Width: 1024, Height: 576, FPS: 24}},
		{"stepwise clamps to max, rate clamps to range",
			stepwise, Want{Width: 3000, Height: 2000, FPS: 90}, camera.Format{Pixel: camera.PixelFormatNV12, Width: 2592, Height: 1944, FPS: 60}},
		{"stepwise clamps to min",
			stepwise, Want{Width: 40, Height: 40, FPS: 5}, camera.Format{Pixel: camera.PixelFormatNV12, Width: 64, Height: 64, FPS: 5}},
		{"no intervals enumerated: asks wanted rate",
			[]FormatCaps{{Pixel: camera.PixelFormatYUYV, Sizes: []SizeCaps{DiscreteSize(640, 480)}}}, Want{Width: 640, Height: 480, FPS: 25},
			camera.Format{Pixel: camera.PixelFormatYUYV, Width: 640, Height: 480, FPS: 25}},
		{"full rate beats nearer size when neither covers",
			webcam[:1], Want{Width: 1280, Height: 960, FPS: 30}, camera.Format{Pixel: camera.PixelFormatYUYV, Width: 640, Height: 480, FPS: 30}},
		{"half size still accepted",
			[]FormatCaps{{Pixel: camera.PixelFormatYUYV, Sizes: []SizeCaps{DiscreteSize(640, 480)}}}, Want{Width: 1280, Height: 960, FPS: 30},
			camera.Format{Pixel: camera.PixelFormatYUYV, Width: 640, Height: 480, FPS: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Negotiate(tt.caps, tt.want)
			if err != nil {
				t.Fatalf("Negotiate(%+v) error: %v", tt.want, err)
			}
			if got != tt.got {
				t.Errorf("Negotiate(%+v) = %v, want %v", tt.want, got, tt.got)
			}
		})
	}
}

func TestNegotiateStepwiseInterval(t *testing.T) {
	caps := []FormatCaps{{Pixel: camera.PixelFormatYUYV, Sizes: []SizeCaps{{
		MinWidth: 640, MaxWidth: 640, MinHeight: 480, MaxHeight: 480,
		// 1/30 s .. 1/5 s in steps of 1/30 s: 30, 15, 10, 7.5, 6, 5 fps.
		Intervals: []IntervalRange{{Min: Interval{1, 30}, Max: Interval{1, 5}, Step: Interval{1, 30}}},
	}}}}
	tests := []struct {
		fps      int
		interval Interval
	}{
		{30, Interval{1, 30}},
		{60, Interval{1, 30}},
		{15, Interval{1, 15}},
		{12, Interval{1, 10}}, // 1/12 s is nearest 3/30 s
		{8, Interval{2, 15}},  // 4/30 s = 7.5 fps
		{1, Interval{1, 5}},
	}
	for _, tt := range tests {
		c, err := negotiate(caps, Want{Width: 640, Height: 480, FPS: tt.fps})
		if err != nil {
			t.Fatalf("fps %d: %v", tt.fps, err)
		}
		if c.interval != tt.interval {
			t.Errorf("fps %d: interval %v, want %v", tt.fps, c.interval, tt.interval)
		}
	}
}

func TestNegotiateErrors(t *testing.T) {
	tests := []struct {
		name    string
		caps    []FormatCaps
		want    Want
		message string
	}{
		{"size far too big",
			[]FormatCaps{{Pixel: camera.PixelFormatYUYV, Sizes: []SizeCaps{DiscreteSize(640, 480), DiscreteSize(1280, 720)}}},
			Want{Width: 4000, Height: 3000, FPS: 30},
			"unsupported size 4000x3000: device offers 640x480, 1280x720 in YUYV"},
		{"too wide, though height fits",
			[]FormatCaps{{Pixel: camera.PixelFormatYUYV, Sizes: []SizeCaps{DiscreteSize(1280, 720)}}},
			Want{Width: 2600, Height: 720, FPS: 30},
			"unsupported size 2600x720: device offers 1280x720 in YUYV"},
		{"lists every usable format",
			webcam, Want{Width: 7680, Height: 4320},
			"device offers 640x480, 1280x720 in YUYV; 640x480, 1280x720, 1920x1080 in MJPG"},
		{"only formats callbox does not understand",
			[]FormatCaps{{Pixel: fourcc('R', 'G', 'B', '3'), Sizes: []SizeCaps{DiscreteSize(640, 480)}}, {Pixel: fourcc('H', '2', '6', '4')}},
			Want{},
			"no usable pixel format: device offers RGB3, H264"},
		{"forced format not offered",
			webcam, Want{Pixel: camera.PixelFormatNV12},
			"pixel format NV12 not offered: device offers YUYV, MJPG"},
		{"forced format callbox cannot use",
			webcam, Want{Pixel: fourcc('R', 'G', 'B', '3')},
			"pixel format RGB3: callbox understands only YU12, NV12, YUYV, MJPG"},
		{"no formats at all", nil, Want{}, "device offers none"},
		{"negative size", webcam, Want{Width: -1, Height: 720}, "invalid size -1x720"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Negotiate(tt.caps, tt.want)
			if err == nil {
				t.Fatalf("Negotiate(%+v) = %v, want an error", tt.want, got)
			}
			if !errors.Is(err, camera.ErrUnsupportedFormat) {
				t.Errorf("error %q does not wrap camera.ErrUnsupportedFormat", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
		})
	}
}

func TestSnapUp(t *testing.T) {
	tests := []struct{ v, lo, hi, step, want int }{
		{640, 640, 640, 0, 640},    // discrete
		{100, 64, 1000, 32, 128},   // rounds up to the grid
		{96, 64, 1000, 32, 96},     // on the grid
		{999, 64, 1000, 32, 992},   // rounding up would pass the max
		{2000, 64, 1000, 32, 1000}, // clamped to max
		{10, 64, 1000, 32, 64},     // clamped to min
		{123, 16, 8192, 1, 123},    // continuous
		{123, 16, 8192, 0, 123},    // step missing: treated as 1
	}
	for _, tt := range tests {
		if got := snapUp(tt.v, tt.lo, tt.hi, tt.step); got != tt.want {
			t.Errorf("snapUp(%d, %d..%d step %d) = %d, want %d", tt.v, tt.lo, tt.hi, tt.step, got, tt.want)
		}
	}
}
