package avcodec

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pion/mediadevices/pkg/codec/opus"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
)

// toneSource is a pion audio.Reader of a sine tone in 20 ms chunks; with
// two channels the tone is on the left only.
type toneSource struct {
	frequency float64
	amplitude float64 // of full scale
	channels  int
	position  int
}

func (s *toneSource) Read() (wave.Audio, func(), error) {
	const chunkLen = OpusSampleRate / 50
	chunk := wave.NewInt16Interleaved(wave.ChunkInfo{Len: chunkLen, Channels: s.channels, SamplingRate: OpusSampleRate})
	for i := range chunkLen {
		v := s.amplitude * math.Sin(2*math.Pi*s.frequency*float64(s.position)/OpusSampleRate)
		chunk.Data[i*s.channels] = int16(v * math.MaxInt16)
		s.position++
	}
	return chunk, func() {}, nil
}

// encodeTone encodes a second of tone into 20 ms Opus packets with libopus
// (through pion's encoder, which the pipeline sends with).
func encodeTone(t *testing.T, source *toneSource) [][]byte {
	t.Helper()
	params, err := opus.NewParams()
	if err != nil {
		t.Fatal(err)
	}
	params.BitRate = 32000
	encoder, err := params.BuildAudioEncoder(source, prop.Media{
		Audio: prop.Audio{SampleRate: OpusSampleRate, ChannelCount: source.channels},
	})
	if err != nil {
		t.Fatalf("opus encoder: %v", err)
	}
	t.Cleanup(func() { encoder.Close() })
	var packets [][]byte
	for range 50 {
		packet, release, err := encoder.Read()
		if err != nil {
			t.Fatalf("opus encode: %v", err)
		}
		packets = append(packets, append([]byte(nil), packet...))
		release()
	}
	return packets
}

func newOpusDecoder(t *testing.T) *OpusDecoder {
	t.Helper()
	d, err := NewOpusDecoder()
	if err != nil {
		t.Fatalf("NewOpusDecoder: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// decodePackets decodes every packet and returns the samples, failing the
// test unless each 20 ms packet gives 20 ms of samples.
func decodePackets(t *testing.T, d *OpusDecoder, packets [][]byte) []int16 {
	t.Helper()
	var all []int16
	pcm := make([]int16, MaxOpusPacketSamples)
	for i, packet := range packets {
		n, err := d.Decode(packet, pcm)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if n != OpusSampleRate/50 {
			t.Fatalf("packet %d: %d samples, want %d (20 ms)", i, n, OpusSampleRate/50)
		}
		all = append(all, pcm[:n]...)
	}
	return all
}

// goertzelPower is the power of samples at frequency.
func goertzelPower(samples []int16, frequency float64) float64 {
	coefficient := 2 * math.Cos(2*math.Pi*frequency/OpusSampleRate)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coefficient*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coefficient*s1*s2
}

// dominantFrequency is the strongest frequency in 100..2000 Hz, in 1 Hz steps.
func dominantFrequency(samples []int16) float64 {
	best, bestPower := 0.0, -1.0
	for f := 100.0; f <= 2000; f++ {
		if p := goertzelPower(samples, f); p > bestPower {
			best, bestPower = f, p
		}
	}
	return best
}

func rms(samples []int16) float64 {
	var sum float64
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(samples)))
}

func TestOpusDecoderDecodesTone(t *testing.T) {
	for _, tc := range []struct {
		name      string
		frequency float64
		channels  int
		wantRMS   float64 // of full scale
	}{
		{"mono 440 Hz", 440, 1, 0.5 / math.Sqrt2},
		{"mono 1 kHz", 1000, 1, 0.5 / math.Sqrt2},
		// Mixed down: the left channel's tone at half its level.
		{"stereo 440 Hz on the left", 440, 2, 0.25 / math.Sqrt2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			packets := encodeTone(t, &toneSource{frequency: tc.frequency, amplitude: 0.5, channels: tc.channels})
			samples := decodePackets(t, newOpusDecoder(t), packets)
			if len(samples) != OpusSampleRate {
				t.Fatalf("decoded %d samples from 1 s, want %d", len(samples), OpusSampleRate)
			}
			// Past the codec's start-up.
			steady := samples[OpusSampleRate/10:]
			if got := dominantFrequency(steady); math.Abs(got-tc.frequency) > 5 {
				t.Errorf("dominant frequency %.0f Hz, want %.0f ± 5 Hz", got, tc.frequency)
			}
			if got, want := rms(steady)/32768, tc.wantRMS; math.Abs(got-want) > 0.2*want {
				t.Errorf("level %.3f of full scale, want %.3f ± 20%%", got, want)
			}
		})
	}
}

func TestOpusDecoderRejectsShortBuffer(t *testing.T) {
	packets := encodeTone(t, &toneSource{frequency: 440, amplitude: 0.5, channels: 1})
	d := newOpusDecoder(t)
	pcm := make([]int16, 100)
	if _, err := d.Decode(packets[0], pcm); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("Decode of 960 samples into 100: %v; want io.ErrShortBuffer", err)
	}
	// The next packets decode as usual.
	decodePackets(t, d, packets[1:])
}

func TestOpusDecoderSurvivesCorruptInput(t *testing.T) {
	packets := encodeTone(t, &toneSource{frequency: 440, amplitude: 0.5, channels: 1})
	d := newOpusDecoder(t)
	random := rand.New(rand.NewPCG(3, 4))
	pcm := make([]int16, MaxOpusPacketSamples)
	var corrupt [][]byte
	for range 500 {
		garbage := make([]byte, random.IntN(1500))
		for i := range garbage {
			garbage[i] = byte(random.UintN(256))
		}
		corrupt = append(corrupt, garbage)
	}
	for _, packet := range packets {
		for cut := 0; cut < len(packet); cut += 7 {
			corrupt = append(corrupt, packet[:cut])
		}
	}
	errorCount := 0
	for i, packet := range corrupt {
		n, err := d.Decode(packet, pcm)
		if err != nil {
			errorCount++
		}
		if n < 0 || n > len(pcm) {
			t.Fatalf("corrupt packet %d: %d samples", i, n)
		}
	}
	if errorCount == 0 {
		t.Errorf("none of %d corrupt packets gave an error", len(corrupt))
	}
	samples := decodePackets(t, d, packets)
	if got := dominantFrequency(samples[OpusSampleRate/10:]); math.Abs(got-440) > 5 {
		t.Errorf("after corrupt packets: dominant frequency %.0f Hz, want 440 ± 5 Hz", got)
	}
}

func TestOpusDecoderAfterClose(t *testing.T) {
	d, err := NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := d.Decode([]byte{0xf8, 0xff, 0xfe}, make([]int16, MaxOpusPacketSamples)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Decode after Close: %v; want ErrClosed", err)
	}
}

func TestFloatToInt16Clips(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want int16
	}{
		{0, 0},
		{0.5, 16384},
		{-1, -32768},
		{1, 32767},
		{1.7, 32767},
		{-3, -32768},
		{math.NaN(), 0},
	} {
		if got := floatToInt16(tc.in); got != tc.want {
			t.Errorf("floatToInt16(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
