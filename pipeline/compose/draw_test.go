package compose

import (
	"encoding/binary"
	"image"
	"slices"
	"testing"

	"github.com/callbox/callbox/device/display"
)

// TestFillExceptPaintsOnlyTheGaps: every pixel of r outside the covered
// rectangles (overlapping, touching, reaching out of r) is painted, and
// none inside one or outside r.
func TestFillExceptPaintsOnlyTheGaps(t *testing.T) {
	f := display.NewFrame(40, 30)
	r := image.Rect(2, 3, 38, 27)
	covered := []image.Rectangle{
		image.Rect(5, 5, 15, 12),
		image.Rect(10, 8, 20, 20), // overlaps the first
		image.Rect(20, 8, 25, 20), // touches the second
		image.Rect(30, 0, 50, 10), // reaches out of r
	}
	const paint = Color(0x123456)
	fillExcept(f, r, covered, paint)
	for y := range 30 {
		for x := range 40 {
			p := image.Pt(x, y)
			want := p.In(r) && !slices.ContainsFunc(covered, p.In)
			got := binary.LittleEndian.Uint32(f.Pix[y*f.Stride+4*x:]) == uint32(paint)|0xff000000
			if got != want {
				t.Fatalf("pixel %v: painted %v, want %v", p, got, want)
			}
		}
	}
}
