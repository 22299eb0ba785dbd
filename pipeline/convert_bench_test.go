package pipeline_test

import (
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/pipeline"
)

func BenchmarkConvert720p(b *testing.B) {
	const w, h = 1280, 720
	for _, tc := range []struct {
		pixel camera.PixelFormat
		size  int
	}{{camera.PixelFormatYUYV, w * h * 2}, {camera.PixelFormatNV12, w * h * 3 / 2}} {
		b.Run(tc.pixel.String(), func(b *testing.B) {
			f := camera.Frame{Format: camera.Format{Pixel: tc.pixel, Width: w, Height: h}, Data: make([]byte, tc.size)}
			var conv pipeline.Converter
			defer conv.Close()
			b.SetBytes(int64(tc.size))
			for b.Loop() {
				if _, err := conv.ToI420(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
