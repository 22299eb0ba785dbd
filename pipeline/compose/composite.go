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
	// Seq counts the pictures shown in this place: the same Picture with
	// the same Seq is the same picture as in the last frame. 0 when not
	// counted.
	Seq int
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

// Compositor draws scenes into frames. It keeps scaler state and the
// rendered text between frames; one goroutine uses it at a time.
type Compositor struct {
	scale scaler
	text  textCache
	qr    *encodedQR // the card's QR code, made once per text
	// status is the status line wrapped, made again when it changes.
	status wrappedStatus
	// content is the shared content as last scaled: content comes at 5
	// to 15 fps and the screen draws 30, and a copy of 1080p content
	// scaled for the screen costs a fifth of scaling it again.
	content scaledPicture
}

// scaledPicture is a picture as it was scaled into rect of a frame.
type scaledPicture struct {
	pic    *image.YCbCr
	seq    int
	rect   image.Rectangle
	pixels *display.Frame // rect's size
}

// holds says whether s is pic numbered seq scaled into rect.
func (s *scaledPicture) holds(pic *image.YCbCr, seq int, rect image.Rectangle) bool {
	return s.pixels != nil && seq != 0 && s.pic == pic && s.seq == seq && s.rect == rect
}

// keep copies rect of dst, where pic numbered seq was just drawn.
func (s *scaledPicture) keep(dst *display.Frame, pic *image.YCbCr, seq int, rect image.Rectangle) {
	if s.pixels == nil || s.pixels.Bounds() != rect.Sub(rect.Min) {
		s.pixels = display.NewFrame(rect.Dx(), rect.Dy())
	}
	copyRect(s.pixels, image.Point{}, dst, rect)
	s.pic, s.seq, s.rect = pic, seq, rect
}

// draw copies the kept picture back into dst.
func (s *scaledPicture) draw(dst *display.Frame) { copyRect(dst, s.rect.Min, s.pixels, s.pixels.Bounds()) }

type wrappedStatus struct {
	text  string
	width int
	style textStyle
	lines []string
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
	small := styleAt(dst.Height, stepSmallest, medium)
	safe := SafeArea(image.Pt(dst.Width, dst.Height))
	arrange := arrangePeople
	if s.Content != nil {
		arrange = arrangeContent
	}
	l := arrange(image.Pt(dst.Width, dst.Height), ids, s.Speaker, selfView, c.statusHeight(dst, safe.Dx(), s.Status, small))

	// The background shows in the margin outside the safe area and in
	// the stage's gaps.
	stage := image.Rect(safe.Min.X, safe.Min.Y, safe.Max.X, l.Status.Min.Y)
	fillAround(dst, dst.Bounds(), safe, colorBackground)
	painted := make([]image.Rectangle, 0, len(l.Tiles)+1) // drawTile paints all of each
	if s.Content != nil {
		painted = append(painted, l.Content)
	}
	for _, t := range l.Tiles {
		painted = append(painted, t.Rect)
	}
	fillExcept(dst, stage, painted, colorBackground)
	if s.Content != nil {
		c.drawContent(dst, l.Content, s.Content, small)
		c.drawLabel(dst, l.Content, s.Content.Name+"'s screen", false, small)
	}
	for _, t := range l.Tiles {
		p := byID[t.Identity]
		c.drawTile(dst, t.Rect, p.Picture, p.Problem, small, Fit)
		name := p.Name
		if name == "" {
			name = p.Identity
		}
		c.drawLabel(dst, t.Rect, name, p.Muted, small)
		if t.Speaker || (t.Identity == s.Speaker && len(l.Tiles) > 1) {
			border(dst, t.Rect, max(2, dst.Height/270), colorSpeaker)
		}
	}
	if !l.Self.Empty() {
		c.drawTile(dst, l.Self, s.Self, "camera off", small, Fit)
		c.drawLabel(dst, l.Self, "You", false, small)
	}
	if s.Content == nil {
		c.content = scaledPicture{} // its memory
	}
	l.Status = c.drawStatus(dst, l.Status, s.Status, small)
	if s.Card != nil {
		stage.Max.Y = l.Status.Min.Y // above the status line, also when it grew
		l.Card = c.drawCard(dst, stage, s.Card)
	}
	c.scale.sweep()
	c.text.sweep()
	return l
}

// statusHeight is how tall the status line is for text on a bar width
// wide: two lines (statusHeight), or as many as the text wraps into, up
// to half the screen.
func (c *Compositor) statusHeight(dst *display.Frame, width int, text string, st textStyle) int {
	pad := textPad(dst.Height)
	lines := c.statusLines(width, text, st, pad)
	return max(statusHeight(dst.Height), min(evenUp(len(lines)*c.text.lineHeight(st)+2*pad), dst.Height/2))
}

