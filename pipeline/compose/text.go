package compose

// The screen's lettering: the Go fonts (golang.org/x/image/font/gofont,
// bundled in the binary), with a system font for the letters they lack
// (fallback.go), antialiased, at sizes read from a sofa across
// the room. Every size is a step of the smallest, which is 1/28 of the
// screen's height (the height of a capital letter), so that FindText
// knows which sizes to look for.

import (
	"image"
	"math"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/callbox/callbox/device/display"
)

// weight is which of the two faces text is drawn in.
type weight uint8

const (
	medium weight = iota // everything but titles: heavier than regular, as TVs draw text
	bold                 // card titles and the caller's name
)

// Text sizes in quarters of the smallest: stepSmallest for labels, the
// status line and a card's lines, stepTitle for a card's title and
// stepHeadline for a caller's name. A title that does not fit on one line
// is drawn at the next step down, and at the smallest it is wrapped.
const (
	stepSmallest = 4
	stepTitle    = 6
	stepHeadline = 12
)

// textSteps are the steps text is drawn at, largest first.
var textSteps = []int{12, 10, 8, 6, 5, 4}

// minTextHeight is the height of the smallest capital letter on a screen
// this tall: 1/28 of it, rounded up.
func minTextHeight(screenH int) int { return (max(screenH, 1) + 27) / 28 }

// textStyle is a face at a size: px is its em in pixels.
type textStyle struct {
	weight weight
	px     int
}

// styleAt is the style of text at step on a screen screenH tall: its
// capital letters are step quarters of minTextHeight high.
func styleAt(screenH, step int, w weight) textStyle {
	capPx := float64(minTextHeight(screenH)*step) / 4
	return textStyle{weight: w, px: int(math.Ceil(capPx / fonts().capHeight))}
}

// parsedFonts are the two faces' fonts, parsed once; an sfnt.Font is safe
// for use by several goroutines, a face made from it is not.
type parsedFonts struct {
	byWeight  [2]*opentype.Font
	capHeight float64 // of an em, the same in both
}

var fonts = sync.OnceValue(func() parsedFonts {
	var p parsedFonts
	for w, ttf := range [][]byte{medium: gomedium.TTF, bold: gobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			panic("compose: the bundled Go font does not parse: " + err.Error()) // fixed bytes, checked by every test
		}
		p.byWeight[w] = f
	}
	const em = 1000
	m, err := p.byWeight[medium].Metrics(nil, fixed.I(em), font.HintingNone)
	if err != nil || m.CapHeight <= 0 {
		panic("compose: the bundled Go font has no cap height")
	}
	p.capHeight = float64(m.CapHeight) / float64(fixed.I(em))
	return p
})

// renderedText is one string drawn once as coverage, kept while it is
// drawn every frame.
type renderedText struct {
	mask *image.Alpha // the line's box: advance wide, ascent plus descent high
	used bool         // drawn since the last sweep
}

type textKey struct {
	style textStyle
	s     string
}

// textCache renders text and keeps what each frame draws, so that a
// steady screen renders nothing. One goroutine uses it at a time.
type textCache struct {
	faces map[textStyle]font.Face
	texts map[textKey]*renderedText
}

func (tc *textCache) face(st textStyle) font.Face {
	if f := tc.faces[st]; f != nil {
		return f
	}
	f, err := opentype.NewFace(fonts().byWeight[st.weight], &opentype.FaceOptions{
		Size: float64(st.px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("compose: a face of the bundled Go font: " + err.Error()) // only for sizes <= 0, which styleAt never makes
	}
	f = &fallbackFace{primary: f, primaryFont: fonts().byWeight[st.weight], size: float64(st.px)}
	if tc.faces == nil {
		tc.faces = map[textStyle]font.Face{}
	}
	tc.faces[st] = f
	return f
}

// lineHeight is the height of a line of st: its ascent and descent.
func (tc *textCache) lineHeight(st textStyle) int { return lineHeight(st) }

// lineHeights are lineHeight's answers, kept: the layout asks every frame.
var lineHeights sync.Map // textStyle -> int

// lineHeight is the height of a line of st: its ascent and descent.
func lineHeight(st textStyle) int {
	if h, ok := lineHeights.Load(st); ok {
		return h.(int)
	}
	var tc textCache
	m := tc.face(st).Metrics()
	h := m.Ascent.Ceil() + m.Descent.Ceil()
	lineHeights.Store(st, h)
	return h
}

// width is how wide s is in st. Whole pixels: full hinting puts every
// glyph on a pixel, so a string looks the same wherever it is drawn.
func (tc *textCache) width(s string, st textStyle) int {
	return font.MeasureString(tc.face(st), s).Ceil()
}

// render is s in st as coverage, made once and kept while it is used.
func (tc *textCache) render(s string, st textStyle) *image.Alpha {
	key := textKey{st, s}
	if t := tc.texts[key]; t != nil {
		t.used = true
		return t.mask
	}
	face := tc.face(st)
	ascent := face.Metrics().Ascent.Ceil()
	mask := image.NewAlpha(image.Rect(0, 0, tc.width(s, st), tc.lineHeight(st)))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, ascent)}
	d.DrawString(s)
	if tc.texts == nil {
		tc.texts = map[textKey]*renderedText{}
	}
	tc.texts[key] = &renderedText{mask: mask, used: true}
	return mask
}

