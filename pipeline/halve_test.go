package pipeline_test

import (
	"bytes"
	"context"
	"image"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// TestScalerHalves: an exact 2:1 step gives every 2x2 block's average,
// rounded to nearest, in all three planes, also from a camera picture with
// padded rows; other steps give the size asked for.
func TestScalerHalves(t *testing.T) {
	pattern := func(w, h int) camera.Frame {
		f, err := newPattern(t, w, h).ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct {
		name        string
		in          camera.Frame
		outW, outH  int
		exactHalves bool
	}{
		{"720p to 360p", pattern(1280, 720), 640, 360, true},
		{"360p with padded rows", padRows(pattern(640, 360), 64), 320, 180, true},
		// Sums of 2 and 6 are where rounding down would differ.
		{"rounds to nearest", i420(4, 4, []byte{
			0, 1, 1, 1,
			1, 0, 2, 2,
			255, 255, 9, 0,
			255, 255, 0, 0,
		}, []byte{1, 0, 0, 1}, []byte{200, 201, 202, 203}), 2, 2, true},
		{"not a half", pattern(1280, 720), 426, 240, false},
		{"a half but for 2 columns", pattern(1278, 720), 638, 360, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s pipeline.Scaler
			t.Cleanup(s.Close)
			out, err := s.Scale(tc.in, tc.outW, tc.outH)
			if err != nil {
				t.Fatal(err)
			}
			got, err := media.I420Image(out)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rect.Dx() != tc.outW || got.Rect.Dy() != tc.outH {
				t.Fatalf("scaled to %v, want %dx%d", got.Rect.Size(), tc.outW, tc.outH)
			}
			if !tc.exactHalves {
				return
			}
			in, err := media.I420Image(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := halveImage(in)
			for _, p := range []struct {
				name      string
				got, want []byte
			}{{"Y", got.Y, want.Y}, {"U", got.Cb, want.Cb}, {"V", got.Cr, want.Cr}} {
				if !bytes.Equal(p.got, p.want) {
					i := firstDifference(p.got, p.want)
					t.Errorf("%s plane differs first at byte %d: got %d, want the 2x2 average %d", p.name, i, p.got[i], p.want[i])
				}
			}
		})
	}
}

// TestHalveImageRoundsToNearest pins the test's own halving, which
// TestScalerHalves holds the scaler to: the hand-made picture there,
// worked out by hand (Y blocks sum to 2, 6, 1020 and 9).
func TestHalveImageRoundsToNearest(t *testing.T) {
	got := halveImage(&image.YCbCr{
		Y:  []byte{0, 1, 1, 1, 1, 0, 2, 2, 255, 255, 9, 0, 255, 255, 0, 0},
		Cb: []byte{1, 0, 0, 1}, Cr: []byte{200, 201, 202, 203}, YStride: 4, CStride: 2,
		SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, 4, 4),
	})
	if want := []byte{1, 2, 255, 2}; !bytes.Equal(got.Y, want) {
		t.Errorf("the test's own halving gives Y %v, want %v", got.Y, want)
	}
	if got.Cb[0] != 1 || got.Cr[0] != 202 {
		t.Errorf("the test's own halving gives U %d V %d, want 1 and 202", got.Cb[0], got.Cr[0])
	}
}

// i420 makes a tightly packed I420 frame from its planes.
func i420(w, h int, y, u, v []byte) camera.Frame {
	return camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: w, Height: h},
		Data: append(append(append([]byte{}, y...), u...), v...)}
}

// padRows copies an I420 frame into rows pad bytes longer (pad/2 for
// chroma), the padding filled with white, as a camera's stride may be.
func padRows(f camera.Frame, pad int) camera.Frame {
	w, h := f.Format.Width, f.Format.Height
	stride := w + pad
	var data []byte
	copyPlane := func(src []byte, w, h, stride int) {
		for y := range h {
			data = append(data, src[y*w:(y+1)*w]...)
			data = append(data, bytes.Repeat([]byte{255}, stride-w)...)
		}
	}
	copyPlane(f.Data[:w*h], w, h, stride)
	copyPlane(f.Data[w*h:w*h*5/4], w/2, h/2, stride/2)
	copyPlane(f.Data[w*h*5/4:w*h*3/2], w/2, h/2, stride/2)
	f.Data, f.Format.Stride = data, stride
	return f
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b)) - 1
}
