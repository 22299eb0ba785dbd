package compose

import (
	"image"

	"github.com/callbox/callbox/device/display"
)

// Participant is what a tile shows of one remote participant.
type Participant struct {
	Identity string
	Name     string // shown in the label; the identity when empty
	Muted    bool   // the microphone is muted: the label says so
	// Picture is the newest decoded picture (I420), nil while there is none.
	Picture *image.YCbCr
	// Problem says, on the placeholder, why there is no picture.
	Problem string
}

// Scene is everything one frame shows.
type Scene struct {
	Participants []Participant // in join order
	// Content is shared content (the newest screen share) shown large
	// beside the people; nil for the grid. Its Name is whose it is.
	Content  *Participant
	Speaker  string       // the active speaker's identity, "" for none
	Self     *image.YCbCr // the box's own camera, nil for no self view
	ShowSelf bool         // draw the self view's place even without a picture
	Status   string       // the call status line
	Card     *Card        // a panel over the stage (card.go); nil for none
}

// Compositor draws scenes into frames. It keeps scaler state between
// frames; one goroutine uses it at a time.
type Compositor struct {
	scale scaler
	qr    *encodedQR // the card's QR code, made once per text
}

// Draw draws s over all of dst and returns the layout it used.
func (c *Compositor) Draw(dst *display.Frame, s Scene) Layout {
	ids := make([]string, len(s.Participants))
	byID := make(map[string]*Participant, len(s.Participants))
	for i := range s.Participants {
		p := &s.Participants[i]
		ids[i] = p.Identity
		byID[p.Identity] = p
	}
	selfView := s.Self != nil || s.ShowSelf
	arrange := Arrange
	if s.Content != nil {
		arrange = ArrangeContent
	}
	l := arrange(image.Pt(dst.Width, dst.Height), ids, s.Speaker, selfView)
	scale := textScale(dst.Height)

	// The background shows only in the gaps: paint around the stage's tiles.
	fillRect(dst, image.Rect(0, 0, dst.Width, l.Status.Min.Y), colorBackground)
	if s.Content != nil {
		c.drawTile(dst, l.Content, s.Content.Picture, s.Content.Problem, scale, FitContent)
		drawLabel(dst, l.Content, s.Content.Name+"'s screen", false, scale)
	}
	for _, t := range l.Tiles {
		p := byID[t.Identity]
		c.drawTile(dst, t.Rect, p.Picture, p.Problem, scale, Fit)
		name := p.Name
		if name == "" {
			name = p.Identity
		}
		drawLabel(dst, t.Rect, name, p.Muted, scale)
		if t.Speaker || (t.Identity == s.Speaker && len(l.Tiles) > 1) {
			border(dst, t.Rect, max(2, 2*scale), colorSpeaker)
		}
	}
	if !l.Self.Empty() {
		c.drawTile(dst, l.Self, s.Self, "camera off", scale, Fit)
		drawLabel(dst, l.Self, "You", false, scale)
	}
	fillRect(dst, l.Status, colorStatus)
	statusScale := max(1, (l.Status.Dy()-4)/glyphH)
	statusScale = min(statusScale, scale)
	ts := textSize(s.Status, statusScale)
	for statusScale > 1 && ts.X+2*ts.Y > l.Status.Dx() {
		statusScale-- // smaller, rather than the end cut off: it holds what people compare
		ts = textSize(s.Status, statusScale)
	}
	drawText(dst, image.Pt(l.Status.Min.X+ts.Y, l.Status.Min.Y+(l.Status.Dy()-ts.Y)/2), s.Status, statusScale, colorText, l.Status)
	if s.Card != nil {
		l.Card = c.drawCard(dst, image.Rect(0, 0, dst.Width, l.Status.Min.Y), s.Card, scale)
	}
	c.scale.sweep()
	return l
}

// drawTile draws a picture placed in r by fit (Fit for people,
// FitContent for content), or the placeholder with its reason when there
// is no picture or it cannot be drawn.
func (c *Compositor) drawTile(dst *display.Frame, r image.Rectangle, pic *image.YCbCr, problem string, scale int,
	fit func(picture image.Point, r image.Rectangle) image.Rectangle) {
	if pic != nil {
		inner := fit(pic.Rect.Size(), r)
		if !inner.Empty() && c.scale.draw(dst, inner, pic) == nil {
			fillAround(dst, r, inner, colorTile)
			return
		}
		problem = "cannot show this picture"
	}
	drawPlaceholder(dst, r, problem, scale)
}

// drawPlaceholder is an empty tile with a crossed-out camera mark and the
// reason there is no picture, so nobody mistakes it for a frozen picture.
func drawPlaceholder(dst *display.Frame, r image.Rectangle, reason string, scale int) {
	fillRect(dst, r, colorTile)
	if reason == "" {
		reason = "no video"
	}
	// A camera body, its lens and a slash through both.
	unit := max(2, r.Dy()/24)
	cx, cy := r.Min.X+r.Dx()/2, r.Min.Y+r.Dy()/2-2*unit
	body := image.Rect(cx-4*unit, cy-2*unit, cx+2*unit, cy+2*unit)
	lens := image.Rect(cx+2*unit, cy-unit, cx+4*unit, cy+unit)
	border(dst, body.Intersect(r), max(1, unit/2), colorPlaceholder)
	fillRect(dst, lens.Intersect(r), colorPlaceholder)
	for i := -4 * unit; i < 4*unit; i++ {
		fillRect(dst, image.Rect(cx+i, cy+i*5/8-unit/4, cx+i+1, cy+i*5/8+unit/4+1).Intersect(r), colorMuted)
	}
	ts := textSize(reason, scale)
	for ts.X > r.Dx()-8 && scale > 1 {
		scale--
		ts = textSize(reason, scale)
	}
	drawText(dst, image.Pt(cx-ts.X/2, cy+3*unit), reason, scale, colorText, r)
}

// drawLabel puts the name, and "muted" when the microphone is, in the
// tile's bottom-left corner.
func drawLabel(dst *display.Frame, r image.Rectangle, name string, muted bool, scale int) {
	pad := 3 * scale
	ts := textSize(name, scale)
	box := image.Rect(r.Min.X, r.Max.Y-ts.Y-2*pad, r.Min.X+ts.X+2*pad, r.Max.Y).Intersect(r)
	fillRect(dst, box, colorLabel)
	drawText(dst, image.Pt(box.Min.X+pad, box.Min.Y+pad), name, scale, colorText, box)
	if muted {
		const mark = "muted"
		ms := textSize(mark, scale)
		mbox := image.Rect(box.Max.X, box.Min.Y, box.Max.X+ms.X+2*pad, r.Max.Y).Intersect(r)
		fillRect(dst, mbox, colorMuted)
		drawText(dst, image.Pt(mbox.Min.X+pad, mbox.Min.Y+pad), mark, scale, colorText, mbox)
	}
}

// Close frees the scaler state.
func (c *Compositor) Close() { c.scale.close() }
