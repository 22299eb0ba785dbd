// Package compose owns what the screen shows during a call: where each
// participant's tile goes (the layout engine, inside the TV's safe area),
// scaling their decoded pictures into an XRGB8888 frame, the lettering
// (text.go), name labels, the muted mark, the placeholder for a tile
// without a picture and the call status line, and the Screen that decodes
// remote video and presents a frame at a steady rate on a
// display.Renderer.
//
// It knows nothing of calls or networks (callboxd feeds it participants
// and coded frames) and opens no device itself.
package compose

import (
	"image"
	"math"
	"slices"
)

// MaxTiles is the most remote participants shown at once; beyond it the
// earliest joined (and always the active speaker) are shown.
const MaxTiles = 9

// Tile is where one remote participant is drawn.
type Tile struct {
	Identity string
	Rect     image.Rectangle
	Speaker  bool // the active speaker, drawn large when there are several
}

// Layout is where everything goes on a screen.
type Layout struct {
	Tiles []Tile // remote participants, in the order given
	// Content is where shared content (a screen share) goes; empty when
	// nobody shares.
	Content image.Rectangle
	Self    image.Rectangle // the box's own camera; empty without a self view
	Status  image.Rectangle // the call status line along the bottom
	Card    CardLayout      // where Scene.Card was drawn, if there was one
}

// Tile returns the tile of identity, if it is shown.
func (l Layout) Tile(identity string) (Tile, bool) {
	for _, t := range l.Tiles {
		if t.Identity == identity {
			return t, true
		}
	}
	return Tile{}, false
}

// Arrange places up to MaxTiles remote participants (in join order), the
// self view and the status line on a screen of the given size. With three
// or more remote participants, the active speaker (if one of them) is drawn
// large above a strip of the others; otherwise everyone is an equal in a
// grid. The self view takes a free grid cell or the end of the strip, and
// otherwise sits small in the bottom-right corner.
func Arrange(screen image.Point, remotes []string, speaker string, selfView bool) Layout {
	return arrangePeople(screen, remotes, speaker, selfView, statusHeight(screen.Y))
}

// arrangePeople is Arrange with a status line statusH tall.
func arrangePeople(screen image.Point, remotes []string, speaker string, selfView bool, statusH int) Layout {
	l, stage := frame(screen, statusH)
	gap := even(max(4, screen.X/160))
	shown := pickShown(remotes, speaker)
	if !slices.Contains(shown, speaker) {
		speaker = ""
	}
	n := len(shown)
	switch {
	case n == 0:
		if selfView {
			l.Self = stage.Inset(gap)
		}
	case speaker != "" && n >= 3:
		l.arrangeSpeaker(stage, gap, shown, speaker, selfView)
	default:
		l.arrangeGrid(stage, gap, shown, selfView)
	}
	return l
}

// ArrangeContent places shared content large on the left of the stage and
// the people (up to MaxTiles remote participants, then the self view) in a
// strip down the right, one above the other, so that the content is cut
// the least: on a 16:9 screen it loses only the strip's width.
func ArrangeContent(screen image.Point, remotes []string, speaker string, selfView bool) Layout {
	return arrangeContent(screen, remotes, speaker, selfView, statusHeight(screen.Y))
}

// arrangeContent is ArrangeContent with a status line statusH tall.
func arrangeContent(screen image.Point, remotes []string, speaker string, selfView bool, statusH int) Layout {
	l, stage := frame(screen, statusH)
	gap := even(max(4, screen.X/160))
	stripW := even(screen.X / 6)
	l.Content = image.Rect(stage.Min.X+gap, stage.Min.Y+gap, even(stage.Max.X-stripW-gap), stage.Max.Y-gap)
	shown := pickShown(remotes, speaker)
	n := len(shown)
	if selfView {
		n++
	}
	if n == 0 {
		return l
	}
	x0, x1 := l.Content.Max.X+gap, stage.Max.X-gap
	cellH := min((x1-x0)*9/16, (stage.Dy()-gap*(n+1))/n)
	y := stage.Min.Y + gap
	next := func() image.Rectangle {
		r := image.Rect(even(x0), even(y), even(x1), even(y)+even(cellH))
		y += cellH + gap
		return r
	}
	for _, id := range shown {
		l.Tiles = append(l.Tiles, Tile{Identity: id, Rect: next()})
	}
	if selfView {
		l.Self = next()
	}
	return l
}

// SafeArea is the part of a screen that a TV shows whatever its overscan
// and scaling: all but 5 % on each side. Nothing is drawn outside it.
func SafeArea(screen image.Point) image.Rectangle {
	mx, my := evenUp((screen.X*5+99)/100), evenUp((screen.Y*5+99)/100)
	return image.Rect(mx, my, screen.X-mx, screen.Y-my)
}

// frame is a layout with the status line, statusH tall, along the bottom
// of the safe area, and the stage above it.
func frame(screen image.Point, statusH int) (Layout, image.Rectangle) {
	safe := SafeArea(screen)
	l := Layout{Status: image.Rect(safe.Min.X, safe.Max.Y-statusH, safe.Max.X, safe.Max.Y)}
	return l, image.Rect(safe.Min.X, safe.Min.Y, safe.Max.X, l.Status.Min.Y)
}

