package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"testing"
	"testing/synctest"
	"time"
)

func newPattern(t *testing.T, opts TestPatternOptions) *TestPattern {
	t.Helper()
	p, err := NewTestPattern(opts)
	if err != nil {
		t.Fatalf("NewTestPattern(%+v): %v", opts, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestTestPatternOptions(t *testing.T) {
	tests := []struct {
		opts TestPatternOptions
		want Format // zero: an error is wanted
	}{
		{TestPatternOptions{}, Format{Pixel: PixelFormatI420, Width: 1280, Height: 720, FPS: 30, Stride: 1280}},
		{TestPatternOptions{Width: 320, Height: 180, FPS: 15}, Format{Pixel: PixelFormatI420, Width: 320, Height: 180, FPS: 15, Stride: 320}},
		{TestPatternOptions{Width: 1920, Height: 1080, FPS: 60}, Format{Pixel: PixelFormatI420, Width: 1920, Height: 1080, FPS: 60, Stride: 1920}},
		{TestPatternOptions{Width: 321, Height: 180}, Format{}},
		{TestPatternOptions{Width: 320, Height: 0}, Format{}},
		{TestPatternOptions{Width: -2, Height: -2}, Format{}},
		{TestPatternOptions{Width: 8, Height: 8}, Format{}},
		{TestPatternOptions{Width: 16384, Height: 16384}, Format{}},
		{TestPatternOptions{FPS: -1}, Format{}},
		{TestPatternOptions{FPS: 1000}, Format{}},
	}
	for _, tt := range tests {
		p, err := NewTestPattern(tt.opts)
		if tt.want == (Format{}) {
			if !errors.Is(err, ErrUnsupportedFormat) {
				t.Errorf("NewTestPattern(%+v) error %v, want ErrUnsupportedFormat", tt.opts, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewTestPattern(%+v): %v", tt.opts, err)
			continue
		}
		if got := p.Format(); got != tt.want {
			t.Errorf("NewTestPattern(%+v).Format() = %+v, want %+v", tt.opts, got, tt.want)
		}
	}
}

// Frames come one period apart on the clock, numbered from 0, each
// carrying its own number and capture time, and the picture moves.
func TestTestPatternFramesAdvance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const w, h, fps = 320, 180, 30
		p := newPattern(t, TestPatternOptions{Width: w, Height: h, FPS: fps})
		ctx := t.Context()
		start := time.Now()
		var prev []byte
		for i := range 45 {
			f, err := p.ReadFrame(ctx)
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if f.Seq != uint64(i) {
				t.Fatalf("frame %d has Seq %d", i, f.Seq)
			}
			if want := start.Add(time.Duration(i) * time.Second / fps); !f.Time.Equal(want) {
				t.Fatalf("frame %d at %v, want %v", i, f.Time.Sub(start), want.Sub(start))
			}
			if len(f.Data) != w*h*3/2 || f.Format != p.Format() {
				t.Fatalf("frame %d: %d bytes, format %v", i, len(f.Data), f.Format)
			}
			s, err := ReadStamp(f.Data, w, w, h)
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if s.Frame != uint32(i) || !s.Time.Equal(time.UnixMilli(f.Time.UnixMilli())) {
				t.Fatalf("frame %d stamped %d at %v, want %d at %v", i, s.Frame, s.Time, i, f.Time)
			}
			below := f.Data[StampRect(w, h).Max.Y*w : w*h] // luma under the stamp
			if prev != nil && bytes.Equal(prev, below) {
				t.Fatalf("frame %d looks the same as frame %d", i, i-1)
			}
			prev = bytes.Clone(below)
		}
		// 45 frames at 30 fps: the last came 44 periods after the first.
		if got, want := time.Since(start), 44*time.Second/fps; got != want {
			t.Errorf("45 frames took %v, want %v", got, want)
		}
	})
}

// A reader that stalls gets the frame due now, then frames back on the
// original grid: no burst of missed frames.
func TestTestPatternSkipsAfterStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPattern(t, TestPatternOptions{Width: 320, Height: 180, FPS: 10})
		ctx := t.Context()
		start := time.Now()
		if _, err := p.ReadFrame(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(350 * time.Millisecond) // the reader is busy for 3.5 periods
		var times []time.Duration
		for range 3 {
			f, err := p.ReadFrame(ctx)
			if err != nil {
				t.Fatal(err)
			}
			times = append(times, f.Time.Sub(start))
		}
		want := []time.Duration{350 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond}
		for i := range want {
			if times[i] != want[i] {
				t.Fatalf("frames after stall at %v, want %v", times, want)
			}
		}
	})
}

