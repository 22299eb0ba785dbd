package compose

import (
	"image"
	"testing"

	"github.com/callbox/callbox/device/display"
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
	coded := encodedPatternSized(b, 640, 360, 60)
	r, _ := display.NewOffscreen(display.OffscreenOptions{Width: 1920, Height: 1080})
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder})
	defer s.Close()
	ids := []string{"a", "b", "c", "d"}
	var members []Member
	for _, id := range ids {
		members = append(members, Member{Identity: id, VideoCodec: "H264"})
	}
	s.SetMembers(members)
	i := 0
	for b.Loop() {
		if i == len(coded) { // start again at the keyframe with fresh decoders
			s.SetMembers(nil)
			s.SetMembers(members)
			i = 0
		}
		for _, id := range ids {
			s.Video(id, "H264", coded[i])
		}
		i++
		frame := r.BackBuffer()
		s.mu.Lock()
		s.comp.Draw(frame, s.sceneLocked(s.remote["a"].shownAt))
		s.mu.Unlock()
	}
}
