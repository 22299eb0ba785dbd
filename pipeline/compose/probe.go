package compose

import (
	"image"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
)

// ReadTileStamp reads the camera.Stamp of a test-pattern picture of the
// given size that was drawn scaled into r of f: it samples r back to that
// size as luma and reads the stamp there. Tests and the benchmark use it to
// see which frame a tile shows.
func ReadTileStamp(f *display.Frame, r image.Rectangle, size image.Point) (camera.Stamp, error) {
	luma := Luma(f, r, size)
	return camera.ReadStamp(luma, size.X, size.X, size.Y)
}

// Luma samples r of f (nearest pixel) into a size.X x size.Y luma plane in
// video range, as an encoder would see the picture.
func Luma(f *display.Frame, r image.Rectangle, size image.Point) []byte {
	out := make([]byte, size.X*size.Y)
	r = r.Intersect(f.Bounds())
	if r.Empty() || size.X <= 0 || size.Y <= 0 {
		return out
	}
	for y := range size.Y {
		sy := r.Min.Y + (2*y+1)*r.Dy()/(2*size.Y)
		row := f.Pix[sy*f.Stride:]
		for x := range size.X {
			sx := r.Min.X + (2*x+1)*r.Dx()/(2*size.X)
			b, g, rd := int(row[4*sx]), int(row[4*sx+1]), int(row[4*sx+2])
			// BT.601 full-range RGB to video-range luma.
			out[y*size.X+x] = byte(16 + (66*rd+129*g+25*b+128)>>8)
		}
	}
	return out
}

// MeanColor is the average colour of r in f as 0xRRGGBB.
func MeanColor(f *display.Frame, r image.Rectangle) Color {
	r = r.Intersect(f.Bounds())
	if r.Empty() {
		return 0
	}
	var sr, sg, sb int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := f.Pix[y*f.Stride:]
		for x := r.Min.X; x < r.Max.X; x++ {
			sb += int(row[4*x])
			sg += int(row[4*x+1])
			sr += int(row[4*x+2])
		}
	}
	n := r.Dx() * r.Dy()
	return Color((sr/n)<<16 | (sg/n)<<8 | sb/n)
}

// Count is how many pixels of r in f have colour c exactly.
func Count(f *display.Frame, r image.Rectangle, c Color) int {
	r = r.Intersect(f.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := f.Pix[y*f.Stride:]
		for x := r.Min.X; x < r.Max.X; x++ {
			if Color(row[4*x+2])<<16|Color(row[4*x+1])<<8|Color(row[4*x]) == c {
				n++
			}
		}
	}
	return n
}

// FindText finds s drawn in the screen's lettering in r of f, in any of
// the screen's text colours and at any of its sizes (those of a screen
// f.Height tall), and says where its line's top-left corner is. Tests use
// it to read what a person would read. A substring of a drawn line is
// found too: every glyph sits on whole pixels.
func FindText(f *display.Frame, r image.Rectangle, s string) (image.Point, bool) {
	r = r.Intersect(f.Bounds())
	var tc textCache
	colors := []Color{colorText, colorCardText, colorCardTitle}
	// nearby[i] marks the pixels of r within what antialiasing leaves of
	// colors[i] where a glyph covers nearly all of the pixel; seeds[i]
	// lists them, and tops[i] those of them with none above.
	nearby := make([][]bool, len(colors))
	seeds := make([][]image.Point, len(colors))
	tops := make([][]image.Point, len(colors))
	for i, c := range colors {
		nearby[i] = make([]bool, r.Dx()*r.Dy())
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := f.Pix[y*f.Stride:]
			for x := r.Min.X; x < r.Max.X; x++ {
				d := max(absDiff(int(row[4*x]), int(c&0xff)), absDiff(int(row[4*x+1]), int(c>>8&0xff)), absDiff(int(row[4*x+2]), int(c>>16&0xff)))
				if d > 40 {
					continue
				}
				at := (y-r.Min.Y)*r.Dx() + x - r.Min.X
				nearby[i][at] = true
				seeds[i] = append(seeds[i], image.Pt(x, y))
				if y == r.Min.Y || !nearby[i][at-r.Dx()] {
					tops[i] = append(tops[i], image.Pt(x, y))
				}
			}
		}
	}
	for _, step := range textSteps {
		for _, w := range []weight{medium, bold} {
			mask := tc.render(s, styleAt(f.Height, step, w))
			// The glyphs' pixels and the gaps', as offsets into nearby.
			var on, off []int
			for y := range mask.Rect.Dy() {
				for x := range mask.Rect.Dx() {
					switch a := mask.AlphaAt(x, y).A; {
					case a >= 0xe8:
						on = append(on, y*r.Dx()+x)
					case a == 0:
						off = append(off, y*r.Dx()+x)
					}
				}
			}
			if len(on) == 0 {
				continue
			}
			// The first glyph pixel anchors the search: where a gap is
			// above it, only pixels with none of the colour above can be it.
			first := image.Pt(on[0]%r.Dx(), on[0]/r.Dx())
			candidates := seeds
			if first.Y > 0 && mask.AlphaAt(first.X, first.Y-1).A == 0 {
				candidates = tops
			}
			for i := range colors {
			next:
				for _, seed := range candidates[i] {
					at := seed.Sub(first)
					if !mask.Rect.Add(at).In(r) {
						continue
					}
					base := (at.Y-r.Min.Y)*r.Dx() + at.X - r.Min.X
					// Glyph and gap pixels taken in turn: a plain area near
					// the colour (a card behind white text) fails at once.
					for k := range max(len(on), len(off)) {
						if k < len(on) && !nearby[i][base+on[k]] || k < len(off) && nearby[i][base+off[k]] {
							continue next
						}
					}
					return at, true
				}
			}
		}
	}
	return image.Point{}, false
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
