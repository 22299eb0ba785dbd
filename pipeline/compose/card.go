package compose

import (
	"fmt"
	"image"
	"strings"

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
func (c *Compositor) drawCard(dst *display.Frame, stage image.Rectangle, card *Card, scale int) CardLayout {
	pad := even(max(8, stage.Dy()/30))
	panel := stage.Inset(even(max(pad, stage.Dy()/16)))
	fillRect(dst, panel, colorCard)
	inner := panel.Inset(pad)
	l := CardLayout{Panel: panel}

	text := inner
	if card.QR != "" {
		code, err := c.qrFor(card.QR)
		if err == nil {
			side := min(inner.Dy(), inner.Dx()/2)
			modules := code.Size + 2*qrQuietZone
			unit := side / modules
			if unit >= 2 { // smaller modules do not scan from a sofa
				l.QR = image.Rect(inner.Min.X, inner.Min.Y, inner.Min.X+unit*modules, inner.Min.Y+unit*modules)
				drawQR(dst, l.QR.Min, code, unit)
				text.Min.X = l.QR.Max.X + pad
			} else {
				card = cardWithLine(card, "(the screen is too small for the QR code)")
			}
		} else {
			card = cardWithLine(card, "(no QR code: "+err.Error()+")")
		}
	}

	// Text larger than the labels': a card is read from across the room,
	// unless all of it would not fit: smaller text then, never text cut off.
	scale = max(scale, inner.Dy()/260)
	for scale > 1 && layCardText(card, text, scale, nil) > text.Max.Y {
		scale--
	}
	layCardText(card, text, scale, dst)
	return l
}

// layCardText draws the card's title and lines into text at scale (on
// dst; nil only measures) and returns where the text ends.
func layCardText(card *Card, text image.Rectangle, scale int, dst *display.Frame) int {
	y := text.Min.Y
	titleScale := 2 * scale // when it fits
	for titleScale > 1 && textSize(card.Title, titleScale).X > text.Dx() {
		titleScale--
	}
	for _, line := range wrap(card.Title, text.Dx()/(glyphW*titleScale)) {
		if dst != nil {
			drawText(dst, image.Pt(text.Min.X, y), line, titleScale, colorCardTitle, text)
		}
		y += (glyphH + 4) * titleScale
	}
	y += glyphH * scale
	for _, para := range card.Lines {
		for _, line := range wrap(para, text.Dx()/(glyphW*scale)) {
			if dst != nil {
				drawText(dst, image.Pt(text.Min.X, y), line, scale, colorCardText, text)
			}
			y += (glyphH + 3) * scale
		}
		y += glyphH * scale / 2
	}
	return y
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

// wrap breaks s into lines of at most width characters, at spaces where it
// can and otherwise (a long address or fingerprint) anywhere.
func wrap(s string, width int) []string {
	width = max(1, width)
	var lines []string
	for _, word := range strings.Fields(s) {
		for len([]rune(word)) > width {
			r := []rune(word)
			if n := len(lines); n > 0 && len([]rune(lines[n-1]))+1 < width {
				// Fill the line before first: an address starts where it may.
				room := width - len([]rune(lines[n-1])) - 1
				lines[n-1] += " " + string(r[:room])
				word = string(r[room:])
				continue
			}
			lines = append(lines, string(r[:width]))
			word = string(r[width:])
		}
		if word == "" {
			continue
		}
		if n := len(lines); n > 0 && len([]rune(lines[n-1]))+1+len([]rune(word)) <= width {
			lines[n-1] += " " + word
		} else {
			lines = append(lines, word)
		}
	}
	return lines
}
