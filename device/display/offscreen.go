package display

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// OffscreenOptions size an offscreen screen and say where it saves itself.
type OffscreenOptions struct {
	Width, Height int
	// PNGPath, when set, receives the shown picture as PNG after a Present,
	// at most every PNGInterval (default 500 ms), replaced atomically so a
	// reader never sees half a file.
	PNGPath     string
	PNGInterval time.Duration
}

// Offscreen is a screen in memory. Tests look at it; `callboxctl
// screenshot` saves it. Its methods other than BackBuffer and Present are
// safe to call from any goroutine.
type Offscreen struct {
	opts  OffscreenOptions
	back  *Frame
	saved time.Time // when PNGPath was last written

	mu        sync.Mutex
	shown     *Frame
	presented uint64
	changed   chan struct{} // closed and replaced on every Present
}

// NewOffscreen makes an offscreen screen of the given size.
func NewOffscreen(opts OffscreenOptions) (*Offscreen, error) {
	if opts.Width < 16 || opts.Height < 16 || opts.Width > 7680 || opts.Height > 4320 {
		return nil, fmt.Errorf("offscreen display: size %dx%d is not from 16x16 to 7680x4320", opts.Width, opts.Height)
	}
	if opts.PNGInterval <= 0 {
		opts.PNGInterval = 500 * time.Millisecond
	}
	return &Offscreen{
		opts:    opts,
		back:    NewFrame(opts.Width, opts.Height),
		shown:   NewFrame(opts.Width, opts.Height),
		changed: make(chan struct{}),
	}, nil
}

func (o *Offscreen) Size() image.Point  { return image.Pt(o.opts.Width, o.opts.Height) }
func (o *Offscreen) BackBuffer() *Frame { return o.back }

// Present makes the back buffer the shown picture.
func (o *Offscreen) Present(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	o.shown.copyFrom(o.back)
	o.presented++
	close(o.changed)
	o.changed = make(chan struct{})
	o.mu.Unlock()
	if o.opts.PNGPath != "" && time.Since(o.saved) >= o.opts.PNGInterval {
		o.saved = time.Now()
		if err := o.SavePNG(o.opts.PNGPath); err != nil {
			return err
		}
	}
	return nil
}

// Snapshot is a copy of the shown picture and how many Presents made it.
func (o *Offscreen) Snapshot() (*Frame, uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f := NewFrame(o.shown.Width, o.shown.Height)
	f.copyFrom(o.shown)
	return f, o.presented
}

// WaitPresented waits until at least n Presents have happened.
func (o *Offscreen) WaitPresented(ctx context.Context, n uint64) error {
	for {
		o.mu.Lock()
		got, changed := o.presented, o.changed
		o.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("offscreen display: %d of %d pictures presented: %w", got, n, ctx.Err())
		case <-changed:
		}
	}
}

// SavePNG writes the shown picture to path atomically.
func (o *Offscreen) SavePNG(path string) error {
	f, _ := o.Snapshot()
	return WritePNG(path, f)
}

// WritePNG writes f to path through a temporary file and a rename.
func WritePNG(path string, f *Frame) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".screen-*.png")
	if err != nil {
		return fmt.Errorf("save screen: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(tmp, f.RGBA()); err != nil {
		tmp.Close()
		return fmt.Errorf("save screen to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save screen to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save screen: %w", err)
	}
	return nil
}

// Close does nothing; the shown picture stays readable.
func (o *Offscreen) Close() error { return nil }
