package compose

import (
	"fmt"
	"image"
	"slices"
	"testing"
)

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("p%d", i+1)
	}
	return out
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

func TestArrange(t *testing.T) {
	screen := image.Pt(1920, 1080)
	tests := []struct {
		remotes int
		speaker string // "" for none; "p12" for one beyond the ninth
		self    bool
		tiles   int
		large   string // the tile drawn larger than all others; "" for equals
		selfIn  string // "grid", "strip", "corner", "stage" or "" for none
	}{
		{0, "", true, 0, "", "stage"},
		{0, "", false, 0, "", ""},
		{1, "", true, 1, "", "corner"},
		{1, "p1", true, 1, "", "corner"},
		{2, "", true, 2, "", "corner"}, // 2x1 grid is full
		{2, "p2", true, 2, "", "corner"},
		{3, "", true, 3, "", "grid"},
		{3, "p2", true, 3, "p2", "strip"},
		{3, "p3", false, 3, "p3", ""},
		{4, "", true, 4, "", "corner"},
		{4, "p1", true, 4, "p1", "strip"},
		{5, "", true, 5, "", "grid"},
		{8, "", true, 8, "", "grid"},
		{9, "", true, 9, "", "corner"},
		{9, "p9", true, 9, "p9", "strip"},
		{12, "", true, 9, "", "corner"},
		{12, "p12", true, 9, "p12", "strip"},
		{3, "someone-gone", true, 3, "", "grid"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d remotes speaker %q self %v", tt.remotes, tt.speaker, tt.self), func(t *testing.T) {
			remotes := names(tt.remotes)
			l := Arrange(screen, remotes, tt.speaker, tt.self)
			safe := SafeArea(screen)
			stage := image.Rect(safe.Min.X, safe.Min.Y, safe.Max.X, l.Status.Min.Y)
			if l.Status.Max != safe.Max || l.Status.Min.X != safe.Min.X || l.Status.Dy() < screen.Y/28 {
				t.Errorf("status line %v, want a strip along the bottom of the safe area %v", l.Status, safe)
			}
			if len(l.Tiles) != tt.tiles {
				t.Fatalf("%d tiles, want %d", len(l.Tiles), tt.tiles)
			}
			var order []string
			for i, a := range l.Tiles {
				if !a.Rect.In(stage) || a.Rect.Dx() < 64 || a.Rect.Dy() < 36 {
					t.Errorf("tile %s at %v: outside the stage %v or too small", a.Identity, a.Rect, stage)
				}
				for _, b := range l.Tiles[i+1:] {
					if a.Rect.Overlaps(b.Rect) {
						t.Errorf("tiles %s %v and %s %v overlap", a.Identity, a.Rect, b.Identity, b.Rect)
					}
				}
				if tt.selfIn != "corner" && a.Rect.Overlaps(l.Self) {
					t.Errorf("tile %s %v is under the self view %v", a.Identity, a.Rect, l.Self)
				}
				if a.Speaker != (a.Identity == tt.large) {
					t.Errorf("tile %s marked speaker=%v", a.Identity, a.Speaker)
				}
				if !a.Speaker {
					order = append(order, a.Identity)
				}
			}
			if !slices.IsSortedFunc(order, func(a, b string) int { return slices.Index(remotes, a) - slices.Index(remotes, b) }) {
				t.Errorf("tiles in order %v, want join order", order)
			}
			if tt.speaker != "" && slices.Contains(remotes, tt.speaker) {
				if _, ok := l.Tile(tt.speaker); !ok {
					t.Errorf("the active speaker %s has no tile", tt.speaker)
				}
			}
			if tt.large != "" {
				big, _ := l.Tile(tt.large)
				for _, o := range l.Tiles {
					if o.Identity != tt.large && area(o.Rect)*4 > area(big.Rect) {
						t.Errorf("speaker tile %v is not much larger than %s's %v", big.Rect, o.Identity, o.Rect)
					}
				}
			} else if len(l.Tiles) > 1 {
				for _, o := range l.Tiles[1:] {
					if o.Rect.Size() != l.Tiles[0].Rect.Size() {
						t.Errorf("equals differ in size: %v and %v", l.Tiles[0].Rect, o.Rect)
					}
				}
			}
			switch tt.selfIn {
			case "":
				if !l.Self.Empty() {
					t.Errorf("self view at %v, want none", l.Self)
				}
			case "stage":
				if area(l.Self) < area(stage)*3/4 {
					t.Errorf("alone, the self view %v should fill the stage %v", l.Self, stage)
				}
			case "corner":
				if area(l.Self)*20 > area(stage) || l.Self.Max.X < stage.Max.X*9/10 || l.Self.Max.Y < stage.Max.Y*9/10 {
					t.Errorf("self view %v is not small in the bottom-right corner of %v", l.Self, stage)
				}
			case "grid", "strip":
				if l.Self.Size() != l.Tiles[len(l.Tiles)-1].Rect.Size() {
					t.Errorf("self view %v is not a cell like %v", l.Self, l.Tiles[len(l.Tiles)-1].Rect)
				}
			}
		})
	}
}

