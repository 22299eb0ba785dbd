package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/callbox/callbox/device/audio"
)

// speechLike is n samples of a voice-like signal: a harmonic buzz whose
// pitch glides around f0, shaped into syllables of 120-300 ms with short
// pauses, plus a little breath noise.
func speechLike(n int, f0 float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]float64, n)
	phase := 0.0
	i := 0
	for i < n {
		syllable := int((0.12 + 0.18*rng.Float64()) * audio.SampleRate)
		pause := int((0.03 + 0.08*rng.Float64()) * audio.SampleRate)
		pitch := f0 * (0.85 + 0.3*rng.Float64())
		for k := 0; k < syllable && i < n; k, i = k+1, i+1 {
			env := math.Sin(math.Pi * float64(k) / float64(syllable))
			f := pitch * (1 + 0.1*math.Sin(2*math.Pi*3*float64(k)/audio.SampleRate))
			phase += 2 * math.Pi * f / audio.SampleRate
			v := 0.0
			for h := 1; h <= 12; h++ {
				v += math.Sin(float64(h)*phase) / float64(h)
			}
			out[i] = env * (0.3*v + 0.02*rng.NormFloat64())
		}
		i += pause
	}
	return out
}

func toInt16(x []float64, gain float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32767, min(32767, v*gain*32767)))
	}
	return out
}

func energy(x []int16) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// correlation is the normalised cross-correlation of a and b at lag 0.
func correlation(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb+1)
}

// TestEchoCancellation plays 15 s of far-end speech through a simulated room
// (delay, gain, a few reflections, noise) into the microphone: once the
// filter has converged, the echo left is at least 25 dB below the echo
// (ERLE), and a person speaking near the box while the far end talks
// (double talk) still gets through.
func TestEchoCancellation(t *testing.T) {
	for _, delayMs := range []int{40, 120, 200} {
		t.Run(fmt.Sprintf("%d ms", delayMs), func(t *testing.T) {
			const rate = audio.SampleRate
			farOnly, doubleTalk := 15*rate, 3*rate
			n := farOnly + doubleTalk
			far := toInt16(speechLike(n, 130, 1), 0.5)
			near := make([]int16, n)
			copy(near[farOnly:], toInt16(speechLike(doubleTalk, 240, 7), 0.4))
			rng := rand.New(rand.NewPCG(3, 4))
			delay := delayMs * rate / 1000
			// Speaker to microphone: the direct sound and three reflections.
			taps := []struct {
				lag  int
				gain float64
			}{{0, 0.5}, {37, 0.2}, {113, -0.12}, {271, 0.06}}
			echo := make([]int16, n)
			mic := make([]int16, n)
			for i := range n {
				v := 0.0
				for _, tap := range taps {
					if j := i - delay - tap.lag; j >= 0 {
						v += tap.gain * float64(far[j])
					}
				}
				echo[i] = int16(v)
				noise := rng.NormFloat64() * 10 // about -70 dBFS
				mic[i] = int16(max(-32767, min(32767, v+float64(near[i])+noise)))
			}

			ec, err := NewEchoCanceller(testEchoOptions)
			if err != nil {
				t.Fatal(err)
			}
			defer ec.Close()
			out := make([]int16, n)
			f := ec.FrameSamples()
			for i := 0; i+f <= n; i += f {
				if err := ec.Process(mic[i:i+f], far[i:i+f], out[i:i+f]); err != nil {
					t.Fatal(err)
				}
			}

			converged := farOnly - 3*rate // the last 3 s of far end alone
			erle := 10 * math.Log10(energy(echo[converged:farOnly])/energy(out[converged:farOnly]))
			if erle < 25 {
				t.Errorf("echo return loss enhancement %.1f dB after convergence, want at least 25", erle)
			}
			dtNear, dtOut := near[farOnly:], out[farOnly:]
			kept := 10 * math.Log10(energy(dtOut)/energy(dtNear))
			// The canceller's output lags by one frame.
			corr := correlation(dtOut[f:], dtNear[:len(dtNear)-f])
			if kept < -10 || corr < 0.6 {
				t.Errorf("double talk: the near voice comes out at %.1f dB of itself, correlation %.2f; want above -10 dB and 0.6", kept, corr)
			}
			t.Logf("delay %d ms: ERLE %.1f dB; double talk: near voice at %.1f dB, correlation %.2f", delayMs, erle, kept, corr)
		})
	}
}

var testEchoOptions = EchoOptions{NoiseSuppression: true, AGC: true}

func TestEchoCancellerRefusesBadBlocks(t *testing.T) {
	ec, err := NewEchoCanceller(EchoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	if err := ec.Process(make([]int16, 10), make([]int16, 480), make([]int16, 480)); err == nil {
		t.Error("a 10-sample block was accepted")
	}
	if _, err := NewEchoCanceller(EchoOptions{Tail: 10 * 1e9}); err == nil {
		t.Error("a 10 s tail was accepted")
	}
}