// statusHeight is the status line's height: two lines of the smallest
// text with a margin above and below. Two: the call's state and its
// verification words take more than one line of a 16:9 screen at that
// size. A status that needs more (a small screen) takes more, and the
// stage above it less (Compositor.Draw), so that it covers no label.
func statusHeight(screenH int) int {
	return evenUp(2*lineHeight(styleAt(screenH, stepSmallest, medium)) + 2*textPad(screenH))
}

// textPad is the margin around text on a band of colour (the status line,
// a label).
func textPad(screenH int) int { return max(1, minTextHeight(screenH)/4) }

// pickShown is remotes cut to MaxTiles, with the speaker kept in.
func pickShown(remotes []string, speaker string) []string {
	if len(remotes) <= MaxTiles {
		return remotes
	}
	shown := slices.Clone(remotes[:MaxTiles])
	if i := slices.Index(remotes, speaker); i >= MaxTiles {
		shown[MaxTiles-1] = speaker
	}
	return shown
}

func (l *Layout) arrangeGrid(stage image.Rectangle, gap int, shown []string, selfView bool) {
	n := len(shown)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	selfInGrid := selfView && cols*rows > n
	cellW := (stage.Dx() - gap*(cols+1)) / cols
	cellH := (stage.Dy() - gap*(rows+1)) / rows
	cell := func(row, col, inRow int) image.Rectangle {
		// A row with fewer cells than columns is centred.
		x0 := stage.Min.X + gap + (cols-inRow)*(cellW+gap)/2 + col*(cellW+gap)
		y0 := stage.Min.Y + gap + row*(cellH+gap)
		return image.Rect(even(x0), even(y0), even(x0)+even(cellW), even(y0)+even(cellH))
	}
	total := n
	if selfInGrid {
		total++
	}
	for i := range total {
		row, col := i/cols, i%cols
		inRow := min(cols, total-row*cols)
		r := cell(row, col, inRow)
		if i == n {
			l.Self = r
			continue
		}
		l.Tiles = append(l.Tiles, Tile{Identity: shown[i], Rect: r})
	}
	if selfView && !selfInGrid {
		l.Self = pictureInPicture(stage, gap)
	}
}

func (l *Layout) arrangeSpeaker(stage image.Rectangle, gap int, shown []string, speaker string, selfView bool) {
	others := len(shown) - 1
	if selfView {
		others++
	}
	bigH := (stage.Dy() - 3*gap) * 3 / 4
	l.Tiles = append(l.Tiles, Tile{Identity: speaker, Speaker: true,
		Rect: image.Rect(stage.Min.X+gap, stage.Min.Y+gap, stage.Max.X-gap, even(stage.Min.Y+gap+bigH))})
	stripY0 := even(stage.Min.Y + 2*gap + bigH)
	stripY1 := stage.Max.Y - gap
	cellW := (stage.Dx() - gap*(others+1)) / others
	// Strip cells keep a picture's 16:9 shape when the strip allows it.
	if w := (stripY1 - stripY0) * 16 / 9; w < cellW {
		cellW = w
	}
	x := stage.Min.X + (stage.Dx()-others*cellW-(others-1)*gap)/2
	next := func() image.Rectangle {
		r := image.Rect(even(x), stripY0, even(x)+even(cellW), stripY1)
		x += cellW + gap
		return r
	}
	for _, id := range shown {
		if id != speaker {
			l.Tiles = append(l.Tiles, Tile{Identity: id, Rect: next()})
		}
	}
	if selfView {
		l.Self = next()
	}
}

// pictureInPicture is a small 16:9 self view in the stage's bottom-right corner.
func pictureInPicture(stage image.Rectangle, gap int) image.Rectangle {
	w := even(stage.Dx() / 5)
	h := even(w * 9 / 16)
	return image.Rect(stage.Max.X-2*gap-w, stage.Max.Y-2*gap-h, stage.Max.X-2*gap, stage.Max.Y-2*gap)
}

// Fit is the largest rectangle of the picture's shape centred in r, with
// even corners (the picture is 4:2:0).
func Fit(picture image.Point, r image.Rectangle) image.Rectangle {
	if picture.X <= 0 || picture.Y <= 0 || r.Empty() {
		return image.Rectangle{}
	}
	w, h := r.Dx(), r.Dx()*picture.Y/picture.X
	if h > r.Dy() {
		w, h = r.Dy()*picture.X/picture.Y, r.Dy()
	}
	w, h = even(w), even(h)
	x0 := even(r.Min.X + (r.Dx()-w)/2)
	y0 := even(r.Min.Y + (r.Dy()-h)/2)
	return image.Rect(x0, y0, x0+w, y0+h)
}

// FitContent is where content of the given size goes in r: at its own
// size, centred, when it fits (text stays as sharp as it was sent), and
// otherwise scaled down to fit, never up.
func FitContent(picture image.Point, r image.Rectangle) image.Rectangle {
	if picture.X <= 0 || picture.Y <= 0 || r.Empty() {
		return image.Rectangle{}
	}
	if picture.X > r.Dx() || picture.Y > r.Dy() {
		return Fit(picture, r)
	}
	w, h := even(picture.X), even(picture.Y)
	x0 := even(r.Min.X + (r.Dx()-w)/2)
	y0 := even(r.Min.Y + (r.Dy()-h)/2)
	return image.Rect(x0, y0, x0+w, y0+h)
}

func even(v int) int { return v &^ 1 }

func evenUp(v int) int { return even(v + 1) }
