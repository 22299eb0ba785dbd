package audio

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// DominantFrequency finds the strongest frequency in samples, in Hz: the
// peak of a Hann-windowed FFT, refined between bins by fitting a parabola
// to the log magnitudes around it. One second of a clean tone reads to
// well within 1 Hz. It returns 0 when there is nothing to measure (fewer
// than 4 samples, a bad sample rate, or silence).
func DominantFrequency(samples []int16, sampleRate int) float64 {
	n := len(samples)
	if n < 4 || sampleRate <= 0 {
		return 0
	}
	mean := 0.0
	for _, s := range samples {
		mean += float64(s)
	}
	mean /= float64(n)

	// Zero-padding to a power of two both suits the radix-2 FFT and
	// samples the spectrum more finely.
	size := 1 << bits.Len(uint(n-1))
	x := make([]complex128, size)
	for i, s := range samples {
		hann := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		x[i] = complex((float64(s)-mean)*hann, 0)
	}
	fft(x)

	peak, peakMag := 0, 0.0
	for k := 1; k < size/2; k++ {
		if m := cmplx.Abs(x[k]); m > peakMag {
			peak, peakMag = k, m
		}
	}
	if peak == 0 {
		return 0
	}
	offset := 0.0
	if peak > 1 && peak < size/2-1 {
		a := math.Log(cmplx.Abs(x[peak-1]) + 1e-12)
		b := math.Log(peakMag + 1e-12)
		c := math.Log(cmplx.Abs(x[peak+1]) + 1e-12)
		if d := a - 2*b + c; d < 0 {
			offset = 0.5 * (a - c) / d
		}
	}
	return (float64(peak) + offset) * float64(sampleRate) / float64(size)
}

// RMS is the root mean square of samples, in sample units (full scale is
// 32767): about 0 for silence, amplitude/√2 for a sine.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	sum := 0.0
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// fft transforms x in place; len(x) must be a power of two.
func fft(x []complex128) {
	n := len(x)
	if n < 2 {
		return
	}
	shift := 64 - bits.Len(uint(n-1))
	for i := range x {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		for k := 0; k < half; k++ {
			w := cmplx.Rect(1, -2*math.Pi*float64(k)/float64(size))
			for start := 0; start < n; start += size {
				even, odd := x[start+k], w*x[start+k+half]
				x[start+k], x[start+k+half] = even+odd, even-odd
			}
		}
	}
}
