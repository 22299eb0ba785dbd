package pipeline_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// speechLike is a voice-like sound: syllables of a quarter second, each
// a voice whose pitch glides from 140 to 260 Hz, with harmonics, rising
// and falling in loudness; what concealment cannot guess from the sound
// before.
func speechLike(pcm []int16, start int) {
	for i := range pcm {
		t := float64(start+i) / audio.SampleRate
		syllable := math.Mod(t, 0.25) / 0.25
		env := math.Sin(math.Pi * syllable)
		// The phase of a pitch gliding linearly over the syllable.
		f0, f1 := 140.0, 260.0
		if int(t/0.25)%2 == 1 {
			f0, f1 = f1, f0
		}
		tau := syllable * 0.25
		phase := 2 * math.Pi * (f0*tau + (f1-f0)*tau*tau/0.5)
		v := 0.0
		for h := 1; h <= 5; h++ {
			v += math.Sin(float64(h)*phase) / float64(h)
		}
		pcm[i] = int16(8000 * env * v)
	}
}

// encode codes n packets of speechLike after SetPacketLoss(loss).
func encode(t *testing.T, loss, n int) [][]byte {
	t.Helper()
	enc, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	enc.SetPacketLoss(loss)
	pcm := make([]int16, enc.FrameSamples())
	var out [][]byte
	for i := range n {
		speechLike(pcm, i*len(pcm))
		p, err := enc.Encode(pcm)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
	}
	return out
}

// TestOpusFECFollowsLoss: with loss reported the encoder puts the packet
// before into each packet (media.OpusHasFEC reads it so), without it not.
func TestOpusFECFollowsLoss(t *testing.T) {
	for _, tt := range []struct {
		loss    int
		wantFEC bool
	}{{0, false}, {10, true}} {
		withFEC := 0
		packets := encode(t, tt.loss, 50)
		for _, p := range packets[1:] {
			if media.OpusHasFEC(p) {
				withFEC++
			}
		}
		t.Logf("loss %d %%: %d of %d packets carry FEC", tt.loss, withFEC, len(packets)-1)
		if got := withFEC > len(packets)/2; got != tt.wantFEC {
			t.Errorf("loss %d %%: %d of %d packets carry FEC, want most: %v", tt.loss, withFEC, len(packets)-1, tt.wantFEC)
		}
	}
}

// decodeWithLoss decodes packets as a receiver that lost every tenth,
// concealing it with the next packet (or without), and returns how far
// the lost stretches are from what a receiver that lost nothing played,
// as a signal-to-noise ratio in dB, and how many came from FEC.
func decodeWithLoss(t *testing.T, packets [][]byte, useNext bool) (snr float64, fromFEC int) {
	t.Helper()
	lossy, err := pipeline.NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer lossy.Close()
	clean, err := pipeline.NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer clean.Close()
	got, want := make([]int16, pipeline.MaxOpusSamples), make([]int16, pipeline.MaxOpusSamples)
	var signal, noise float64
	for i, p := range packets[:len(packets)-1] {
		if _, err := clean.Decode(p, want); err != nil {
			t.Fatal(err)
		}
		var n int
		if i%10 != 5 {
			n, err = lossy.Decode(p, got)
			if err != nil || n != 960 {
				t.Fatalf("packet %d: %d samples, %v", i, n, err)
			}
			continue
		}
		var next []byte
		if useNext {
			next = packets[i+1]
		}
		n, fec, err := lossy.Conceal(next, got)
		if err != nil || n != 960 {
			t.Fatalf("lost packet %d: %d samples, %v", i, n, err)
		}
		if fec {
			fromFEC++
		}
		for k := range n {
			signal += float64(want[k]) * float64(want[k])
			d := float64(got[k]) - float64(want[k])
			noise += d * d
		}
	}
	return 10 * math.Log10(signal/noise), fromFEC
}

// TestOpusConcealsFromFEC: a lost packet comes back from the next one's
// FEC much closer to what a receiver without loss plays than concealment
// without it.
func TestOpusConcealsFromFEC(t *testing.T) {
	packets := encode(t, 20, 101)
	withFEC, fromFEC := decodeWithLoss(t, packets, true)
	without, _ := decodeWithLoss(t, packets, false)
	t.Logf("lost packets: %.1f dB from FEC (%d of 10), %.1f dB concealed without", withFEC, fromFEC, without)
	// libopus leaves FEC out where a syllable fades to nothing.
	if fromFEC < 7 {
		t.Errorf("%d of 10 lost packets came from FEC, want most", fromFEC)
	}
	if withFEC < without+3 {
		t.Errorf("lost packets from FEC are %.1f dB from the sound sent, concealed %.1f dB: want FEC 3 dB better", withFEC, without)
	}
}

// TestSendAudioLeavesSilenceOut: in silence the encoder's DTX packets are
// not sent, and the next packet says how much silence came before it.
func TestSendAudioLeavesSilenceOut(t *testing.T) {
	enc, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	// 1 s of tone, 2 s of silence, 1 s of tone.
	src := &scripted{blocks: 200}
	var sent []media.EncodedFrame
	err = pipeline.SendAudio(context.Background(), src, enc, func(f media.EncodedFrame) error {
		sent = append(sent, f)
		return nil
	})
	if !errors.Is(err, errScriptDone) {
		t.Fatal(err)
	}
	var total, silence time.Duration
	for _, f := range sent {
		total += f.Duration + f.Silence
		silence += f.Silence
	}
	t.Logf("%d of 200 packets sent, %v of silence left out", len(sent), silence)
	if len(sent) > 150 || silence < time.Second {
		t.Errorf("%d of 200 packets sent, %v of silence left out; want the silence mostly out", len(sent), silence)
	}
	// What is left out after the last packet is not counted; the rest is.
	if total > 4*time.Second || total < 3*time.Second {
		t.Errorf("the packets and the silence before them make %v, want about 4 s", total)
	}
}

var errScriptDone = errors.New("the script is over")

// scripted is a microphone that plays a tone, then silence, then the
// tone, 20 ms a read, blocks reads in all.
type scripted struct{ blocks, read int }

func (s *scripted) Read(ctx context.Context, pcm []int16) error {
	if s.read == s.blocks {
		return errScriptDone
	}
	if s.read < 50 || s.read >= 150 {
		speechLike(pcm, s.read*len(pcm))
	} else {
		clear(pcm)
	}
	s.read++
	return nil
}

func (s *scripted) Close() error { return nil }