func TestTestPatternChroma(t *testing.T) {
	const w, h = 640, 360
	p := newPattern(t, TestPatternOptions{Width: w, Height: h})
	f, err := p.ReadFrame(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u := f.Data[w*h : w*h+w*h/4]
	r := StampRect(w, h)
	neutral, coloured := true, false
	for row := range h / 2 {
		for x := range w / 2 {
			c := u[row*w/2+x]
			inStamp := row >= r.Min.Y/2 && row < r.Max.Y/2 && x >= r.Min.X/2 && x < r.Max.X/2
			if inStamp && c != 128 {
				neutral = false
			}
			if !inStamp && c != 128 {
				coloured = true
			}
		}
	}
	if !neutral {
		t.Error("chroma under the stamp is not neutral")
	}
	if !coloured {
		t.Error("picture has no colour outside the stamp")
	}
}

func TestTestPatternCancelUnblocksRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPattern(t, TestPatternOptions{Width: 320, Height: 180, FPS: 1})
		if _, err := p.ReadFrame(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		errc := make(chan error, 1)
		go func() {
			_, err := p.ReadFrame(ctx)
			errc <- err
		}()
		synctest.Wait() // the reader waits for the next frame, due in 1 s
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("ReadFrame after cancel: %v, want context.Canceled", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("ReadFrame returned after %v, want at once", waited)
		}
		// The source still works with a live context.
		if f, err := p.ReadFrame(t.Context()); err != nil || f.Seq != 1 {
			t.Errorf("ReadFrame after a cancelled read = seq %d, %v; want seq 1", f.Seq, err)
		}
	})
}

func TestTestPatternCloseUnblocksRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPattern(t, TestPatternOptions{Width: 320, Height: 180, FPS: 1})
		if _, err := p.ReadFrame(t.Context()); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := p.ReadFrame(t.Context())
			errc <- err
		}()
		synctest.Wait()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Errorf("waiting ReadFrame after Close: %v, want ErrClosed", err)
		}
		if _, err := p.ReadFrame(t.Context()); !errors.Is(err, ErrClosed) {
			t.Errorf("ReadFrame after Close: %v, want ErrClosed", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestTestPatternCancelledContext(t *testing.T) {
	p := newPattern(t, TestPatternOptions{Width: 320, Height: 180})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.ReadFrame(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadFrame with a cancelled context: %v, want context.Canceled", err)
	}
}

// BenchmarkTestPatternRender measures drawing one 1280x720 frame; at 30 fps
// a core's share is 30 × ns/op / 1e9.
func BenchmarkTestPatternRender(b *testing.B) {
	for _, size := range []struct{ w, h int }{{1280, 720}, {1920, 1080}} {
		b.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(b *testing.B) {
			p, err := NewTestPattern(TestPatternOptions{Width: size.w, Height: size.h})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			b.SetBytes(int64(len(p.frame)))
			b.ReportAllocs()
			var seq uint64
			for b.Loop() {
				p.render(seq, now)
				seq++
			}
		})
	}
}

// TestPictureIsTheFrameAgain: Picture(seq) draws what ReadFrame gave as
// frame seq, the stamp aside, so a receiver can compare what it decoded.
func TestPictureIsTheFrameAgain(t *testing.T) {
	const w, h = 320, 180
	p, err := NewTestPattern(TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var frames [][]byte
	for range 3 {
		f, err := p.ReadFrame(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, bytes.Clone(f.Data))
	}
	stamp := StampRect(w, h)
	for seq, frame := range frames {
		again := p.Picture(uint64(seq))
		for i := range frame {
			if i < w*h && image.Pt(i%w, i/w).In(stamp) {
				continue
			}
			if again[i] != frame[i] {
				t.Fatalf("frame %d differs at byte %d: %d, drawn again %d", seq, i, frame[i], again[i])
			}
		}
		if seq > 0 && bytes.Equal(frames[seq-1][w*h/2:w*h], frame[w*h/2:w*h]) {
			t.Errorf("frames %d and %d are the same: the pattern does not move", seq-1, seq)
		}
	}
}
