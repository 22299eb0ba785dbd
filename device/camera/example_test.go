package camera_test

import (
	"context"
	"fmt"

	"github.com/callbox/callbox/device/camera"
)

// A TestPattern stands in for a camera; every frame carries a stamp that
// survives lossy coding.
func ExampleNewTestPattern() {
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: 320, Height: 180, FPS: 30})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	for range 3 {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		s, err := camera.ReadStamp(f.Data, f.Format.Stride, f.Format.Width, f.Format.Height)
		fmt.Println(f.Format, f.Seq, s.Frame, s.Time.UnixMilli() == f.Time.UnixMilli(), err)
	}
	// Output:
	// YU12 320x180@30 0 0 true <nil>
	// YU12 320x180@30 1 1 true <nil>
	// YU12 320x180@30 2 2 true <nil>
}