// sweep forgets the text not drawn since the last sweep.
func (tc *textCache) sweep() {
	for k, t := range tc.texts {
		if !t.used {
			delete(tc.texts, k)
			continue
		}
		t.used = false
	}
}

// drawText draws s in st with its line's top-left corner at p, in c,
// clipped to clip, and says how wide it is.
func (tc *textCache) drawText(f *display.Frame, p image.Point, s string, st textStyle, c Color, clip image.Rectangle) int {
	mask := tc.render(s, st)
	drawCoverage(f, p, mask, c, clip)
	return mask.Rect.Dx()
}

// drawCoverage paints c over f through mask placed at p, blending the
// antialiased edges with what is there.
func drawCoverage(f *display.Frame, p image.Point, mask *image.Alpha, c Color, clip image.Rectangle) {
	r := mask.Rect.Add(p).Intersect(clip).Intersect(f.Bounds())
	if r.Empty() {
		return
	}
	cb, cg, cr := uint32(c&0xff), uint32(c>>8&0xff), uint32(c>>16&0xff)
	blend := func(dst *uint8, src, a uint32) { *dst = uint8((src*a + uint32(*dst)*(255-a) + 127) / 255) }
	for y := r.Min.Y; y < r.Max.Y; y++ {
		cover := mask.Pix[(y-p.Y)*mask.Stride+r.Min.X-p.X:][:r.Dx()]
		row := f.Pix[y*f.Stride+4*r.Min.X:][:4*r.Dx()]
		for i, a := range cover {
			switch px := row[4*i : 4*i+4 : 4*i+4]; a {
			case 0:
			case 255:
				px[0], px[1], px[2], px[3] = uint8(cb), uint8(cg), uint8(cr), 0xff
			default:
				blend(&px[0], cb, uint32(a))
				blend(&px[1], cg, uint32(a))
				blend(&px[2], cr, uint32(a))
				px[3] = 0xff
			}
		}
	}
}

// fitLine is the largest of steps (largest first) at which s fits in
// width on one line on a screen screenH tall, else the last of them.
func (tc *textCache) fitLine(s string, screenH, width int, w weight, steps []int) textStyle {
	for _, step := range steps {
		if st := styleAt(screenH, step, w); tc.width(s, st) <= width {
			return st
		}
	}
	return styleAt(screenH, steps[len(steps)-1], w)
}

// stepsFrom are textSteps from largest down to stepSmallest.
func stepsFrom(largest int) []int {
	for i, s := range textSteps {
		if s <= largest {
			return textSteps[i:]
		}
	}
	return textSteps[len(textSteps)-1:]
}

// wrap breaks s into lines that fit, at spaces where it can and otherwise
// (a long address or fingerprint) anywhere; a line holds at least one
// character.
func wrap(s string, fits func(string) bool) []string {
	// longest is the most of r's first runes that fit after prefix.
	longest := func(prefix string, r []rune) int {
		n := 0
		for n < len(r) && fits(prefix+string(r[:n+1])) {
			n++
		}
		return n
	}
	var lines []string
	for _, word := range strings.Fields(s) {
		for !fits(word) {
			r := []rune(word)
			if n := len(lines); n > 0 {
				// Fill the line before first: an address starts where it may.
				if k := longest(lines[n-1]+" ", r); k > 0 {
					lines[n-1] += " " + string(r[:k])
					word = string(r[k:])
					continue
				}
			}
			k := max(1, longest("", r))
			lines = append(lines, string(r[:k]))
			word = string(r[k:])
		}
		if word == "" {
			continue
		}
		if n := len(lines); n > 0 && fits(lines[n-1]+" "+word) {
			lines[n-1] += " " + word
		} else {
			lines = append(lines, word)
		}
	}
	return lines
}
