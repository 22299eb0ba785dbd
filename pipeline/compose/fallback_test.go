package compose

import (
	"bytes"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callbox/callbox/device/display"
)

var cjkNames = []string{"王小明", "さくら", "김민준"}

// useFallbackFonts gives the screen the system's fallback fonts for the
// test, not yet opened (or, if absent, the same under paths that do not
// exist), and puts the ones before back after it. Those fonts must be
// installed (scripts/deps.sh does): a machine without them fails.
func useFallbackFonts(t *testing.T, absent bool) []*lazyFont {
	t.Helper()
	fonts := systemFallbackFonts()
	for _, f := range fonts {
		if absent {
			f.path = filepath.Join(t.TempDir(), filepath.Base(f.path))
		} else if _, err := os.Stat(f.path); err != nil {
			t.Fatalf("%v: install the Debian package %s (scripts/deps.sh does)", err, f.pkg)
		}
	}
	before := fallbackFonts
	fallbackFonts = fonts
	t.Cleanup(func() { fallbackFonts = before })
	return fonts
}

// glyphMasks renders each rune of s alone as a name label's text is.
func glyphMasks(s string) []*image.Alpha {
	var tc textCache
	st := styleAt(720, stepSmallest, medium)
	var masks []*image.Alpha
	for _, r := range s {
		masks = append(masks, tc.render(string(r), st))
	}
	return masks
}

// inkDiffers is how many pixels are inked (more than half covered) in one
// of a and b but not the other, both placed at their top-left corners.
func inkDiffers(a, b *image.Alpha) int {
	n := 0
	r := a.Rect.Union(b.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if (a.AlphaAt(x, y).A > 127) != (b.AlphaAt(x, y).A > 127) {
				n++
			}
		}
	}
	return n
}

// ink is how many pixels of m are more than half covered.
func ink(m *image.Alpha) int { return inkDiffers(m, image.NewAlpha(m.Rect)) }

// TestCJKNamesAreReadable draws Chinese, Japanese and Korean names as
// a name label is drawn: with the font missing every letter is the same
// empty box; with it each letter has ink, unlike that box and unlike the
// other letters.
func TestCJKNamesAreReadable(t *testing.T) {
	useFallbackFonts(t, true)
	tofu := glyphMasks("王")[0]
	useFallbackFonts(t, false)
	for _, name := range cjkNames {
		masks := glyphMasks(name)
		for i, m := range masks {
			letter := string([]rune(name)[i])
			if n := ink(m); n < 20 {
				t.Errorf("%q in %q has %d inked pixels: not drawn", letter, name, n)
			}
			if n := inkDiffers(m, tofu); n < ink(tofu)/2 {
				t.Errorf("%q in %q differs from the empty box in %d pixels (the box has %d): drawn as the box", letter, name, n, ink(tofu))
			}
			for j, other := range masks[:i] {
				if n := inkDiffers(m, other); n < 10 {
					t.Errorf("%q and %q in %q differ in %d pixels: the same glyph", letter, string([]rune(name)[j]), name, n)
				}
			}
		}
	}
}

