package display

import (
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenSaysWhatIsWrong(t *testing.T) {
	tests := []struct {
		output string
		says   string
		is     error
	}{
		{"drm:/nonexistent/card0", "/nonexistent/card0", ErrNoDisplay},
		{"fbdev:/nonexistent/fb0", "/nonexistent/fb0", ErrNoDisplay},
		{"drm:/dev/null", "/dev/null: get resources", nil},
		{"fbdev:/dev/null", "/dev/null: not a frame buffer device", nil},
		{"png", "names no file", nil},
		{"hdmi", `output "hdmi" is not one of`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			r, err := Open(Options{Output: tt.output, Width: 64, Height: 36})
			if err == nil {
				r.Close()
				t.Fatalf("Open(%q) worked, want an error saying %q", tt.output, tt.says)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Open(%q) = %q, want it to say %q", tt.output, err, tt.says)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open(%q) = %v, want errors.Is %v", tt.output, err, tt.is)
			}
		})
	}
}

func TestOffscreenShowsWhatWasPresented(t *testing.T) {
	path := filepath.Join(t.TempDir(), "screen.png")
	r, err := Open(Options{Output: "png:" + path, Width: 64, Height: 36})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if got := r.Size(); got.X != 64 || got.Y != 36 {
		t.Fatalf("size %v, want 64x36", got)
	}
	back := r.BackBuffer()
	// A red pixel at (10, 5), in XRGB8888 memory order B, G, R, X.
	i := 5*back.Stride + 4*10
	back.Pix[i+2] = 0xff
	off := r.(*Offscreen)
	if f, _ := off.Snapshot(); f.At(10, 5).R != 0 {
		t.Fatalf("the pixel shows before Present")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Present(ctx); err != nil {
		t.Fatal(err)
	}
	if err := off.WaitPresented(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if f, n := off.Snapshot(); n != 1 || f.At(10, 5).R != 0xff || f.At(11, 5).R != 0 {
		t.Errorf("after one Present: %d presents, pixel %v, neighbour %v; want 1, red, black", n, f.At(10, 5), f.At(11, 5))
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatalf("no PNG after Present: %v", err)
	}
	defer file.Close()
	img, err := png.Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := img.At(10, 5).RGBA(); r>>8 != 0xff || g != 0 || b != 0 {
		t.Errorf("PNG pixel (10,5) = %d,%d,%d, want red", r>>8, g>>8, b>>8)
	}
}

func TestOffscreenRefusesSillySizes(t *testing.T) {
	for _, size := range [][2]int{{0, 0}, {-5, 100}, {100000, 10}} {
		if _, err := NewOffscreen(OffscreenOptions{Width: size[0], Height: size[1]}); err == nil {
			t.Errorf("NewOffscreen(%dx%d) worked, want an error", size[0], size[1])
		}
	}
}
