package compose

import (
	"fmt"
	"image"

	"rsc.io/qr"

	"github.com/callbox/callbox/device/display"
)

// Card is a panel drawn over the screen: a QR code to scan and a few lines
// of text beside it. The box shows one on first boot (the setup page's
// address and setup code) and when an invite link is made (the link to
// scan).
type Card struct {
	Title string
	Lines []string // below the title; long lines are wrapped
	// QR is encoded as a QR code on the card's left; "" for none.
	QR string
	// Headline: the title is a name to read from across the room (who
	// calls, whom the box calls), drawn up to three times as large as
	// the lines.
	Headline bool
}

// The card's colours: dark text on light, as a QR code wants it.
const (
	colorCard      Color = 0xf4f4f0
	colorCardText  Color = 0x101418
	colorCardTitle Color = 0x1a5fb4
	colorQRDark    Color = 0x000000
	colorQRLight   Color = 0xffffff
)

// qrQuietZone is the light margin around a QR code, in modules, that
// scanners need (ISO/IEC 18004 asks for 4).
const qrQuietZone = 4

// encodedQR is a QR code made once for a text, kept while the card shows.
type encodedQR struct {
	text string
	code *qr.Code
	err  error
}

// qrFor encodes text, reusing the last encoding when text has not changed.
func (c *Compositor) qrFor(text string) (*qr.Code, error) {
	if c.qr == nil || c.qr.text != text {
		code, err := qr.Encode(text, qr.M)
		if err != nil {
			err = fmt.Errorf("qr code of %d bytes: %w", len(text), err)
		}
		c.qr = &encodedQR{text: text, code: code, err: err}
	}
	return c.qr.code, c.qr.err
}

// CardLayout is where a card's parts went on the screen.
type CardLayout struct {
	Panel image.Rectangle
	QR    image.Rectangle // the code with its quiet zone; empty without one
}

// drawCard draws card as a panel over the middle of stage.
func (c *Compositor) drawCard(dst *display.Frame, stage image.Rectangle, card *Card) CardLayout {
	pad := evenUp(minTextHeight(dst.Height))
	panel := stage.Inset(even(max(2, stage.Dy()/40)))
	fillRect(dst, panel, colorCard)
	inner := panel.Inset(pad)
	l := CardLayout{Panel: panel}

	var code *qr.Code
	if card.QR != "" {
		var err error
		if code, err = c.qrFor(card.QR); err != nil {
			card = cardWithLine(card, "(no QR code: "+err.Error()+")")
		}
	}
	text := inner
	var lines []cardLine
	height := 0
	if code != nil {
		// The largest code beside which the text fits, in modules of 2
		// pixels at the least: smaller ones do not scan from a sofa.
		modules := code.Size + 2*qrQuietZone
		unit := min(inner.Dy(), inner.Dx()/2) / modules
	fit:
		for ; unit >= 2; unit-- {
			text.Min.X = inner.Min.X + unit*modules + pad
			for _, compact := range []bool{false, true} {
				if lines, height = c.layoutCard(card, text.Dx(), dst.Height, compact); height <= text.Dy() {
					break fit
				}
			}
		}
		switch {
		case unit >= 2:
			l.QR = image.Rect(inner.Min.X, inner.Min.Y, inner.Min.X+unit*modules, inner.Min.Y+unit*modules)
			drawQR(dst, l.QR.Min, code, unit)
		case modules*2 <= min(inner.Dy(), inner.Dx()/2):
			// Even the smallest code leaves too little room: the code, and
			// as much of the text as fits.
			unit = 2
			l.QR = image.Rect(inner.Min.X, inner.Min.Y, inner.Min.X+unit*modules, inner.Min.Y+unit*modules)
			drawQR(dst, l.QR.Min, code, unit)
			text.Min.X = l.QR.Max.X + pad
			lines, height = c.layoutCard(card, text.Dx(), dst.Height, true)
		default:
			card = cardWithLine(card, "(the screen is too small for the QR code)")
			text, lines = inner, nil
		}
	}
	if lines == nil {
		if lines, height = c.layoutCard(card, text.Dx(), dst.Height, false); height > text.Dy() {
			lines, height = c.layoutCard(card, text.Dx(), dst.Height, true)
		}
	}
	// Centred in the panel's height when it fits; else from the top, as
	// much as fits.
	top := text.Min.Y + max(0, (text.Dy()-height)/2)
	for _, line := range lines {
		c.text.drawText(dst, image.Pt(text.Min.X, top+line.y), line.s, line.style, line.color, text)
	}
	return l
}

// cardLine is one line of a card's text, y below the text's top.
type cardLine struct {
	s     string
	style textStyle
	color Color
	y     int
}

// layoutCard sets card's title and lines in a column width wide on a
// screen screenH tall, and says how high the column is. The title is as
// large as fits on one line (a headline up to three times the smallest
// text), and wrapped at the smallest size when even that does not fit.
// compact, for a card with much to say (the setup card at 720p): the
// title at the smallest size, no space between paragraphs.
func (c *Compositor) layoutCard(card *Card, width, screenH int, compact bool) ([]cardLine, int) {
	fits := func(st textStyle) func(string) bool {
		return func(s string) bool { return c.text.width(s, st) <= width }
	}
	largest := stepTitle
	switch {
	case compact:
		largest = stepSmallest
	case card.Headline:
		largest = stepHeadline
	}
	var out []cardLine
	y := 0
	title := c.text.fitLine(card.Title, screenH, width, bold, stepsFrom(largest))
	for _, s := range wrap(card.Title, fits(title)) {
		out = append(out, cardLine{s, title, colorCardTitle, y})
		y += c.text.lineHeight(title)
	}
	body := styleAt(screenH, stepSmallest, medium)
	lineH := c.text.lineHeight(body)
	for _, para := range card.Lines {
		if !compact {
			y += lineH / 3
		}
		for _, s := range wrap(para, fits(body)) {
			out = append(out, cardLine{s, body, colorCardText, y})
			y += lineH
		}
	}
	return out, y
}

func cardWithLine(card *Card, line string) *Card {
	c := *card
	c.Lines = append(c.Lines[:len(c.Lines):len(c.Lines)], line)
	return &c
}

// drawQR draws code with its quiet zone, top-left at p, unit pixels a module.
func drawQR(dst *display.Frame, p image.Point, code *qr.Code, unit int) {
	side := unit * (code.Size + 2*qrQuietZone)
	fillRect(dst, image.Rect(p.X, p.Y, p.X+side, p.Y+side), colorQRLight)
	origin := p.Add(image.Pt(unit*qrQuietZone, unit*qrQuietZone))
	for y := range code.Size {
		for x := range code.Size {
			if code.Black(x, y) {
				fillRect(dst, image.Rect(origin.X+x*unit, origin.Y+y*unit, origin.X+(x+1)*unit, origin.Y+(y+1)*unit), colorQRDark)
			}
		}
	}
}