// TestCJKLabelAndStatusOnScreen draws a call with a CJK name label beside
// a Latin one and a status naming both, with the fallback font and
// without: the CJK parts change and the Latin ones are the same pixels.
func TestCJKLabelAndStatusOnScreen(t *testing.T) {
	scene := Scene{
		Participants: []Participant{{Identity: "wang", Name: "王小明"}, {Identity: "bill", Name: "Bill"}},
		Status:       "Bill, 王小明",
	}
	draw := func(absent bool) (*display.Frame, Layout) {
		useFallbackFonts(t, absent)
		var c Compositor
		defer c.Close()
		frame := display.NewFrame(1280, 720)
		return frame, c.Draw(frame, scene)
	}
	boxes, _ := draw(true)
	frame, l := draw(false)
	savePNG(t, frame)

	wang, _ := l.Tile("wang")
	bill, _ := l.Tile("bill")
	if n := framesDiffer(boxes, frame, wang.Rect); n < 100 {
		t.Errorf("王小明's tile differs in %d pixels with the CJK font and without: still empty boxes", n)
	}
	if n := framesDiffer(boxes, frame, bill.Rect); n != 0 {
		t.Errorf("Bill's tile differs in %d pixels with the CJK font and without: the Latin label changed", n)
	}
	if n := framesDiffer(boxes, frame, l.Status); n < 100 {
		t.Errorf("the status line differs in %d pixels with the CJK font and without: still empty boxes", n)
	}
	// The status's "Bill, " is drawn first: the same pixels either way.
	var tc textCache
	st := styleAt(720, stepSmallest, medium)
	at, ok := FindText(frame, l.Status, "Bill,")
	if !ok {
		t.Fatal("the status line's \"Bill,\" does not read")
	}
	latin := image.Rect(at.X, l.Status.Min.Y, at.X+tc.width("Bill,", st), l.Status.Max.Y)
	if n := framesDiffer(boxes, frame, latin); n != 0 {
		t.Errorf("the status's \"Bill,\" differs in %d pixels with the CJK font and without", n)
	}
}

// framesDiffer is how many pixels of r differ between a and b.
func framesDiffer(a, b *display.Frame, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := y*a.Stride + 4*x
			if !bytes.Equal(a.Pix[i:i+3], b.Pix[i:i+3]) {
				n++
			}
		}
	}
	return n
}

// TestFallbackFontMissing: without the fonts (Nanum absent, Droid's file
// not a font) a CJK name is drawn as before, the same empty box for every
// letter, and the log says once for each which package to install.
func TestFallbackFontMissing(t *testing.T) {
	var logged bytes.Buffer
	before := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(before) })
	fonts := useFallbackFonts(t, true)
	if err := os.WriteFile(fonts[0].path, []byte("not a font"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, name := range cjkNames {
		masks := glyphMasks(name)
		for i, m := range masks {
			if ink(m) == 0 {
				t.Errorf("letter %d of %q has no ink: want the empty box", i, name)
			}
			if n := inkDiffers(m, masks[0]); n != 0 {
				t.Errorf("letter %d of %q differs from the first in %d pixels: want the same box", i, name, n)
			}
		}
	}
	for _, f := range fallbackFonts {
		if n := strings.Count(logged.String(), "install the Debian package "+f.pkg); n != 1 {
			t.Errorf("the log names %s %d times, want once:\n%s", f.pkg, n, logged.String())
		}
	}
}

// TestLatinDoesNotOpenTheFallback: a screen of Latin names, status and a
// card leaves the fallback font unopened (nothing more mapped); the first
// CJK name opens it.
func TestLatinDoesNotOpenTheFallback(t *testing.T) {
	fonts := useFallbackFonts(t, false)
	scene := Scene{
		Participants: []Participant{{Identity: "h", Name: "Hanna Müller"}, {Identity: "o", Name: "Ωмега Bill"}},
		ShowSelf:     true,
		Status:       "Hello, in the call with Hanna · end-to-end encrypted",
		Card:         &Card{Title: "Zoë", Lines: []string{"is calling — Answer: the call button."}},
	}
	var c Compositor
	defer c.Close()
	c.Draw(display.NewFrame(1280, 720), scene)
	for _, f := range fonts {
		if f.tried() {
			t.Fatalf("a screen of Latin, Greek and Cyrillic opened %s", f.path)
		}
	}
	scene.Participants = append(scene.Participants, Participant{Identity: "k", Name: "김민준"})
	c.Draw(display.NewFrame(1280, 720), scene)
	for _, f := range fonts {
		if !f.tried() { // Droid Sans Fallback lacks Hangul: both are tried
			t.Errorf("a Korean name did not open %s", f.path)
		}
	}
}
