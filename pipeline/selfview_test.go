package pipeline_test

import (
	"image"
	"testing"
	"testing/synctest"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/pipeline"
)

// TestSelfViewShowsTenPicturesASecond: a 30 fps camera through SelfView
// gives every frame to the encoder and ten a second to the screen, the
// same pictures (their stamps read back).
func TestSelfViewShowsTenPicturesASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: 320, Height: 180, FPS: 30})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var shown []uint32
		view := pipeline.SelfView(src, func(pic *image.YCbCr) {
			st, err := camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy())
			if err != nil {
				t.Errorf("the self view's picture has no readable stamp: %v", err)
			}
			shown = append(shown, st.Frame)
		})
		for i := range 30 {
			f, err := view.ReadFrame(t.Context())
			if err != nil || f.Seq != uint64(i) {
				t.Fatalf("frame %d: seq %d, %v", i, f.Seq, err)
			}
		}
		if len(shown) != 10 || shown[0] != 0 || shown[1] != 3 {
			t.Errorf("showed frames %v of 30 at 30 fps, want 10, every third from 0", shown)
		}
	})
}
