package camera

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var stampSizes = []struct{ w, h int }{
	{320, 180}, {640, 360}, {640, 480}, {1280, 720}, {1920, 1080}, {176, 144},
}

// stamped returns a width x height luma plane with stride, a busy
// background (so the stamp must hold its own) and s drawn on it.
func stamped(width, height, stride int, s Stamp) []byte {
	y := background(width, height, stride)
	DrawStamp(y, stride, width, height, s)
	return y
}

func background(width, height, stride int) []byte {
	y := make([]byte, stride*height)
	for row := range height {
		for x := range width {
			y[row*stride+x] = byte((x*7 + row*3) % 256)
		}
	}
	return y
}

var stampTime = time.UnixMilli(1_780_000_123_456) // 2026

func TestStampRoundTrip(t *testing.T) {
	stamps := []Stamp{
		{Frame: 0, Time: stampTime},
		{Frame: 1, Time: stampTime.Add(33 * time.Millisecond)},
		{Frame: 0xFFFFFFFF, Time: time.UnixMilli(1<<48 - 1)},
		{Frame: 0x5A5A5A5A, Time: time.UnixMilli(0)},
	}
	for _, size := range stampSizes {
		for _, stride := range []int{size.w, size.w + 64} {
			for _, s := range stamps {
				t.Run(fmt.Sprintf("%dx%d/stride%d/frame%d", size.w, size.h, stride, s.Frame), func(t *testing.T) {
					y := stamped(size.w, size.h, stride, s)
					got, err := ReadStamp(y, stride, size.w, size.h)
					if err != nil {
						t.Fatalf("ReadStamp: %v", err)
					}
					if got.Frame != s.Frame || !got.Time.Equal(s.Time) {
						t.Errorf("ReadStamp = %d at %v, want %d at %v", got.Frame, got.Time, s.Frame, s.Time)
					}
				})
			}
		}
	}
}

func TestStampKeepsMillisecondsOnly(t *testing.T) {
	in := stampTime.Add(777 * time.Microsecond)
	y := stamped(640, 360, 640, Stamp{Frame: 9, Time: in})
	got, err := ReadStamp(y, 640, 640, 360)
	if err != nil {
		t.Fatal(err)
	}
	if want := stampTime; !got.Time.Equal(want) {
		t.Errorf("time %v, want %v", got.Time, want)
	}
}

func TestStampUnderNoise(t *testing.T) {
	noises := []struct {
		name  string
		noise func(r *rand.Rand) int
	}{
		{"uniform ±40", func(r *rand.Rand) int { return r.IntN(81) - 40 }},
		{"gaussian σ=20", func(r *rand.Rand) int { return int(r.NormFloat64() * 20) }},
	}
	for _, size := range stampSizes {
		for _, n := range noises {
			t.Run(fmt.Sprintf("%dx%d/%s", size.w, size.h, n.name), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(size.w), uint64(size.h)))
				for frame := range uint32(20) {
					s := Stamp{Frame: frame * 104729, Time: stampTime.Add(time.Duration(frame) * 33 * time.Millisecond)}
					y := stamped(size.w, size.h, size.w, s)
					for i := range y {
						y[i] = clamp8(int(y[i]) + n.noise(r))
					}
					got, err := ReadStamp(y, size.w, size.w, size.h)
					if err != nil {
						t.Fatalf("frame %d: %v", frame, err)
					}
					if got.Frame != s.Frame || !got.Time.Equal(s.Time) {
						t.Fatalf("read %d at %v, want %d at %v", got.Frame, got.Time, s.Frame, s.Time)
					}
				}
			})
		}
	}
}

func clamp8(v int) byte {
	return byte(min(max(v, 0), 255))
}

// TestStampAfterJPEG draws the stamp into a full TestPattern picture,
// codes it as JPEG at quality 30 and reads it back from the decoded luma.
func TestStampAfterJPEG(t *testing.T) {
	for _, size := range stampSizes {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			p, err := NewTestPattern(TestPatternOptions{Width: size.w, Height: size.h, FPS: 30})
			if err != nil {
				t.Fatal(err)
			}
			for _, seq := range []uint64{0, 7, 123456} {
				when := stampTime.Add(time.Duration(seq) * time.Millisecond)
				p.render(seq, when)
				img := i420Image(p.frame, size.w, size.h)
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 30}); err != nil {
					t.Fatal(err)
				}
				decoded, err := jpeg.Decode(&buf)
				if err != nil {
					t.Fatal(err)
				}
				yc, ok := decoded.(*image.YCbCr)
				if !ok {
					t.Fatalf("decoded %T, want *image.YCbCr", decoded)
				}
				got, err := ReadStamp(yc.Y, yc.YStride, size.w, size.h)
				if err != nil {
					t.Fatalf("frame %d after JPEG q30: %v", seq, err)
				}
				if got.Frame != uint32(seq) || !got.Time.Equal(when) {
					t.Errorf("read %d at %v, want %d at %v", got.Frame, got.Time, seq, when)
				}
			}
		})
	}
}

