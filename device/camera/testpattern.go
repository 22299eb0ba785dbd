package camera

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
	"time"
)

// TestPatternOptions configures a TestPattern; zero fields take the
// defaults (1280x720 at 30 fps).
type TestPatternOptions struct {
	Width, Height int
	FPS           int
}

// TestPattern is a synthetic Source of I420 frames: a scrolling luma ramp
// and a sweeping bar over coloured bands, so a person sees motion, with a
// Stamp (frame number, capture time) drawn near the top for machines.
// Frames come at the frame rate by the wall clock; a slow reader gets the
// current frame, not a backlog.
type TestPattern struct {
	format Format

	mu     sync.Mutex // one ReadFrame at a time
	done   chan struct{}
	close  sync.Once
	timer  *time.Timer
	origin time.Time // when frame slot 0 was due; slot k is due at origin + k/FPS
	slot   uint64    // the next slot to deliver
	seq    uint64
	frame  []byte // I420, reused: Data is valid only until the next ReadFrame
	ramp   []byte // two periods of the luma ramp, so any shift is one copy
	chroma []byte // U and V planes, fixed, neutral under the stamp
}

// NewTestPattern makes a TestPattern. Width and height must be even (I420
// chroma is subsampled by two) and at least 16.
func NewTestPattern(opts TestPatternOptions) (*TestPattern, error) {
	w := opts
	if w.Width == 0 && w.Height == 0 {
		w.Width, w.Height = DefaultWidth, DefaultHeight
	}
	if w.FPS == 0 {
		w.FPS = DefaultFPS
	}
	if w.Width < 16 || w.Height < 16 || w.Width%2 != 0 || w.Height%2 != 0 || w.Width > 8192 || w.Height > 8192 {
		return nil, fmt.Errorf("test pattern: size %dx%d: want even sizes from 16x16 to 8192x8192: %w", w.Width, w.Height, ErrUnsupportedFormat)
	}
	if w.FPS < 1 || w.FPS > 240 {
		return nil, fmt.Errorf("test pattern: %d fps: want 1 to 240: %w", w.FPS, ErrUnsupportedFormat)
	}
	p := &TestPattern{
		format: Format{Pixel: PixelFormatI420, Width: w.Width, Height: w.Height, FPS: w.FPS, Stride: w.Width},
		done:   make(chan struct{}),
		frame:  make([]byte, w.Width*w.Height*3/2),
	}
	p.ramp = make([]byte, 2*w.Width)
	for x := range p.ramp {
		p.ramp[x] = byte(lumaBlack + (x%w.Width)*(lumaWhite-lumaBlack)/w.Width)
	}
	p.chroma = makeChroma(w.Width, w.Height)
	return p, nil
}

// makeChroma paints six vertical colour bands, grey (128) under the stamp.
func makeChroma(width, height int) []byte {
	cw, ch := width/2, height/2
	c := make([]byte, 2*cw*ch)
	u, v := c[:cw*ch], c[cw*ch:]
	bands := [][2]byte{{90, 240}, {54, 34}, {240, 110}, {166, 16}, {16, 146}, {202, 222}}
	for x := range cw {
		b := bands[x*len(bands)/cw]
		u[x], v[x] = b[0], b[1]
	}
	for row := 1; row < ch; row++ {
		copy(u[row*cw:(row+1)*cw], u[:cw])
		copy(v[row*cw:(row+1)*cw], v[:cw])
	}
	r := StampRect(width, height)
	for row := r.Min.Y / 2; row < (r.Max.Y+1)/2; row++ {
		fill(u[row*cw+r.Min.X/2:row*cw+(r.Max.X+1)/2], 128)
		fill(v[row*cw+r.Min.X/2:row*cw+(r.Max.X+1)/2], 128)
	}
	return c
}

// Format reports the pattern's format (I420, tightly packed).
func (p *TestPattern) Format() Format { return p.format }

// ReadFrame waits until the next frame is due and returns it. Frame.Data
// is valid until the next ReadFrame or Close.
func (p *TestPattern) ReadFrame(ctx context.Context) (Frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return Frame{}, fmt.Errorf("test pattern: %w", ErrClosed)
	default:
	}
	now := time.Now()
	if p.origin.IsZero() {
		p.origin = now // the first frame comes at once
	}
	if wait := p.due(p.slot).Sub(now); wait > 0 {
		if p.timer == nil {
			p.timer = time.NewTimer(wait)
		} else {
			p.timer.Reset(wait)
		}
		select {
		case <-p.timer.C:
		case <-ctx.Done():
			p.timer.Stop()
			return Frame{}, ctx.Err()
		case <-p.done:
			p.timer.Stop()
			return Frame{}, fmt.Errorf("test pattern: %w", ErrClosed)
		}
		now = time.Now()
	} else if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	// The next frame is the first slot after now: after a stall the missed
	// slots are skipped rather than burst out.
	elapsed := max(now.Sub(p.origin), 0)
	p.slot = max(p.slot+1, mulDiv(uint64(elapsed), uint64(p.format.FPS), uint64(time.Second))+1)
	p.render(p.seq, now)
	f := Frame{Format: p.format, Data: p.frame, Seq: p.seq, Time: now}
	p.seq++
	return f, nil
}

// due is when frame slot k is due: on an exact grid, no drift from
// rounding the period to nanoseconds.
func (p *TestPattern) due(k uint64) time.Time {
	return p.origin.Add(time.Duration(mulDiv(k, uint64(time.Second), uint64(p.format.FPS))))
}

// mulDiv is a*b/c without overflow in a*b (c must be > 0, a*b/c < 2^64).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// render draws frame seq, captured at t, into p.frame.
func (p *TestPattern) render(seq uint64, t time.Time) {
	w, h := p.format.Width, p.format.Height
	y := p.frame[:w*h]
	shift := int(seq*4) % w // ramp scrolls left 4 px per frame
	for row := range h {
		copy(y[row*w:(row+1)*w], p.ramp[shift:shift+w])
	}
	// A white bar, 1/16 of the width, crossing the picture every 2 s at
	// 30 fps (faster frame rates cross faster; it only has to move).
	barW := max(w/16, 2)
	barX := int(seq*uint64(w)/60) % (w - barW)
	for row := range h {
		fill(y[row*w+barX:row*w+barX+barW], lumaWhite)
	}
	DrawStamp(y, w, w, h, Stamp{Frame: uint32(seq), Time: t})
	copy(p.frame[w*h:], p.chroma)
}

// Picture draws frame seq as ReadFrame would, with a stamp of time zero,
// and returns it, valid until the next ReadFrame or Picture: what a
// receiver compares a decoded picture with (outside StampRect).
func (p *TestPattern) Picture(seq uint64) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.render(seq, time.Time{})
	return p.frame
}

// Close stops the pattern; a waiting ReadFrame returns ErrClosed.
func (p *TestPattern) Close() error {
	p.close.Do(func() { close(p.done) })
	return nil
}

var _ Source = (*TestPattern)(nil)
