package compose

import (
	"fmt"
	"image"
	"testing"

	"github.com/callbox/callbox/device/display"
)

// TestReadFromSofa draws a ringing card over a call on a 720p and a 1080p
// screen and measures, from the picture, the height of the capital H
// (or l) in the status line, a name label and the caller's name:
// none under 1/28 of the screen's height, the caller's name far larger;
// and nothing drawn outside the 5 % safe area, where a TV's overscan
// would cut it.
func TestReadFromSofa(t *testing.T) {
	for _, size := range []image.Point{{1280, 720}, {1920, 1080}} {
		t.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(t *testing.T) {
			call := Scene{
				Participants: []Participant{{Identity: "h", Name: "Hanna", Muted: true}, {Identity: "o", Name: "Bill"}},
				ShowSelf:     true,
				Status:       "Hello, in the call with Hanna",
			}
			ringing := call
			ringing.Card = &Card{Title: "Hanna", Headline: true,
				Lines: []string{"is calling", "Answer: the call button. Decline: hang up."}}
			var c Compositor
			defer c.Close()
			frame := display.NewFrame(size.X, size.Y)
			l := c.Draw(frame, call)
			tile, _ := l.Tile("o")
			label := glyphHeight(t, frame, tile.Rect, "Bill", colorLabel)
			frame = display.NewFrame(size.X, size.Y)
			l = c.Draw(frame, ringing)
			savePNG(t, frame)
			smallest := (size.Y + 27) / 28

			status := glyphHeight(t, frame, l.Status, "Hello", colorStatus)
			name := glyphHeight(t, frame, l.Card.Panel, "Hanna", colorCard)
			calling := glyphHeight(t, frame, l.Card.Panel, "is calling", colorCard)
			t.Logf("tallest letters: status line %d px, label %d px, caller's name %d px; \"is calling\" %d px high (smallest allowed %d)",
				status, label, name, calling, smallest)
			for what, h := range map[string]int{"the status line": status, "a name label": label, "the card's \"is calling\"": calling} {
				if h < smallest {
					t.Errorf("%s's letters are %d px high, want at least %d (1/28 of %d)", what, h, smallest, size.Y)
				}
			}
			if name < 5*status/2 {
				t.Errorf("the caller's name is %d px high, the status line %d px: want it far larger (2.5 times at least)", name, status)
			}

			safe := SafeArea(size)
			if safe.Min.X*100 < size.X*5 || safe.Min.Y*100 < size.Y*5 || (size.X-safe.Max.X)*100 < size.X*5 || (size.Y-safe.Max.Y)*100 < size.Y*5 {
				t.Errorf("safe area %v on %v: want 5 %% on each side", safe, size)
			}
			outside := frame.Width*frame.Height - safe.Dx()*safe.Dy()
			if n := Count(frame, frame.Bounds(), colorBackground) - Count(frame, safe, colorBackground); n != outside {
				t.Errorf("%d pixels outside the safe area %v are drawn on", outside-n, safe)
			}
		})
	}
}

// glyphHeight finds text in r of f and measures its tallest glyph as a
// person would see it: in the band of rows from the line's first ink down
// to the first row without any (ink: pixels more than a quarter of the
// way from bg to white or black), the longest unbroken run of ink in one
// column, the stem of an H or an l.
func glyphHeight(t *testing.T, f *display.Frame, r image.Rectangle, text string, bg Color) int {
	t.Helper()
	at, ok := FindText(f, r, text)
	if !ok {
		t.Fatalf("%q is not on the screen in %v", text, r)
	}
	luma := func(c Color) int { return (int(c>>16&0xff)*299 + int(c>>8&0xff)*587 + int(c&0xff)*114) / 1000 }
	ink := func(x, y int) bool {
		i := y*f.Stride + 4*x
		return absDiff(luma(Color(f.Pix[i+2])<<16|Color(f.Pix[i+1])<<8|Color(f.Pix[i])), luma(bg)) > 64
	}
	inkInRow := func(y int) bool {
		for x := at.X; x < r.Max.X; x++ {
			if ink(x, y) {
				return true
			}
		}
		return false
	}
	y0 := at.Y
	for y0 < r.Max.Y && !inkInRow(y0) {
		y0++
	}
	y1 := y0
	for y1 < r.Max.Y && inkInRow(y1) {
		y1++
	}
	tallest := 0
	for x := at.X; x < r.Max.X; x++ {
		run := 0
		for y := y0; y < y1; y++ {
			if ink(x, y) {
				run++
				tallest = max(tallest, run)
			} else {
				run = 0
			}
		}
	}
	return tallest
}

// TestLongStatusWraps: a status line too long for the screen at the
// smallest size is wrapped, whole, onto the bar's second line (it holds
// the words people compare), and FindText reads it across the break; on
// a narrow screen the bar grows for a third.
func TestLongStatusWraps(t *testing.T) {
	const status = "in the call, room family; end-to-end encrypted, check japanese castle / balloon / palm tree / helicopter"
	frame := display.NewFrame(1280, 720)
	var c Compositor
	defer c.Close()
	l := c.Draw(frame, Scene{Status: status})
	savePNG(t, frame)
	if _, ok := FindText(frame, l.Status, status); !ok {
		t.Error("the wrapped status line does not read as the whole")
	}
	narrow := display.NewFrame(640, 720)
	l = c.Draw(narrow, Scene{Status: status})
	savePNG(t, narrow)
	if two := Arrange(image.Pt(640, 720), nil, "", false).Status; l.Status.Dy() < two.Dy()*5/4 || l.Status.Max != two.Max {
		t.Errorf("the status line's bar is %v for two lines' %v: want it grown up for more", l.Status, two)
	}
	if _, ok := FindText(narrow, l.Status, status); !ok {
		t.Error("the status line wrapped on three lines does not read as the whole")
	}
	if _, ok := FindText(frame, l.Status, "in the call, room family; end-to-end encrypted, check japanese castle / balloon / palm tree / submarine"); ok {
		t.Error("FindText reads words that are not on the screen")
	}
}
