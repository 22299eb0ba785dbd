package v4l2m2m

import (
	"testing"

	"github.com/callbox/callbox/media"
)

// TestEveryH264LevelHasItsV4L2Value: whatever level the settings need, the
// hardware encoder is told that level, not V4L2's 1.0 (a missing entry's 0).
func TestEveryH264LevelHasItsV4L2Value(t *testing.T) {
	for _, s := range []struct{ w, h, fps, kbps int }{
		{640, 360, 30, 500}, {1280, 720, 60, 3000}, {1920, 1080, 30, 3000}, {1920, 1080, 30, 25000},
		{1920, 1080, 60, 6000}, {2560, 1440, 30, 8000}, {3840, 2160, 30, 12000},
	} {
		level, ok := media.H264LevelFor(s.w, s.h, s.fps, s.kbps)
		if !ok {
			t.Fatalf("%dx%d@%d: no level", s.w, s.h, s.fps)
		}
		if v, ok := v4l2H264Level[level]; !ok || v < h264Level31 {
			t.Errorf("level %v (%dx%d@%d) is V4L2's %d, %v", level, s.w, s.h, s.fps, v, ok)
		}
	}
}
