package compose

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
)

// patternPicture is frame seq of a TestPattern of the given size, with its
// chroma tinted by (u, v) so pictures of different senders tell apart.
func patternPicture(t testing.TB, w, h int, frames int, u, v byte) *image.YCbCr {
	t.Helper()
	p, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var f camera.Frame
	for range frames {
		if f, err = p.ReadFrame(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	pic := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	copy(pic.Y, f.Data[:w*h])
	for i := range pic.Cb {
		pic.Cb[i], pic.Cr[i] = u, v
	}
	return pic
}

func TestDrawShowsEachParticipant(t *testing.T) {
	frame := display.NewFrame(1280, 720)
	scene := Scene{
		Participants: []Participant{
			{Identity: "alice", Name: "Alice", Picture: patternPicture(t, 640, 360, 5, 90, 240)},
			{Identity: "bob", Name: "Bob", Muted: true, Picture: patternPicture(t, 640, 360, 9, 240, 90)},
			{Identity: "carol", Name: "Carol", Problem: "cannot show AV1 video"},
		},
		Self:   patternPicture(t, 320, 180, 1, 128, 128),
		Status: "in call: 4 people",
	}
	var c Compositor
	defer c.Close()
	l := c.Draw(frame, scene)
	savePNG(t, frame)

	for _, want := range []struct {
		id    string
		frame uint32
	}{{"alice", 4}, {"bob", 8}} {
		tile, ok := l.Tile(want.id)
		if !ok {
			t.Fatalf("%s has no tile", want.id)
		}
		inner := Fit(image.Pt(640, 360), tile.Rect)
		s, err := ReadTileStamp(frame, inner, image.Pt(640, 360))
		if err != nil {
			t.Errorf("%s's tile %v: no readable stamp: %v", want.id, inner, err)
		} else if s.Frame != want.frame {
			t.Errorf("%s's tile shows frame %d, want %d", want.id, s.Frame, want.frame)
		}
	}
	alice, _ := l.Tile("alice")
	bob, _ := l.Tile("bob")
	ca, cb := MeanColor(frame, alice.Rect), MeanColor(frame, bob.Rect)
	if !(ca>>16&0xff > ca&0xff) || !(cb&0xff > cb>>16&0xff) {
		t.Errorf("alice's tile averages %06x (want reddish: Cr high), bob's %06x (want bluish: Cb high)", ca, cb)
	}
	carol, _ := l.Tile("carol")
	if n := Count(frame, carol.Rect, colorText); n < 100 {
		t.Errorf("carol's placeholder has %d text pixels, want its reason written", n)
	}
	if n := Count(frame, bob.Rect, colorMuted); n < 100 {
		t.Errorf("bob is muted but his tile has %d pixels of the muted mark", n)
	}
	if n := Count(frame, alice.Rect, colorMuted); n != 0 {
		t.Errorf("alice is not muted but her tile has %d pixels of the muted mark", n)
	}
	if n := Count(frame, l.Status, colorText); n < 50 {
		t.Errorf("status line has %d text pixels", n)
	}
	if l.Self.Empty() || MeanColor(frame, l.Self) == colorTile {
		t.Errorf("self view at %v does not show the camera", l.Self)
	}
}

// Pictures that cannot be drawn give a placeholder, never a crash.
func TestDrawBadPictures(t *testing.T) {
	frame := display.NewFrame(640, 360)
	bad := []*image.YCbCr{
		image.NewYCbCr(image.Rect(0, 0, 1, 1), image.YCbCrSubsampleRatio420),
		image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio444),
		{Rect: image.Rect(0, 0, 64, 64), SubsampleRatio: image.YCbCrSubsampleRatio420}, // no planes
	}
	var c Compositor
	defer c.Close()
	for i, pic := range bad {
		l := c.Draw(frame, Scene{Participants: []Participant{{Identity: "x", Picture: pic}}})
		tile, _ := l.Tile("x")
		if n := Count(frame, tile.Rect, colorText); n < 50 {
			t.Errorf("bad picture %d: tile has %d text pixels, want a placeholder that says why", i, n)
		}
	}
}

func TestTextIsDrawn(t *testing.T) {
	frame := display.NewFrame(200, 60)
	var tc textCache
	st := styleAt(720, stepSmallest, medium)
	w := tc.drawText(frame, image.Pt(2, 2), "Hi", st, colorText, frame.Bounds())
	if n := Count(frame, frame.Bounds(), colorText); n < 40 {
		t.Errorf("%d pixels of text for \"Hi\"", n)
	}
	// Letters differ: 'H' and 'i' have different pixels.
	h := Count(frame, image.Rect(2, 2, 2+w*2/3, 60), colorText)
	i := Count(frame, image.Rect(2+w*2/3, 2, 2+w, 60), colorText)
	if h == 0 || i == 0 || h == i {
		t.Errorf("H has %d pixels, i %d: the glyphs are not drawn", h, i)
	}
}

// savePNG keeps the frame for a person to look at with -args -png DIR.
func savePNG(t *testing.T, f *display.Frame) {
	t.Helper()
	dir := os.Getenv("COMPOSE_PNG_DIR")
	if dir == "" {
		return
	}
	if err := display.WritePNG(filepath.Join(dir, t.Name()+".png"), f); err != nil {
		t.Error(err)
	}
}

// TestContentKeptBetweenPictures: the compositor copies shared content it
// scaled for the last frame while the picture is the same (the same Seq),
// and scales it again when a new picture comes into the same buffer.
func TestContentKeptBetweenPictures(t *testing.T) {
	frame := display.NewFrame(1920, 1080)
	pic := patternPicture(t, 1920, 1080, 3, 128, 128)
	content := Participant{Identity: ContentKey("alice"), Name: "Alice", Picture: pic, Seq: 1}
	scene := Scene{Participants: []Participant{{Identity: "alice", Picture: patternPicture(t, 640, 360, 1, 128, 128)}},
		Content: &content}
	var c Compositor
	defer c.Close()
	contentFrame := func() uint32 {
		t.Helper()
		l := c.Draw(frame, scene)
		s, err := ReadTileStamp(frame, FitContent(pic.Rect.Size(), l.Content), pic.Rect.Size())
		if err != nil {
			t.Fatalf("content %v: no readable stamp: %v", l.Content, err)
		}
		return s.Frame
	}
	if got := contentFrame(); got != 2 {
		t.Fatalf("content shows frame %d, want 2", got)
	}
	fillRect(frame, frame.Bounds(), colorBackground) // the next back buffer holds something else
	if got := contentFrame(); got != 2 {
		t.Errorf("the same picture drawn again shows frame %d, want 2", got)
	}
	copy(pic.Y, patternPicture(t, 1920, 1080, 7, 128, 128).Y) // the decoder's next picture, in the same buffer
	content.Seq = 2
	if got := contentFrame(); got != 6 {
		t.Errorf("after a new picture the content shows frame %d, want 6", got)
	}
	scene.Content = nil
	c.Draw(frame, scene)
	if c.content.pixels != nil {
		t.Error("the scaled content is kept after the share ended")
	}
}

// TestLongStatusLeavesTheLabels: on a narrow screen the status (the
// call's state and the words people compare) wraps into more lines than
// the status line holds; the stage gives way, so the bar covers no tile
// and the name label of a single tile still reads.
func TestLongStatusLeavesTheLabels(t *testing.T) {
	frame := display.NewFrame(640, 720)
	scene := Scene{
		Participants: []Participant{{Identity: "alice", Name: "Alice", Picture: patternPicture(t, 640, 360, 1, 128, 128)}},
		Status:       "in call with Alice · end-to-end encrypted · compare: orbit maple canyon velvet harbor lantern tulip meadow",
	}
	var c Compositor
	defer c.Close()
	l := c.Draw(frame, scene)
	savePNG(t, frame)
	tile, ok := l.Tile("alice")
	if !ok {
		t.Fatal("alice has no tile")
	}
	if lines := len(c.status.lines); lines < 3 {
		t.Fatalf("the status wrapped into %d lines; the test wants more than the bar's two", lines)
	}
	if tile.Rect.Max.Y > l.Status.Min.Y {
		t.Errorf("the status bar %v covers alice's tile %v", l.Status, tile.Rect)
	}
	if _, ok := FindText(frame, tile.Rect, "Alice"); !ok {
		t.Error("alice's name label does not read in her tile")
	}
	if _, ok := FindText(frame, l.Status, scene.Status); !ok {
		t.Error("the status line does not read as the whole")
	}
}
