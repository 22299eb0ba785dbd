package main

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bars draws a luma picture of eight vertical bars of the given brightness.
func bars(width, height int, luma [8]byte) []byte {
	y := make([]byte, width*height)
	for row := range height {
		for x := range width {
			y[row*width+x] = luma[x*8/width]
		}
	}
	return y
}

// luma is a picture of brightness y alone, as changedPixels reads it.
func luma(y []byte, width, height int) *image.YCbCr {
	return &image.YCbCr{Y: y, YStride: width, Rect: image.Rect(0, 0, width, height), SubsampleRatio: image.YCbCrSubsampleRatio420}
}

func TestCheckColourBars(t *testing.T) {
	// vivid's 75% bars in BT.601 limited range, as decoded in the lab.
	vivid := [8]byte{180, 162, 131, 112, 84, 65, 35, 16}
	tests := []struct {
		name    string
		luma    [8]byte
		wantErr string
	}{
		{"vivid's bars", vivid, ""},
		{"grey", [8]byte{128, 128, 128, 128, 128, 128, 128, 128}, "falling"},
		{"bars the wrong way round", [8]byte{16, 35, 65, 84, 112, 131, 162, 180}, "falling"},
		{"two bars alike", [8]byte{180, 162, 162, 112, 84, 65, 35, 16}, "falling"},
		{"faint bars", [8]byte{130, 120, 110, 100, 90, 80, 70, 60}, "spans too little"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkColourBars(bars(1280, 720, tt.luma), 1280, 1280, 720)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("checkColourBars() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("checkColourBars() = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestChangedPixels(t *testing.T) {
	const w, h = 1280, 720
	still := bars(w, h, [8]byte{180, 162, 131, 112, 84, 65, 35, 16})
	noisy := append([]byte(nil), still...)
	for i := range noisy {
		noisy[i] += byte(i % 5) // coding noise: a few levels
	}
	textChanged := append([]byte(nil), still...)
	for x := 40; x < 48; x++ { // one 8x16 glyph in the top sixth
		for row := 20; row < 36; row++ {
			textChanged[row*w+x] = 16 // a dark stroke on the white bar
		}
	}
	lowChanged := append([]byte(nil), still...)
	for x := range w { // a change below the text region does not count
		lowChanged[(h-1)*w+x] = 0
	}
	tests := []struct {
		name    string
		b       []byte
		advance bool
	}{
		{"the same picture", still, false},
		{"the same picture with noise", noisy, false},
		{"one glyph of the text changed", textChanged, true},
		{"a change below the text", lowChanged, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := changedPixels(luma(still, w, h), luma(tt.b, w, h))
			if got := n >= minChanged; got != tt.advance {
				t.Errorf("changedPixels() = %d, counts as advancing %v, want %v", n, got, tt.advance)
			}
		})
	}
}

func TestWaitEvent(t *testing.T) {
	tests := []struct {
		name    string
		console string
		wantErr error // nil: found
	}{
		{"event with the serial line's CR", "lab: step: x\r\nLAB-EVENT: ready\r\n", nil},
		{"only another event", "LAB-EVENT: ready-not\r\n", context.DeadlineExceeded},
		{"the guest ended first", "lab: FAIL: no camera\r\nLAB-RESULT: camera FAIL no camera\r\n", errGuestEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			console := filepath.Join(t.TempDir(), "console.log")
			if err := os.WriteFile(console, []byte(tt.console), 0o644); err != nil {
				t.Fatal(err)
			}
			l := &lab{console: console, log: discardLogger()}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			err := l.waitEvent(ctx, "ready", time.Minute)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("waitEvent() = %v, want nil", err)
			case errors.Is(tt.wantErr, errGuestEnded) && !errors.Is(err, errGuestEnded):
				t.Fatalf("waitEvent() = %v, want %v", err, errGuestEnded)
			case errors.Is(tt.wantErr, context.DeadlineExceeded) && (err == nil || errors.Is(err, errGuestEnded)):
				t.Fatalf("waitEvent() = %v, want a time-out", err)
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
