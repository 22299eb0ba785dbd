package audio

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// sine makes seconds of a tone at amplitude (fraction of full scale),
// independently of Tone, plus uniform noise of noise (fraction of full
// scale) from a fixed seed.
func sine(frequency, amplitude, noise, seconds float64) []int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]int16, int(seconds*SampleRate))
	for i := range out {
		v := amplitude*math.Sin(2*math.Pi*frequency*float64(i)/SampleRate) + noise*(2*rng.Float64()-1)
		out[i] = int16(math.Round(max(-1, min(1, v)) * math.MaxInt16))
	}
	return out
}

func TestDominantFrequency(t *testing.T) {
	mix := func(a, b []int16) []int16 {
		out := make([]int16, len(a))
		for i := range a {
			out[i] = a[i]/2 + b[i]/2
		}
		return out
	}
	tests := []struct {
		name    string
		samples []int16
		want    float64
	}{
		{"300 Hz", sine(300, 0.5, 0, 1), 300},
		{"440 Hz", sine(440, 0.5, 0, 1), 440},
		{"1000 Hz", sine(1000, 0.5, 0, 1), 1000},
		{"440 Hz in loud noise", sine(440, 0.3, 0.5, 1), 440},
		{"quiet 440 Hz", sine(440, 0.001, 0, 1), 440},
		// A quarter second has 2.9 Hz bins: only interpolation lands within 1 Hz.
		{"441.3 Hz, quarter second", sine(441.3, 0.5, 0, 0.25), 441.3},
		// One 20 ms frame: the Hann window's smooth peak is what interpolates well.
		{"1234.5 Hz, one 20 ms frame", sine(1234.5, 0.5, 0, 0.02), 1234.5},
		{"1000 Hz over a weaker 3000 Hz", mix(sine(1000, 0.8, 0, 1), sine(3000, 0.4, 0, 1)), 1000},
		{"near Nyquist", sine(20000, 0.5, 0, 1), 20000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DominantFrequency(tt.samples, SampleRate); math.Abs(got-tt.want) > 1 {
				t.Errorf("DominantFrequency = %.3f Hz, want %v ± 1 Hz", got, tt.want)
			}
		})
	}
}

func TestDominantFrequencyOfNothing(t *testing.T) {
	tests := []struct {
		name       string
		samples    []int16
		sampleRate int
	}{
		{"silence", make([]int16, SampleRate), SampleRate},
		{"DC only", []int16{500, 500, 500, 500, 500, 500, 500, 500}, SampleRate},
		{"empty", nil, SampleRate},
		{"three samples", []int16{1, -1, 1}, SampleRate},
		{"zero sample rate", sine(440, 0.5, 0, 0.1), 0},
		{"negative sample rate", sine(440, 0.5, 0, 0.1), -48000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DominantFrequency(tt.samples, tt.sampleRate); got != 0 {
				t.Errorf("DominantFrequency = %v, want 0", got)
			}
		})
	}
}

func TestRMS(t *testing.T) {
	square := make([]int16, 1000)
	for i := range square {
		square[i] = 32767
		if i%2 == 1 {
			square[i] = -32767
		}
	}
	constant := make([]int16, 100)
	for i := range constant {
		constant[i] = -1000
	}
	tests := []struct {
		name    string
		samples []int16
		want    float64
	}{
		{"empty", nil, 0},
		{"silence", make([]int16, SampleRate), 0},
		{"constant", constant, 1000},
		{"full-scale square", square, 32767},
		{"half-scale sine", sine(440, 0.5, 0, 1), 0.5 * 32767 / math.Sqrt2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RMS(tt.samples); math.Abs(got-tt.want) > 0.5 {
				t.Errorf("RMS = %.2f, want %.2f", got, tt.want)
			}
		})
	}
}

func TestFFTMatchesDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 4, 8, 64} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(rng.Float64()-0.5, rng.Float64()-0.5)
		}
		want := make([]complex128, n)
		for k := range want {
			for j, v := range x {
				want[k] += v * cmplx.Rect(1, -2*math.Pi*float64(j*k)/float64(n))
			}
		}
		fft(x)
		for k := range x {
			if cmplx.Abs(x[k]-want[k]) > 1e-9 {
				t.Errorf("n=%d: bin %d = %v, DFT says %v", n, k, x[k], want[k])
			}
		}
	}
}
