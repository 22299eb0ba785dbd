package compose

// Letters the Go fonts lack (Chinese, Japanese, Korean) come from a font
// on the system, not one in the binary: the binary's size is the box's
// memory (issue 20). Each is opened the first time a text needs a letter
// the fonts before it lack, so a box that never shows such a name opens
// nothing more, and read as glyphs are drawn, not held in memory. Scripts
// that need shaping (Arabic's joining, right-to-left) are not handled:
// their letters come out one by one, unjoined, left to right.

import (
	"fmt"
	"image"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// lazyFont is a font file opened and parsed on first use; a file that is
// missing or does not parse is logged once and never tried again.
type lazyFont struct {
	path      string
	pkg       string // the Debian package that installs it
	letters   string // what it draws, for the log
	once      sync.Once
	attempted atomic.Bool
	font      *opentype.Font // nil before the first use or when it failed
}

// systemFallbackFonts are the fonts for the letters the Go fonts lack,
// tried in order; both TrueType outlines, which opentype reads (the CFF of
// Noto CJK it may not), about 4 MB each. Droid Sans Fallback has Chinese
// and Japanese but no Hangul.
func systemFallbackFonts() []*lazyFont {
	return []*lazyFont{
		{path: "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", pkg: "fonts-droid-fallback", letters: "Chinese and Japanese"},
		{path: "/usr/share/fonts/truetype/nanum/NanumGothic.ttf", pkg: "fonts-nanum", letters: "Korean"},
	}
}

// fallbackFonts are the fonts faces fall back to. Tests point them
// elsewhere.
var fallbackFonts = systemFallbackFonts()

// get is the font, opening it the first time; nil if it cannot be had.
func (l *lazyFont) get() *opentype.Font {
	l.once.Do(func() {
		l.attempted.Store(true)
		f, err := openFont(l.path)
		if err != nil {
			slog.Warn("the screen draws "+l.letters+" letters as empty boxes: "+
				"install the Debian package "+l.pkg+" for them", "err", err)
			return
		}
		l.font = f
	})
	return l.font
}

// tried says whether the file was opened (or tried): the first text
// with a letter the fonts before it lack does it.
func (l *lazyFont) tried() bool { return l.attempted.Load() }

// openFont parses the font file at path, reading glyphs from it as they
// are drawn rather than holding all of it in memory; the file stays open.
func openFont(path string) (*opentype.Font, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("font %s: %w", path, err)
	}
	f, err := opentype.ParseReaderAt(file)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("font %s is not a TrueType or OpenType font opentype reads: %w", path, err)
	}
	return f, nil
}

// fallbackFace draws each rune in primary, or in the first of
// fallbackFonts that has a glyph for it, else in primary (its empty box).
// A fallback font's face is made at the first rune that needs it. One
// goroutine uses it at a time, as any font.Face.
type fallbackFace struct {
	primary     font.Face
	primaryFont *opentype.Font
	size        float64
	buf         sfnt.Buffer
	fallbacks   []loadedFallback // in fallbackFonts' order, grown as they are needed
}

type loadedFallback struct {
	font *opentype.Font // nil when it could not be opened
	face font.Face
}

// faceFor is the face that draws r.
func (f *fallbackFace) faceFor(r rune) font.Face {
	if r < 0x80 || hasGlyph(f.primaryFont, &f.buf, r) {
		return f.primary
	}
	for i, lazy := range fallbackFonts {
		if i == len(f.fallbacks) {
			fb := loadedFallback{font: lazy.get()}
			if fb.font != nil {
				face, err := opentype.NewFace(fb.font, &opentype.FaceOptions{Size: f.size, DPI: 72, Hinting: font.HintingFull})
				if err != nil {
					fb.font = nil // only for sizes <= 0, which styleAt never makes
				}
				fb.face = face
			}
			f.fallbacks = append(f.fallbacks, fb)
		}
		if fb := f.fallbacks[i]; fb.font != nil && hasGlyph(fb.font, &f.buf, r) {
			return fb.face
		}
	}
	return f.primary
}

// hasGlyph says whether font has a glyph of its own for r.
func hasGlyph(font *opentype.Font, buf *sfnt.Buffer, r rune) bool {
	i, err := font.GlyphIndex(buf, r)
	return err == nil && i != 0
}

func (f *fallbackFace) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	return f.faceFor(r).Glyph(dot, r)
}

func (f *fallbackFace) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	return f.faceFor(r).GlyphBounds(r)
}

func (f *fallbackFace) GlyphAdvance(r rune) (fixed.Int26_6, bool) {
	return f.faceFor(r).GlyphAdvance(r)
}

// Kern is the pair's kerning when one face draws both, else none.
func (f *fallbackFace) Kern(r0, r1 rune) fixed.Int26_6 {
	if face := f.faceFor(r0); face == f.faceFor(r1) {
		return face.Kern(r0, r1)
	}
	return 0
}

// Metrics are the Go font's: a line is as tall with a CJK name as without.
func (f *fallbackFace) Metrics() font.Metrics { return f.primary.Metrics() }

func (f *fallbackFace) Close() error { return nil }
