package main

// What the screen says, read from callboxd's own screenshots (the local
// API, as `callboxctl screenshot` asks): the key's fingerprint on the
// status line, an invite's QR code, and on first boot the setup card.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	xdraw "golang.org/x/image/draw"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
)

// screenshot asks callboxd for its next screen, as callboxctl screenshot
// does, and returns it as a frame and as the PNG it came in.
func screenshot(c provisioning.LocalClient) (*display.Frame, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := c.Screenshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	f, err := decodeScreen(data)
	return f, data, err
}

// decodeScreen turns a PNG of the screen (a screenshot, the offscreen
// display's file) back into the frame the screen showed.
func decodeScreen(data []byte) (*display.Frame, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the screen is not a PNG: %w", err)
	}
	b := img.Bounds()
	f := display.NewFrame(b.Dx(), b.Dy())
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(x, y).RGBA()
			i := y*f.Stride + 4*x
			f.Pix[i], f.Pix[i+1], f.Pix[i+2] = byte(bl>>8), byte(g>>8), byte(r>>8)
		}
	}
	return f, nil
}

// scanQR reads the QR code on the screen as a phone would.
func scanQR(f *display.Frame) (string, error) {
	// A phone sees the screen at whatever size its distance gives, and
	// tries again as it moves: gozxing's detector misjudges a few codes
	// at one scale (seen: 1 setup link in 400 at 1280x720) and reads them
	// at another.
	var err error
	for _, scale := range []float64{1, 0.75, 0.5} {
		img := image.Image(f.RGBA())
		if scale != 1 {
			b := f.Bounds()
			small := image.NewRGBA(image.Rect(0, 0, int(float64(b.Dx())*scale), int(float64(b.Dy())*scale)))
			xdraw.ApproxBiLinear.Scale(small, small.Bounds(), img, b, xdraw.Src, nil)
			img = small
		}
		var bmp *gozxing.BinaryBitmap
		if bmp, err = gozxing.NewBinaryBitmapFromImage(img); err != nil {
			return "", err
		}
		var res *gozxing.Result
		if res, err = gozxingqr.NewQRCodeReader().Decode(bmp, nil); err == nil {
			return res.GetText(), nil
		}
	}
	return "", err
}

// keepScreenshot writes a screenshot for a person to look at, when
// SCREEN_TEST_DIR names a folder.
func keepScreenshot(t *testing.T, name string, data []byte) {
	t.Helper()
	if dir := os.Getenv("SCREEN_TEST_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Errorf("SCREEN_TEST_DIR: %v", err)
		}
	}
}

// waitText takes screenshots until text shows, and returns that screen.
// Each screenshot waits for the next frame drawn; an error is the screen
// still opening, in another process.
func waitText(t *testing.T, c provisioning.LocalClient, text string) (*display.Frame, []byte) {
	t.Helper()
	var f *display.Frame
	var data []byte
	err := daemontest.Poll(20*time.Second, 100*time.Millisecond, func() error {
		var err error
		if f, data, err = screenshot(c); err != nil {
			return err
		}
		if _, ok := compose.FindText(f, f.Bounds(), text); !ok {
			return fmt.Errorf("the screen does not show %q", text)
		}
		return nil
	})
	if err != nil {
		if data != nil { // the last screen seen, for whoever reads the failure
			last := filepath.Join(os.TempDir(), "callbox-"+strings.ReplaceAll(t.Name(), "/", "-")+"-last-screen.png")
			if os.WriteFile(last, data, 0o644) == nil {
				err = fmt.Errorf("%w (the last screenshot: %s)", err, last)
			}
		}
		t.Fatal(err)
	}
	return f, data
}

