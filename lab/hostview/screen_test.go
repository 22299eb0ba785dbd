package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"strings"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/pipeline/compose"
)

// patternFrames returns test-pattern pictures 0..n-1 at the remote's size,
// I420, each its own copy, and their stamps.
func patternFrames(t *testing.T, n int) ([][]byte, []camera.Stamp) {
	t.Helper()
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: remoteWidth, Height: remoteHeight, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	var out [][]byte
	var stamps []camera.Stamp
	for len(out) < n {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if int(f.Seq) == len(out) {
			out = append(out, append([]byte(nil), f.Data...))
			stamps = append(stamps, camera.Stamp{Frame: uint32(f.Seq), Time: f.Time})
		}
	}
	return out, stamps
}

func ycbcr(i420 []byte) *image.YCbCr {
	const w, h = remoteWidth, remoteHeight
	return &image.YCbCr{Y: i420[:w*h], Cb: i420[w*h : w*h+w*h/4], Cr: i420[w*h+w*h/4:],
		YStride: w, CStride: w / 2, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h)}
}

// encodePPM writes f as qemu's screendump does.
func encodePPM(f *display.Frame) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "P6\n%d %d\n255\n", f.Width, f.Height)
	for y := range f.Height {
		for x := range f.Width {
			c := f.At(x, y)
			b.Write([]byte{c.R, c.G, c.B})
		}
	}
	return b.Bytes()
}

func TestCheckScreen(t *testing.T) {
	frames, stamps := patternFrames(t, 6)
	own, _ := patternFrames(t, 6) // the box's own camera
	const shown = 4
	tests := []struct {
		name    string
		scene   compose.Scene
		sent    map[uint32][]byte // what the remote says it sent
		wantErr string
	}{
		{
			name: "the remote's picture in its tile",
			scene: compose.Scene{Participants: []compose.Participant{{Identity: remoteIdentity, Name: remoteName, Picture: ycbcr(frames[shown])}},
				Self: ycbcr(own[1]), Status: "in the call, room lab, 1 others"},
			sent: map[uint32][]byte{shown: frames[shown]},
		},
		{
			name: "without a self view",
			scene: compose.Scene{Participants: []compose.Participant{{Identity: remoteIdentity, Name: remoteName, Picture: ycbcr(frames[shown])}},
				Status: "in the call, room lab, 1 others"},
			sent: map[uint32][]byte{shown: frames[shown]},
		},
		{
			name: "the stamp of one picture over another",
			scene: compose.Scene{Participants: []compose.Participant{{Identity: remoteIdentity, Name: remoteName, Picture: ycbcr(frames[shown])}},
				Status: "in the call, room lab, 1 others"},
			sent:    map[uint32][]byte{shown: frames[shown-1]},
			wantErr: "the rest of it is not that picture",
		},
		{
			name: "a frame the remote did not send",
			scene: compose.Scene{Participants: []compose.Participant{{Identity: remoteIdentity, Name: remoteName, Picture: ycbcr(frames[shown])}},
				Status: "in the call, room lab, 1 others"},
			sent:    map[uint32][]byte{shown + 1: frames[shown+1]},
			wantErr: "did not send lately",
		},
		{
			name: "waiting for video",
			scene: compose.Scene{Participants: []compose.Participant{{Identity: remoteIdentity, Name: remoteName, Problem: "waiting for video"}},
				Status: "in the call, room lab, 1 others"},
			sent:    map[uint32][]byte{shown: frames[shown]},
			wantErr: "no readable stamp",
		},
		{
			name:    "no one else in the call",
			scene:   compose.Scene{Self: ycbcr(own[shown]), Status: "in the call, room lab"},
			sent:    map[uint32][]byte{shown: frames[shown]},
			wantErr: "which the remote did not send lately",
		},
		{
			name: "someone else's name",
			scene: compose.Scene{Participants: []compose.Participant{{Identity: remoteIdentity, Name: "Mallory", Picture: ycbcr(frames[shown])}},
				Status: "in the call, room lab, 1 others"},
			sent:    map[uint32][]byte{shown: frames[shown]},
			wantErr: "no label",
		},
		{
			name: "not in the call",
			scene: compose.Scene{Participants: []compose.Participant{{Identity: remoteIdentity, Name: remoteName, Picture: ycbcr(frames[shown])}},
				Status: "reconnecting: the network dropped 3 s ago, room lab, 1 others"},
			sent:    map[uint32][]byte{shown: frames[shown]},
			wantErr: `does not say "in the call"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c compose.Compositor
			defer c.Close()
			screen := display.NewFrame(1280, 800) // bochs's preferred mode in the lab
			c.Draw(screen, tt.scene)
			f, err := decodePPM(bufio.NewReader(bytes.NewReader(encodePPM(screen))))
			if err != nil {
				t.Fatal(err)
			}
			sent := newSentPictures(10)
			for frame, p := range tt.sent {
				sent.add(stamps[frame], p)
			}
			seen, err := checkScreen(f, sent)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("checkScreen() = %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("checkScreen() = %v", err)
			}
			if seen.stamp.Frame != shown {
				t.Errorf("the tile shows frame %d, want %d", seen.stamp.Frame, shown)
			}
			if seen.psnr < minTilePSNR {
				t.Errorf("PSNR %.1f dB, want %d or more", seen.psnr, minTilePSNR)
			}
			t.Logf("frame %d, PSNR %.1f dB, self view: %s", seen.stamp.Frame, seen.psnr, seen.self)
		})
	}
}

func TestDecodePPM(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{"two pixels", "P6\n2 1\n255\n\xff\x00\x00\x00\x00\xff", ""},
		{"a comment in the header", "P6\n# qemu\n2 1\n255\n\xff\x00\x00\x00\x00\xff", ""},
		{"ASCII PPM", "P3\n2 1\n255\n255 0 0 0 0 255\n", "want P6"},
		{"16-bit", "P6\n2 1\n65535\n", "maxval"},
		{"cut short", "P6\n2 1\n255\n\xff\x00", "row 0 of 1"},
		{"no size", "P6\nwide high\n255\n", "not a positive number"},
		{"negative size", "P6\n-2 1\n255\n", "not a positive number"},
		{"absurd size", "P6\n100000 100000\n255\n", "larger than any screen"},
		{"empty", "", "PPM header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodePPM(bufio.NewReader(strings.NewReader(tt.data)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("decodePPM() = %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Width != 2 || f.Height != 1 {
				t.Fatalf("size %dx%d, want 2x1", f.Width, f.Height)
			}
			if red, blue := f.At(0, 0), f.At(1, 0); red.R != 0xff || red.B != 0 || blue.B != 0xff || blue.R != 0 {
				t.Fatalf("pixels %v %v, want red then blue", red, blue)
			}
		})
	}
}
