package compose

import (
	"image"
	"sort"
	"strings"

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
// f.Height tall), and says where its first line's top-left corner is.
// Tests use it to read what a person would read: s is found on one line,
// or wrapped at its spaces onto the lines below (a long status line, a
// card's paragraph), and a part of a drawn line is found too (every glyph
// sits on whole pixels).
func FindText(f *display.Frame, r image.Rectangle, s string) (image.Point, bool) {
	return newTextFinder(f, r.Intersect(f.Bounds())).find(s, r.Intersect(f.Bounds()), 0)
}

// textColors are the colours the screen draws text in.
var textColors = []Color{colorText, colorCardText, colorCardTitle}

// textFinder looks for text in one region of a frame.
type textFinder struct {
	f      *display.Frame
	r      image.Rectangle
	tc     textCache
	nearby [][]bool // for each of textColors, r's pixels near it, row by row
	seeds  [][]image.Point
	tops   [][]image.Point
}

// newTextFinder marks the pixels of r within what antialiasing leaves of
// each text colour where a glyph covers nearly all of the pixel; seeds
// lists them row by row, and tops those of them with none above.
func newTextFinder(f *display.Frame, r image.Rectangle) *textFinder {
	fd := &textFinder{f: f, r: r}
	for _, c := range textColors {
		nearby := make([]bool, r.Dx()*r.Dy())
		var seeds, tops []image.Point
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := f.Pix[y*f.Stride:]
			for x := r.Min.X; x < r.Max.X; x++ {
				d := max(absDiff(int(row[4*x]), int(c&0xff)), absDiff(int(row[4*x+1]), int(c>>8&0xff)), absDiff(int(row[4*x+2]), int(c>>16&0xff)))
				if d > 40 {
					continue
				}
				at := (y-r.Min.Y)*r.Dx() + x - r.Min.X
				nearby[at] = true
				seeds = append(seeds, image.Pt(x, y))
				if y == r.Min.Y || !nearby[at-r.Dx()] {
					tops = append(tops, image.Pt(x, y))
				}
			}
		}
		fd.nearby = append(fd.nearby, nearby)
		fd.seeds = append(fd.seeds, seeds)
		fd.tops = append(fd.tops, tops)
	}
	return fd
}

// find finds s in in (a part of fd.r) on one line, or wrapped: its first
// words ending a line and the rest from the line below.
func (fd *textFinder) find(s string, in image.Rectangle, depth int) (image.Point, bool) {
	words := strings.Fields(s)
	// Wrapped or not, its first and last words are there: a text not on
	// the screen (what a test waits for) fails at once.
	if len(words) > 1 && depth == 0 {
		for _, w := range []string{words[len(words)-1], words[0]} {
			if _, _, ok := fd.line(w, in); !ok {
				return image.Point{}, false
			}
		}
	}
	if p, _, ok := fd.line(s, in); ok {
		return p, true
	}
	if depth >= 3 || len(words) < 2 {
		return image.Point{}, false
	}
	// Lines are filled before they break: the longest start of s that is
	// on the screen is the one that ends its line.
	for i := len(words) - 1; i >= 1; i-- {
		p, st, ok := fd.line(strings.Join(words[:i], " "), in)
		if !ok {
			continue
		}
		lh := lineHeight(st)
		next := image.Rect(in.Min.X, p.Y+lh/2, in.Max.X, p.Y+3*lh).Intersect(fd.r)
		if _, ok := fd.find(strings.Join(words[i:], " "), next, depth+1); ok {
			return p, true
		}
		break
	}
	return image.Point{}, false
}

// line finds s on one line in in, and says in which style: the smallest
// first, as most text is.
func (fd *textFinder) line(s string, in image.Rectangle) (image.Point, textStyle, bool) {
	for i := len(textSteps) - 1; i >= 0; i-- {
		step := textSteps[i]
		for _, w := range []weight{medium, bold} {
			st := styleAt(fd.f.Height, step, w)
			if p, ok := fd.lineIn(s, st, in); ok {
				return p, st, true
			}
		}
	}
	return image.Point{}, textStyle{}, false
}

func (fd *textFinder) lineIn(s string, st textStyle, in image.Rectangle) (image.Point, bool) {
	r := fd.r
	mask := fd.tc.render(s, st)
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
	if len(on) == 0 || mask.Rect.Dx() > r.Dx() {
		return image.Point{}, false
	}
	// The first glyph pixel anchors the search: where a gap is above it,
	// only pixels with none of the colour above can be it.
	first := image.Pt(on[0]%r.Dx(), on[0]/r.Dx())
	candidates := fd.seeds
	if first.Y > 0 && mask.AlphaAt(first.X, first.Y-1).A == 0 {
		candidates = fd.tops
	}
	for i := range textColors {
		seeds := candidates[i]
		// Seeds are row by row: start at in's first row.
		from := sort.Search(len(seeds), func(k int) bool { return seeds[k].Y >= in.Min.Y+first.Y })
	next:
		for _, seed := range seeds[from:] {
			if seed.Y >= in.Max.Y {
				break
			}
			at := seed.Sub(first)
			if !mask.Rect.Add(at).In(in) {
				continue
			}
			base := (at.Y-r.Min.Y)*r.Dx() + at.X - r.Min.X
			// Glyph and gap pixels taken in turn: a plain area near the
			// colour (a card behind white text) fails at once.
			for k := range max(len(on), len(off)) {
				if k < len(on) && !fd.nearby[i][base+on[k]] || k < len(off) && fd.nearby[i][base+off[k]] {
					continue next
				}
			}
			return at, true
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