func i420Image(data []byte, w, h int) *image.YCbCr {
	cw, ch := w/2, h/2
	return &image.YCbCr{
		Y: data[:w*h], Cb: data[w*h : w*h+cw*ch], Cr: data[w*h+cw*ch:],
		YStride: w, CStride: cw, SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect: image.Rect(0, 0, w, h),
	}
}

// Flipping any one cell must make ReadStamp fail, never read a different
// stamp.
func TestStampCorruptCellIsRejected(t *testing.T) {
	const w, h = 640, 360
	s := Stamp{Frame: 4242, Time: stampTime}
	l, _ := layoutStamp(w, h)
	for i := range stampCols * stampRows {
		y := stamped(w, h, w, s)
		r := l.cellRect(i/stampCols, i%stampCols)
		flipped := byte(lumaWhite)
		if y[r.Min.Y*w+r.Min.X] == lumaWhite {
			flipped = lumaBlack
		}
		fillRect(y, w, r, flipped)
		got, err := ReadStamp(y, w, w, h)
		if err == nil {
			t.Fatalf("cell %d flipped: read %d at %v, want an error", i, got.Frame, got.Time)
		}
		if !errors.Is(err, ErrNoStamp) {
			t.Fatalf("cell %d flipped: error %v does not wrap ErrNoStamp", i, err)
		}
	}
}

func TestStampAbsentOrDamaged(t *testing.T) {
	const w, h = 640, 360
	good := stamped(w, h, w, Stamp{Frame: 1, Time: stampTime})
	l, _ := layoutStamp(w, h)
	tests := []struct {
		name string
		y    []byte
		w, h int
		says string
	}{
		{"flat grey", bytes.Repeat([]byte{128}, w*h), w, h, "neither black nor white"},
		{"black", bytes.Repeat([]byte{0}, w*h), w, h, "not grey"},
		{"white", bytes.Repeat([]byte{255}, w*h), w, h, "not grey"},
		{"background without stamp", background(w, h, w), w, h, ""},
		{"random", func() []byte {
			r := rand.New(rand.NewPCG(1, 2))
			y := make([]byte, w*h)
			for i := range y {
				y[i] = byte(r.UintN(256))
			}
			return y
		}(), w, h, ""},
		{"one cell smeared to grey", func() []byte {
			y := bytes.Clone(good)
			fillRect(y, w, l.cellRect(1, 5), 128)
			return y
		}(), w, h, "cell 1,5 reads 128, neither black nor white"},
		{"no grey border", func() []byte {
			y := bytes.Clone(good)
			fillRect(y, w, l.cellRect(0, -1), lumaWhite)
			return y
		}(), w, h, "border at row 0 reads 235, not grey"},
		{"too small", make([]byte, 64*32), 64, 32, "picture 64x32 too small"},
		{"plane shorter than size", good[:w*h/2], w, h, "too short"},
		{"zero size", nil, 0, 0, "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadStamp(tt.y, tt.w, tt.w, tt.h)
			if !errors.Is(err, ErrNoStamp) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("ReadStamp = %+v, %v; want ErrNoStamp saying %q", got, err, tt.says)
			}
		})
	}
}

func TestDrawStampIgnoresBadInput(t *testing.T) {
	// None of these may panic or write out of bounds.
	DrawStamp(nil, 640, 640, 360, Stamp{})
	DrawStamp(make([]byte, 100), 640, 640, 360, Stamp{})
	DrawStamp(make([]byte, 640*360), 320, 640, 360, Stamp{}) // stride < width
	y := make([]byte, 64*32)
	DrawStamp(y, 64, 64, 32, Stamp{Frame: 1})
	if !bytes.Equal(y, make([]byte, 64*32)) {
		t.Error("DrawStamp wrote into a picture too small for a stamp")
	}
}

func TestStampRectCoversCells(t *testing.T) {
	for _, size := range stampSizes {
		r := StampRect(size.w, size.h)
		if !r.In(image.Rect(0, 0, size.w, size.h)) || r.Empty() {
			t.Errorf("%dx%d: stamp rect %v outside the picture", size.w, size.h, r)
		}
		l, _ := layoutStamp(size.w, size.h)
		if r.Min.X%2 != 0 || r.Min.Y%2 != 0 || l.cell%2 != 0 {
			t.Errorf("%dx%d: stamp rect %v cell %d not on the chroma grid", size.w, size.h, r, l.cell)
		}
	}
	if r := StampRect(64, 32); !r.Empty() {
		t.Errorf("StampRect(64, 32) = %v, want empty", r)
	}
}

// TestFormatString: an HDMI input's signal has no pixel layout, and says
// only its size and rate, not four NUL bytes.
func TestFormatString(t *testing.T) {
	for _, c := range []struct {
		f    Format
		want string
	}{
		{Format{Pixel: PixelFormatYUYV, Width: 1280, Height: 720, FPS: 30}, "YUYV 1280x720@30"},
		{Format{Width: 1920, Height: 1080, FPS: 60}, "1920x1080@60"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("%#v: %q, want %q", c.f, got, c.want)
		}
	}
}
