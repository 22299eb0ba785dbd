package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/provisioning"
)

// box is a daemon's local API with a fixed screen.
type box struct {
	screen []byte
	key    string
}

func (b box) Screenshot(context.Context) ([]byte, error) { return b.screen, nil }
func (b box) Invites() provisioning.Invites              { return nil }
func (b box) BoxKey() string                             { return b.key }
func (b box) Invite(_ context.Context, req provisioning.InviteRequest) (provisioning.InviteResponse, error) {
	return provisioning.InviteResponse{Link: "https://box/guest/#for=" + req.Name + "&page=" + req.Page,
		Fingerprint: "🌰", FingerprintWords: "chestnut", ShownUntil: time.Now()}, nil
}

func serve(t *testing.T, b box) string {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "control.sock")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- provisioning.ServeLocal(ctx, socket, b, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeLocal: %v", err)
		}
	})
	// The listener appears on another goroutine.
	err := daemontest.Poll(5*time.Second, 5*time.Millisecond, func() error {
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		t.Fatalf("the local API did not start: %v", err)
	}
	return socket
}

func TestScreenshotSavesThePicture(t *testing.T) {
	var pic bytes.Buffer
	if err := png.Encode(&pic, image.NewGray(image.Rect(0, 0, 32, 18))); err != nil {
		t.Fatal(err)
	}
	socket := serve(t, box{screen: pic.Bytes()})
	file := filepath.Join(t.TempDir(), "shot.png")
	var out bytes.Buffer
	if err := screenshot(context.Background(), []string{"-socket", socket, "-o", file}, &out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(got, pic.Bytes()) {
		t.Fatalf("the file holds %d bytes (%v), want the screen's %d", len(got), err, pic.Len())
	}
	if !strings.Contains(out.String(), file) {
		t.Errorf("callboxctl says %q, want where the picture went", out.String())
	}
}

func TestScreenshotErrors(t *testing.T) {
	notPNG := serve(t, box{screen: []byte("hello")})
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no daemon", []string{"-socket", filepath.Join(dir, "none.sock"), "-o", filepath.Join(dir, "a.png")}, "is callboxd running"},
		{"not a picture", []string{"-socket", notPNG, "-o", filepath.Join(dir, "b.png")}, "not a PNG"},
		{"extra argument", []string{"-socket", notPNG, "now"}, "unexpected argument"},
	}
	for _, tt := range tests {
		err := screenshot(context.Background(), tt.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed screenshots left files: %v", entries)
	}
}

func TestInviteAsksTheBox(t *testing.T) {
	socket := serve(t, box{})
	var out bytes.Buffer
	if err := invite([]string{"-socket", socket, "-name", "Grandma"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "#for=Grandma&page=\n") || !strings.Contains(out.String(), "chestnut") {
		t.Errorf("invite printed %q: want the box's link (with the box's own page) and the fingerprint in words", out.String())
	}
	out.Reset()
	if err := invite([]string{"-socket", socket, "-page", "https://tv.local/guest/"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "page=https://tv.local/guest/") {
		t.Errorf("invite printed %q: want the page given", out.String())
	}
}

// TestBoxKeyPrintsTheKey: box-key prints what another box lists in
// call.boxes, and says why when the box has none.
func TestBoxKeyPrintsTheKey(t *testing.T) {
	const key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	var out bytes.Buffer
	if err := boxKey([]string{"-socket", serve(t, box{key: key})}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != key+"\n" {
		t.Errorf("box-key printed %q, want the key on a line", out.String())
	}
	err := boxKey([]string{"-socket", serve(t, box{})}, &out)
	if err == nil || !strings.Contains(err.Error(), "call.encryption") {
		t.Errorf("a box without a key: %v", err)
	}
}