// statusLines is text wrapped for a bar width wide (it holds what people
// compare, the verification words), kept until the text or the width
// changes.
func (c *Compositor) statusLines(width int, text string, st textStyle, pad int) []string {
	if c.status.text != text || c.status.width != width || c.status.style != st {
		lines := wrap(text, func(s string) bool { return c.text.width(s, st) <= width-2*pad })
		c.status = wrappedStatus{text, width, st, lines}
	}
	return c.status.lines
}

// drawStatus draws the status line in bar, and returns where it went: a
// text too long for one line is wrapped, and the bar grows up over the
// stage should it need more lines than statusHeight gave it.
func (c *Compositor) drawStatus(dst *display.Frame, bar image.Rectangle, text string, st textStyle) image.Rectangle {
	pad := textPad(dst.Height)
	lines := c.statusLines(bar.Dx(), text, st, pad)
	lineH := c.text.lineHeight(st)
	bar.Min.Y = max(0, min(bar.Min.Y, bar.Max.Y-len(lines)*lineH-2*pad))
	fillRect(dst, bar, colorStatus)
	y := bar.Min.Y + (bar.Dy()-len(lines)*lineH)/2
	for _, line := range lines {
		c.text.drawText(dst, image.Pt(bar.Min.X+pad, y), line, st, colorText, bar)
		y += lineH
	}
	return bar
}

// drawContent draws shared content into r as drawTile does, or copies it
// from c.content when it is the picture drawn last time.
func (c *Compositor) drawContent(dst *display.Frame, r image.Rectangle, p *Participant, st textStyle) {
	if p.Picture != nil {
		if inner := FitContent(p.Picture.Rect.Size(), r); c.content.holds(p.Picture, p.Seq, inner) {
			c.content.draw(dst)
			fillAround(dst, r, inner, colorTile)
			return
		}
	}
	if inner := c.drawTile(dst, r, p.Picture, p.Problem, st, FitContent); !inner.Empty() && p.Seq != 0 {
		c.content.keep(dst, p.Picture, p.Seq, inner)
	}
}

// drawTile draws a picture placed in r by fit (Fit for people,
// FitContent for content), or the placeholder with its reason when there
// is no picture or it cannot be drawn. It returns where the picture went,
// empty for the placeholder.
func (c *Compositor) drawTile(dst *display.Frame, r image.Rectangle, pic *image.YCbCr, problem string, st textStyle,
	fit func(picture image.Point, r image.Rectangle) image.Rectangle) image.Rectangle {
	if pic != nil {
		inner := fit(pic.Rect.Size(), r)
		if !inner.Empty() && c.scale.draw(dst, inner, pic) == nil {
			fillAround(dst, r, inner, colorTile)
			return inner
		}
		problem = "cannot show this picture"
	}
	c.drawPlaceholder(dst, r, problem, st)
	return image.Rectangle{}
}

// drawPlaceholder is an empty tile with a crossed-out camera mark and the
// reason there is no picture, so nobody mistakes it for a frozen picture.
func (c *Compositor) drawPlaceholder(dst *display.Frame, r image.Rectangle, reason string, st textStyle) {
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
	// Centred when it fits, else from the tile's left edge so that its
	// start is read.
	x := max(r.Min.X+textPad(dst.Height), cx-c.text.width(reason, st)/2)
	c.text.drawText(dst, image.Pt(x, cy+3*unit), reason, st, colorText, r)
}

// drawLabel puts the name, and "muted" when the microphone is, in the
// tile's bottom-left corner.
func (c *Compositor) drawLabel(dst *display.Frame, r image.Rectangle, name string, muted bool, st textStyle) {
	pad := textPad(dst.Height)
	h := labelHeight(st, pad)
	box := image.Rect(r.Min.X, r.Max.Y-h, r.Min.X+c.text.width(name, st)+2*pad, r.Max.Y).Intersect(r)
	fillRect(dst, box, colorLabel)
	c.text.drawText(dst, box.Min.Add(image.Pt(pad, pad)), name, st, colorText, box)
	if muted {
		const mark = "muted"
		mbox := image.Rect(box.Max.X, box.Min.Y, box.Max.X+c.text.width(mark, st)+2*pad, r.Max.Y).Intersect(r)
		fillRect(dst, mbox, colorMuted)
		c.text.drawText(dst, mbox.Min.Add(image.Pt(pad, pad)), mark, st, colorText, mbox)
	}
}

func labelHeight(st textStyle, pad int) int { return lineHeight(st) + 2*pad }

// LabelHeight is how tall a tile's name label is on a screen screenH
// tall: a check of the picture in a tile leaves out that band at the
// tile's bottom.
func LabelHeight(screenH int) int {
	return labelHeight(styleAt(screenH, stepSmallest, medium), textPad(screenH))
}

// Close frees the scaler state.
func (c *Compositor) Close() { c.scale.close() }