// When the active speaker changes, the large tile follows and everyone stays.
func TestArrangeFollowsTheSpeaker(t *testing.T) {
	remotes := names(4)
	for _, speaker := range []string{"p1", "p3", "p4", "p2"} {
		l := Arrange(image.Pt(1280, 720), remotes, speaker, true)
		if l.Tiles[0].Identity != speaker || !l.Tiles[0].Speaker {
			t.Errorf("speaker %s: the large tile is %s", speaker, l.Tiles[0].Identity)
		}
		if len(l.Tiles) != 4 {
			t.Errorf("speaker %s: %d tiles, want 4", speaker, len(l.Tiles))
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		picture image.Point
		r       image.Rectangle
		want    image.Rectangle
	}{
		{image.Pt(640, 360), image.Rect(0, 0, 1280, 720), image.Rect(0, 0, 1280, 720)},
		{image.Pt(640, 360), image.Rect(0, 0, 1280, 1000), image.Rect(0, 140, 1280, 860)},  // letterbox
		{image.Pt(480, 640), image.Rect(100, 0, 1380, 720), image.Rect(470, 0, 1010, 720)}, // pillarbox
		{image.Pt(0, 0), image.Rect(0, 0, 10, 10), image.Rectangle{}},
	}
	for _, tt := range tests {
		if got := Fit(tt.picture, tt.r); got != tt.want {
			t.Errorf("Fit(%v, %v) = %v, want %v", tt.picture, tt.r, got, tt.want)
		}
	}
}

// TestArrangeContent: shared content takes most of the stage and the
// people are a strip beside it, each tile inside the stage and clear of
// the content and of one another.
func TestArrangeContent(t *testing.T) {
	screen := image.Pt(1920, 1080)
	for _, tt := range []struct {
		remotes int
		self    bool
	}{{0, false}, {1, true}, {4, true}, {9, true}, {12, false}} {
		t.Run(fmt.Sprintf("%d remotes self %v", tt.remotes, tt.self), func(t *testing.T) {
			l := ArrangeContent(screen, names(tt.remotes), "p1", tt.self)
			safe := SafeArea(screen)
			stage := image.Rect(safe.Min.X, safe.Min.Y, safe.Max.X, l.Status.Min.Y)
			if !l.Content.In(stage) || l.Content.Dx() < stage.Dx()*3/4 || l.Content.Dy() < stage.Dy()*9/10 {
				t.Errorf("content %v, want most of the stage %v", l.Content, stage)
			}
			rects := []image.Rectangle{l.Content}
			for _, tile := range l.Tiles {
				rects = append(rects, tile.Rect)
			}
			if tt.self {
				rects = append(rects, l.Self)
			}
			if want := 1 + min(tt.remotes, MaxTiles); len(l.Tiles)+1 != want {
				t.Errorf("%d tiles, want %d", len(l.Tiles), want-1)
			}
			for i, r := range rects[1:] {
				if r.Empty() || !r.In(stage) || r.Min.X < l.Content.Max.X {
					t.Errorf("strip cell %d %v: want it in the stage, right of the content %v", i, r, l.Content)
				}
				for j, other := range rects[:i+1] {
					if r.Overlaps(other) {
						t.Errorf("strip cell %d %v overlaps %d %v", i, r, j, other)
					}
				}
			}
		})
	}
}

// TestFitContent: content is never scaled up, and scaled down only to fit.
func TestFitContent(t *testing.T) {
	area := image.Rect(12, 12, 1588, 1024)
	for _, tt := range []struct {
		picture, want image.Point
	}{
		{image.Pt(1280, 720), image.Pt(1280, 720)}, // fits: its own size
		{image.Pt(640, 480), image.Pt(640, 480)},
		{image.Pt(1920, 1080), image.Pt(1576, 886)}, // too wide: down to the width
		{image.Pt(1080, 1920), image.Pt(568, 1012)}, // too tall: down to the height
	} {
		got := FitContent(tt.picture, area)
		if got.Size() != tt.want || !got.In(area) {
			t.Errorf("%v content in %v: %v, want %v inside", tt.picture, area, got, tt.want)
		}
	}
}
