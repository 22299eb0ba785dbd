package compose

import (
	"image"
	"testing"

	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/pipelinetest"
)

// BenchmarkComposite1080p draws four 640x360 participants in a grid on a
// 1920x1080 frame, the figure make bench reports as composite time.
func BenchmarkComposite1080p(b *testing.B) {
	frame := display.NewFrame(1920, 1080)
	var scene Scene
	for i, id := range []string{"a", "b", "c", "d"} {
		scene.Participants = append(scene.Participants, Participant{Identity: id, Name: id,
			Picture: patternPicture(b, 640, 360, i+1, 128, 128)})
	}
	scene.Self = patternPicture(b, 640, 360, 1, 128, 128)
	scene.Status = "in call"
	var c Compositor
	defer c.Close()
	for b.Loop() {
		c.Draw(frame, scene)
	}
	_ = image.Pt
}

// BenchmarkDecodeComposite1080p decodes one 640x360 H.264 frame for each of
// four participants and draws the 1080p grid: decode_composite_ms_per_frame.
func BenchmarkDecodeComposite1080p(b *testing.B) {
	g, err := NewDecodeCompositeGrid(pipelinetest.EncodedPattern(b, media.CodecH264, 640, 360, 60), media.CodecH264, 4, image.Pt(1920, 1080), softwareDecoder)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	for b.Loop() {
		g.Frame()
	}
}

// BenchmarkContentDecodeComposite1080p is BenchmarkDecodeComposite1080p
// with 1920x1080 shared content at 5 fps decoded and drawn large beside
// the four: content_decode_composite_ms_per_frame.
func BenchmarkContentDecodeComposite1080p(b *testing.B) {
	g, err := NewDecodeCompositeGrid(pipelinetest.EncodedPattern(b, media.CodecH264, 640, 360, 30), media.CodecH264, 4, image.Pt(1920, 1080), softwareDecoder)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	if err := g.ShareContent(pipelinetest.EncodedPattern(b, media.CodecH264, 1920, 1080, 30/ContentEvery)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		g.Frame()
	}
}
