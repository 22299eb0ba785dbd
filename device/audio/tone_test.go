package audio

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func newTestTone(t *testing.T, opts ToneOptions) *Tone {
	t.Helper()
	tone, err := NewTone(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tone.Close() })
	return tone
}

func TestToneIsPacedLikeAMicrophone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tone := newTestTone(t, ToneOptions{Frequency: 440, Amplitude: 0.5})
		buf := make([]int16, 960) // 20 ms
		start := time.Now()
		for i := range 50 {
			before := time.Now()
			if err := tone.Read(t.Context(), buf); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(before); took != 20*time.Millisecond {
				t.Fatalf("read %d of 20 ms took %v", i, took)
			}
		}
		if took := time.Since(start); took != time.Second {
			t.Errorf("one second of audio took %v", took)
		}
	})
}

func TestToneAfterALateReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tone := newTestTone(t, ToneOptions{Frequency: 440, Amplitude: 0.5})
		buf := make([]int16, 960)
		read := func() time.Duration {
			before := time.Now()
			if err := tone.Read(t.Context(), buf); err != nil {
				t.Fatal(err)
			}
			return time.Since(before)
		}
		read()
		time.Sleep(100 * time.Millisecond) // a short stall: catch up
		for i, want := range []time.Duration{0, 0, 0, 0, 0, 20 * time.Millisecond} {
			if got := read(); got != want {
				t.Errorf("after a 100 ms stall, read %d took %v, want %v", i, got, want)
			}
		}
		time.Sleep(time.Second) // a long one: drop it, like a device overrun
		for i, want := range []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond} {
			if got := read(); got != want {
				t.Errorf("after a 1 s stall, read %d took %v, want %v", i, got, want)
			}
		}
	})
}

func TestToneUnpacedDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tone := newTestTone(t, ToneOptions{Frequency: 440, Amplitude: 0.5, Unpaced: true})
		start := time.Now()
		if err := tone.Read(t.Context(), make([]int16, SampleRate)); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("unpaced read took %v", took)
		}
	})
}

func TestToneStopsOnCancelAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tone := newTestTone(t, ToneOptions{Frequency: 440, Amplitude: 0.5})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(5*time.Millisecond, cancel)
		if err := tone.Read(ctx, make([]int16, SampleRate)); !errors.Is(err, context.Canceled) {
			t.Errorf("Read with cancelled ctx = %v, want context.Canceled", err)
		}
		time.AfterFunc(5*time.Millisecond, func() { tone.Close() })
		if err := tone.Read(t.Context(), make([]int16, SampleRate)); !errors.Is(err, ErrClosed) {
			t.Errorf("Read while closing = %v, want ErrClosed", err)
		}
		if err := tone.Read(t.Context(), make([]int16, 10)); !errors.Is(err, ErrClosed) {
			t.Errorf("Read after Close = %v, want ErrClosed", err)
		}
	})
}

func TestToneIsPhaseContinuous(t *testing.T) {
	whole := make([]int16, 4800)
	if err := newTestTone(t, ToneOptions{Frequency: 1234.5, Amplitude: 0.8, Unpaced: true}).Read(t.Context(), whole); err != nil {
		t.Fatal(err)
	}
	pieces := newTestTone(t, ToneOptions{Frequency: 1234.5, Amplitude: 0.8, Unpaced: true})
	var joined []int16
	for _, n := range []int{1, 99, 480, 960, 3260} {
		buf := make([]int16, n)
		if err := pieces.Read(t.Context(), buf); err != nil {
			t.Fatal(err)
		}
		joined = append(joined, buf...)
	}
	if !slices.Equal(joined, whole) {
		t.Error("reading in pieces gives other samples than reading at once")
	}
}

func TestToneSoundsRight(t *testing.T) {
	tests := []struct {
		frequency, amplitude float64
	}{
		{440, 0.5},
		{1000, 1},
		{50, 0.1},
	}
	for _, tt := range tests {
		tone := newTestTone(t, ToneOptions{Frequency: tt.frequency, Amplitude: tt.amplitude, Unpaced: true})
		buf := make([]int16, SampleRate)
		if err := tone.Read(t.Context(), buf); err != nil {
			t.Fatal(err)
		}
		if got := DominantFrequency(buf, SampleRate); math.Abs(got-tt.frequency) > 1 {
			t.Errorf("tone of %v Hz measures %.2f Hz", tt.frequency, got)
		}
		wantRMS := tt.amplitude * math.MaxInt16 / math.Sqrt2
		if got := RMS(buf); math.Abs(got-wantRMS) > wantRMS*0.01 {
			t.Errorf("tone of amplitude %v has RMS %.1f, want %.1f", tt.amplitude, got, wantRMS)
		}
		peak := slices.Max(buf)
		if want := int16(math.Round(tt.amplitude * math.MaxInt16)); peak > want || peak < want-want/100 {
			t.Errorf("tone of amplitude %v peaks at %d, want %d", tt.amplitude, peak, want)
		}
	}
}

func TestNewToneRejectsBadInput(t *testing.T) {
	tests := []struct {
		opts ToneOptions
		want string
	}{
		{ToneOptions{Frequency: 0, Amplitude: 0.5}, "frequency"},
		{ToneOptions{Frequency: -440, Amplitude: 0.5}, "frequency"},
		{ToneOptions{Frequency: 24000, Amplitude: 0.5}, "frequency"},
		{ToneOptions{Frequency: math.NaN(), Amplitude: 0.5}, "frequency"},
		{ToneOptions{Frequency: 440, Amplitude: 1.5}, "amplitude"},
		{ToneOptions{Frequency: 440, Amplitude: -0.1}, "amplitude"},
		{ToneOptions{Frequency: 440, Amplitude: math.NaN()}, "amplitude"},
	}
	for _, tt := range tests {
		if _, err := NewTone(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewTone(%+v) error = %v, want one about %s", tt.opts, err, tt.want)
		}
	}
}

func BenchmarkTone(b *testing.B) {
	tone, err := NewTone(ToneOptions{Frequency: 440, Amplitude: 0.5, Unpaced: true})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]int16, 960) // one 20 ms block
	b.SetBytes(int64(len(buf) * 2))
	for b.Loop() {
		if err := tone.Read(context.Background(), buf); err != nil {
			b.Fatal(err)
		}
	}
}
