package audio

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// ToneOptions describes a Tone.
type ToneOptions struct {
	// Frequency in Hz, above 0 and below half the sample rate.
	Frequency float64
	// Amplitude as a fraction of full scale, 0 to 1.
	Amplitude float64
	// Unpaced makes Read return at once instead of at the pace of a real
	// microphone; for benchmarks and tests that only want the samples.
	Unpaced bool
}

// maxToneLag is how far a reader may fall behind a paced Tone before the
// Tone stops catching up (a microphone would have dropped that audio).
const maxToneLag = 200 * time.Millisecond

// Tone is a Source that plays a sine wave, the synthetic microphone.
// Reads are phase-continuous, and a paced Tone hands out samples no faster
// than a real device would: reading 20 ms takes 20 ms.
type Tone struct {
	opts ToneOptions
	step float64 // phase advance per sample, radians

	mu       sync.Mutex
	phase    float64   // radians, in [0, 2π)
	epoch    time.Time // when sample 0 was "captured"; set by the first Read
	produced int64     // samples handed out since epoch

	closeOnce sync.Once
	closed    chan struct{}
}

var _ Source = (*Tone)(nil)

// NewTone makes a Tone, checking its frequency and amplitude.
func NewTone(opts ToneOptions) (*Tone, error) {
	if !(opts.Frequency > 0 && opts.Frequency < SampleRate/2) {
		return nil, fmt.Errorf("tone frequency %v Hz: must be above 0 and below %d Hz", opts.Frequency, SampleRate/2)
	}
	if !(opts.Amplitude >= 0 && opts.Amplitude <= 1) {
		return nil, fmt.Errorf("tone amplitude %v: must be between 0 and 1", opts.Amplitude)
	}
	return &Tone{
		opts:   opts,
		step:   2 * math.Pi * opts.Frequency / SampleRate,
		closed: make(chan struct{}),
	}, nil
}

// Read fills buf with the next samples of the sine.
func (t *Tone) Read(ctx context.Context, buf []int16) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-t.closed:
		return ErrClosed
	default:
	}
	if !t.opts.Unpaced {
		if err := t.waitFor(ctx, len(buf)); err != nil {
			return err
		}
	}
	peak := t.opts.Amplitude * math.MaxInt16
	for i := range buf {
		buf[i] = int16(math.Round(peak * math.Sin(t.phase)))
		// Wrapping keeps the phase small, so precision does not drift
		// over hours of audio.
		if t.phase += t.step; t.phase >= 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
	return nil
}

// waitFor blocks until n more samples would have been captured.
func (t *Tone) waitFor(ctx context.Context, n int) error {
	now := time.Now()
	if t.epoch.IsZero() {
		t.epoch = now
	}
	due := t.epoch.Add(samplesDuration(t.produced + int64(n)))
	if now.Sub(due) > maxToneLag {
		// The reader was away; start afresh rather than burst to catch up.
		t.epoch, t.produced = now.Add(-samplesDuration(int64(n))), 0
		due = now
	}
	t.produced += int64(n)
	wait := due.Sub(now)
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		t.produced -= int64(n)
		return ctx.Err()
	case <-t.closed:
		t.produced -= int64(n)
		return ErrClosed
	}
}

func samplesDuration(n int64) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}

// Close ends the Tone; a Read waiting on the clock returns ErrClosed.
func (t *Tone) Close() error {
	t.closeOnce.Do(func() { close(t.closed) })
	return nil
}
