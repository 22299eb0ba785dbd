package compose

import (
	"context"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/callbox/callbox/device/display"
)

// decodeQR reads the QR code in r of f as a phone's scanner would.
func decodeQR(t *testing.T, f *display.Frame, r image.Rectangle) (string, error) {
	t.Helper()
	img := f.RGBA().SubImage(r)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// A link as long as a real invite (a JWT in the fragment) still scans.
var longLink = "https://10.0.0.5/guest/#u=wss%3A%2F%2Fcall.example%3A7880&t=" + strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 18) + "&k=family-room-key-123"

func TestCardQRScansBack(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		link          string
	}{
		{"setup link at 720p", 1280, 720, "https://192.168.1.23/"},
		{"invite at 1080p", 1920, 1080, longLink},
		{"invite at 720p", 1280, 720, longLink},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := display.NewFrame(tt.width, tt.height)
			var c Compositor
			defer c.Close()
			l := c.Draw(frame, Scene{Status: "in call", Card: &Card{
				Title: "Join as a guest", QR: tt.link,
				Lines: []string{"Scan with a phone's camera.", "Key: tiger face / bank / cow / dvd"},
			}})
			savePNG(t, frame)
			if l.Card.QR.Empty() {
				t.Fatalf("no QR code drawn (panel %v)", l.Card.Panel)
			}
			got, err := decodeQR(t, frame, l.Card.QR)
			if err != nil {
				t.Fatalf("the QR code does not scan: %v", err)
			}
			if got != tt.link {
				t.Errorf("the QR code reads %q, want %q", got, tt.link)
			}
			for _, text := range []string{"Join as a guest", "Scan with a phone's camera.", "tiger face / bank"} {
				if _, ok := FindText(frame, l.Card.Panel, text); !ok {
					t.Errorf("the card does not show %q", text)
				}
			}
			if _, ok := FindText(frame, l.Status, "in call"); !ok {
				t.Error("the status line is gone under the card")
			}
		})
	}
}

func TestCardWithoutRoomForQR(t *testing.T) {
	frame := display.NewFrame(160, 90)
	var c Compositor
	l := c.Draw(frame, Scene{Card: &Card{Title: "Set up", QR: longLink}})
	if !l.Card.QR.Empty() {
		t.Errorf("a QR code of %v on a 160x90 screen cannot scan; want none", l.Card.QR)
	}
	frame = display.NewFrame(1280, 720)
	l = c.Draw(frame, Scene{Card: &Card{Title: "Set up", QR: strings.Repeat("x", 5000)}})
	if !l.Card.QR.Empty() {
		t.Error("a QR code was drawn for a text too long to encode")
	}
	if _, ok := FindText(frame, l.Card.Panel, "(no QR code"); !ok {
		t.Error("the card does not say why it has no QR code")
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"open the page on a phone", 10, []string{"open the", "page on a", "phone"}},
		{"fingerprint AB:CD:EF:01:23:45", 12, []string{"fingerprint", "AB:CD:EF:01:", "23:45"}},
		{"x 0123456789", 6, []string{"x 0123", "456789"}},
		{"", 10, nil},
	}
	for _, tt := range tests {
		// A character a column, as on a terminal.
		got := wrap(tt.in, func(s string) bool { return len([]rune(s)) <= tt.width })
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		for _, line := range got {
			if len(line) > tt.width {
				t.Errorf("wrap(%q, %d): line %q is too long", tt.in, tt.width, line)
			}
		}
	}
}

// A card shows until its time is up; Capture hands over what was shown.
func TestScreenCardAndCapture(t *testing.T) {
	r, err := display.NewOffscreen(display.OffscreenOptions{Width: 640, Height: 360})
	if err != nil {
		t.Fatal(err)
	}
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	captured := make(chan *display.Frame, 1)
	go func() {
		f, err := s.Capture(ctx)
		if err != nil {
			t.Error(err)
		}
		captured <- f
	}()
	s.ShowCard(&Card{Title: "Hello"}, time.Now().Add(time.Hour))
	// Capture registers before a frame is drawn; draw until it has one.
	var shot *display.Frame
	for shot == nil {
		if err := s.DrawOnce(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case shot = <-captured:
		case <-time.After(10 * time.Millisecond):
		}
	}
	shown, _ := r.Snapshot()
	if string(shot.Pix) != string(shown.Pix) {
		t.Error("the captured frame is not the one presented")
	}
	if _, ok := FindText(shot, shot.Bounds(), "Hello"); !ok {
		t.Error("the card is not on the screen")
	}

	s.ShowCard(&Card{Title: "Gone"}, time.Now().Add(-time.Second))
	if err := s.DrawOnce(ctx); err != nil {
		t.Fatal(err)
	}
	shown, _ = r.Snapshot()
	if _, ok := FindText(shown, shown.Bounds(), "Gone"); ok {
		t.Error("a card past its time is still shown")
	}
}

func TestCaptureGivesUp(t *testing.T) {
	r, _ := display.NewOffscreen(display.OffscreenOptions{Width: 64, Height: 64})
	s := NewScreen(r, ScreenOptions{NewDecoder: softwareDecoder})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Capture(ctx); err == nil {
		t.Error("Capture without any frame drawn did not fail")
	}
}

// TestSetupCardFitsAt720p: the setup card, the one with most to say,
// shows all of it at the smallest size beside a QR code that scans from
// across the room.
func TestSetupCardFitsAt720p(t *testing.T) {
	const link = "https://192.168.1.23:8443/"
	frame := display.NewFrame(1280, 720)
	var c Compositor
	defer c.Close()
	l := c.Draw(frame, Scene{Status: "waiting for setup", Card: &Card{Title: "Set up this Callbox", QR: link, Lines: []string{
		"On a phone or laptop on the same network, scan the code or open:", link, "https://[fd00::1234:5678:9abc]:8443/",
		"Setup code: 4KQ7-M2XP",
		"The browser will warn about the page's certificate. Accept it only if its SHA-256 fingerprint is " +
			"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
	}}})
	savePNG(t, frame)
	if l.Card.QR.Dy() < l.Card.Panel.Dy()/2 {
		t.Errorf("the QR code is %v in a panel of %v: want it half the card's height at least, to scan from across the room", l.Card.QR.Size(), l.Card.Panel.Size())
	}
	if got, err := decodeQR(t, frame, l.Card.QR); err != nil || got != link {
		t.Errorf("the QR code reads %q (%v), want %q", got, err, link)
	}
	for _, text := range []string{"Set up this Callbox", "Setup code: 4KQ7-M2XP", "https://[fd00::1234:5678:9abc]:8443/", "EF:01:23:45:67:89"} {
		if _, ok := FindText(frame, l.Card.Panel, text); !ok {
			t.Errorf("the card does not show %q", text)
		}
	}
}
