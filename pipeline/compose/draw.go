package compose

import (
	"encoding/binary"
	"image"
	"slices"

	"github.com/callbox/callbox/device/display"
)

// Color is an opaque colour as 0xRRGGBB.
type Color uint32

// The screen's colours.
const (
	colorBackground  Color = 0x101418
	colorTile        Color = 0x262c33
	colorLabel       Color = 0x000000
	colorText        Color = 0xf0f0f0
	colorMuted       Color = 0xd03030
	colorSpeaker     Color = 0x40c060
	colorPlaceholder Color = 0x8090a0
	colorStatus      Color = 0x1c2228
)

// fillRect paints r (clipped to f) with c, one row written and then copied.
func fillRect(f *display.Frame, r image.Rectangle, c Color) {
	r = r.Intersect(f.Bounds())
	if r.Empty() {
		return
	}
	first := f.Pix[r.Min.Y*f.Stride+4*r.Min.X : r.Min.Y*f.Stride+4*r.Max.X]
	for i := 0; i < len(first); i += 4 {
		binary.LittleEndian.PutUint32(first[i:], uint32(c)|0xff000000)
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		copy(f.Pix[y*f.Stride+4*r.Min.X:y*f.Stride+4*r.Max.X], first)
	}
}

// copyRect copies r of src into dst with r.Min at at; both must lie
// inside their frames.
func copyRect(dst *display.Frame, at image.Point, src *display.Frame, r image.Rectangle) {
	n := 4 * r.Dx()
	for y := range r.Dy() {
		from := (r.Min.Y+y)*src.Stride + 4*r.Min.X
		to := (at.Y+y)*dst.Stride + 4*at.X
		copy(dst.Pix[to:to+n], src.Pix[from:from+n])
	}
}

// fillAround paints the part of outer that is not inner.
func fillAround(f *display.Frame, outer, inner image.Rectangle, c Color) {
	inner = inner.Intersect(outer)
	if inner.Empty() {
		fillRect(f, outer, c)
		return
	}
	fillRect(f, image.Rect(outer.Min.X, outer.Min.Y, outer.Max.X, inner.Min.Y), c)
	fillRect(f, image.Rect(outer.Min.X, inner.Max.Y, outer.Max.X, outer.Max.Y), c)
	fillRect(f, image.Rect(outer.Min.X, inner.Min.Y, inner.Min.X, inner.Max.Y), c)
	fillRect(f, image.Rect(inner.Max.X, inner.Min.Y, outer.Max.X, inner.Max.Y), c)
}

// fillExcept paints the part of r that none of covered takes: in bands
// between the rectangles' top and bottom edges, the gaps between them.
// What is painted over anyway is not painted twice (a large picture's
// place is megabytes a frame).
func fillExcept(f *display.Frame, r image.Rectangle, covered []image.Rectangle, c Color) {
	edges := []int{r.Min.Y, r.Max.Y}
	for _, k := range covered {
		if k = k.Intersect(r); !k.Empty() {
			edges = append(edges, k.Min.Y, k.Max.Y)
		}
	}
	slices.Sort(edges)
	edges = slices.Compact(edges)
	var spans []image.Rectangle
	for i := 0; i+1 < len(edges); i++ {
		band := image.Rect(r.Min.X, edges[i], r.Max.X, edges[i+1])
		spans = spans[:0]
		for _, k := range covered {
			if k = k.Intersect(band); !k.Empty() { // the band's whole height: its edges are among edges
				spans = append(spans, k)
			}
		}
		slices.SortFunc(spans, func(a, b image.Rectangle) int { return a.Min.X - b.Min.X })
		x := band.Min.X
		for _, k := range spans {
			if k.Min.X > x { // image.Rect would swap the edges otherwise
				fillRect(f, image.Rect(x, band.Min.Y, k.Min.X, band.Max.Y), c)
			}
			x = max(x, k.Max.X)
		}
		if x < band.Max.X {
			fillRect(f, image.Rect(x, band.Min.Y, band.Max.X, band.Max.Y), c)
		}
	}
}

// border paints a frame of width w just inside r.
func border(f *display.Frame, r image.Rectangle, w int, c Color) {
	fillAround(f, r, r.Inset(w), c)
}