func TestScreenShowsKeyAndInvite(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	const roomKey = "a family room key for the screen test"
	cfgPath := filepath.Join(dir, "callbox.toml")
	cfgText := fmt.Sprintf(`[call]
encryption = "shared-key"
room_key = %q
[display]
output = "offscreen"
width = 1280
height = 720
fps = 10
[speaker]
device = "none"
`, roomKey)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "control.sock")
	d := startDaemon(t, append(serverArgs(srv, "screen"), "-config", cfgPath, "-control", socket,
		"-width", "320", "-height", "180", "-fps", "10")...)
	d.waitLog(t, "in the call", 30*time.Second)
	d.waitLog(t, "showing the call", 10*time.Second)
	c := provisioning.LocalClient{Socket: socket}

	key, err := call.NewRoomKey(roomKey)
	if err != nil {
		t.Fatal(err)
	}
	waitText(t, c, "shared-key encryption, key "+key.FingerprintWords())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inv, err := c.Invite(ctx, provisioning.InviteRequest{Name: "Grandma", Page: "https://box.test/guest/"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Fingerprint != key.Fingerprint() || inv.FingerprintWords != key.FingerprintWords() {
		t.Errorf("the invite says the key is %s (%s), want %s", inv.Fingerprint, inv.FingerprintWords, key.Fingerprint())
	}
	f, data := waitText(t, c, "Join this call from a phone")
	keepScreenshot(t, "invite.png", data)
	link, err := scanQR(f)
	if err != nil {
		t.Fatalf("the invite's QR code does not scan: %v", err)
	}
	if link != inv.Link {
		t.Errorf("the QR code reads %q, want the invite link %q", link, inv.Link)
	}

	// A page that is not a web address makes no invite.
	if _, err := c.Invite(ctx, provisioning.InviteRequest{Page: "ftp://nowhere"}); err == nil {
		t.Error("an invite to a page that is not http(s) was made")
	}
	d.stop(t)
}

func TestSetupScreen(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	// Settings, but no admin password yet: the box needs setting up, and
	// shows how on its (offscreen) screen.
	cfgText := fmt.Sprintf(`[call]
url = %q
room = "setup"
api_key = %q
api_secret = %q
[display]
output = "offscreen"
width = 1280
height = 720
`, srv.URL, srv.APIKey, srv.APISecret)
	if err := os.WriteFile(filepath.Join(dir, "callbox.toml"), []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "-data", dir, "-listen", netns.Addr+":0")
	d.waitLog(t, "setup_code=", 20*time.Second)
	code := regexp.MustCompile(`setup_code=(\S+)`).FindStringSubmatch(d.output())[1]
	port := regexp.MustCompile(`url=https://\S+:(\d+)/`).FindStringSubmatch(d.output())
	if port == nil {
		t.Fatalf("no setup page address in the log:\n%s", d.output())
	}
	c := provisioning.LocalClient{Socket: filepath.Join(dir, "control.sock")}
	wantLink := "https://" + netns.Addr + ":" + port[1] + "/"
	f, data := waitText(t, c, wantLink)
	keepScreenshot(t, "setup.png", data)
	if _, ok := compose.FindText(f, f.Bounds(), "Setup code: "+code); !ok {
		t.Errorf("the setup screen does not show the setup code %s", code)
	}
	link, err := scanQR(f)
	if err != nil {
		t.Fatalf("the setup QR code does not scan: %v", err)
	}
	if link != wantLink {
		t.Errorf("the setup QR code reads %q, want %q", link, wantLink)
	}
	d.stop(t)
}

// The status page shows the same key as the screen.
func TestStatusShowsTheKey(t *testing.T) {
	key, err := call.NewRoomKey("a family room key for the status page")
	if err != nil {
		t.Fatal(err)
	}
	s := newSupervisor(slog.Default(), provisioning.Boot{Config: config.Default()})
	s.daemon = &daemon{session: call.New(call.Options{RoomKey: key})}
	st := s.Status()
	if !st.Encrypted || st.KeyFingerprint != key.Fingerprint() || st.KeyWords != key.FingerprintWords() {
		t.Errorf("status says encrypted %v, key %q (%q); want %q (%q)", st.Encrypted, st.KeyFingerprint, st.KeyWords, key.Fingerprint(), key.FingerprintWords())
	}
	s.daemon = &daemon{session: call.New(call.Options{})}
	if st := s.Status(); st.Encrypted || st.KeyFingerprint != "" {
		t.Errorf("without a room key the status says encrypted %v, key %q", st.Encrypted, st.KeyFingerprint)
	}
	if got := encryptionStatus(s.daemon.session); got != "NOT end-to-end encrypted" {
		t.Errorf("the status line says %q without a key", got)
	}
}
