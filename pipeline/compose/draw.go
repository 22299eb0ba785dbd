package compose

import (
	"encoding/binary"
	"image"

	"golang.org/x/image/font/basicfont"

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

// border paints a frame of width w just inside r.
func border(f *display.Frame, r image.Rectangle, w int, c Color) {
	fillAround(f, r, r.Inset(w), c)
}

// The built-in font: basicfont's 7x13 bitmap (X11 misc-fixed), read once
// into bit rows and drawn at whole multiples.
const (
	glyphW = 7
	glyphH = 13
)

// glyphs[ch-' '] holds one bit row per line of the glyph, bit 0 leftmost.
var glyphs = func() [][glyphH]uint8 {
	face := basicfont.Face7x13
	out := make([][glyphH]uint8, '~'-' '+2) // printable ASCII, then the replacement glyph
	for i := range out {
		ch := rune(' ' + i)
		if i == len(out)-1 {
			ch = '\ufffd'
		}
		offset := -1
		for _, r := range face.Ranges {
			if ch >= r.Low && ch < r.High {
				offset = int(ch-r.Low) + r.Offset
			}
		}
		if offset < 0 {
			continue
		}
		for y := range glyphH {
			for x := range face.Width {
				if _, _, _, a := face.Mask.At(x, offset*glyphH+y).RGBA(); a >= 0x8000 {
					out[i][y] |= 1 << x
				}
			}
		}
	}
	return out
}()

// textSize is the size of s drawn at scale.
func textSize(s string, scale int) image.Point {
	return image.Pt(len([]rune(s))*glyphW*scale, glyphH*scale)
}

// drawText draws s with its top-left corner at p, each font pixel a
// scale x scale block, clipped to clip. Runes outside ASCII are drawn as
// the replacement glyph.
func drawText(f *display.Frame, p image.Point, s string, scale int, c Color, clip image.Rectangle) {
	clip = clip.Intersect(f.Bounds())
	for _, ch := range s {
		i := int(ch - ' ')
		if ch < ' ' || ch > '~' {
			i = len(glyphs) - 1
		}
		for gy, bits := range glyphs[i] {
			for gx := 0; bits != 0; gx, bits = gx+1, bits>>1 {
				if bits&1 != 0 {
					fillRect(f, image.Rect(p.X+gx*scale, p.Y+gy*scale, p.X+(gx+1)*scale, p.Y+(gy+1)*scale).Intersect(clip), c)
				}
			}
		}
		p.X += glyphW * scale
	}
}

// textScale is how large labels are drawn on a screen this tall: 13 pixels
// per 540 lines, so a 1080p screen gets 26-pixel letters.
func textScale(screenHeight int) int { return max(1, screenHeight/540) }
