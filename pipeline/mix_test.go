package pipeline_test

import (
	"math"
	"testing"

	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// opusPackets is seconds of a tone at hz, amplitude amp, as Opus packets.
func opusPackets(t *testing.T, hz, amp float64, seconds float64) [][]byte {
	t.Helper()
	enc, err := pipeline.NewOpusEncoder(64000)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pcm := make([]int16, enc.FrameSamples())
	var out [][]byte
	for range int(seconds * audio.SampleRate / float64(len(pcm))) {
		generate(pcm, hz, amp, len(out)*len(pcm))
		p, err := enc.Encode(pcm)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
	}
	return out
}

func generate(pcm []int16, hz, amp float64, start int) {
	for i := range pcm {
		pcm[i] = int16(amp * 32767 * math.Sin(2*math.Pi*hz*float64(start+i)/audio.SampleRate))
	}
}

// goertzel is the power of x at hz relative to x's total power.
func goertzel(x []int16, hz float64) float64 {
	w := 2 * math.Pi * hz / audio.SampleRate
	c := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	power := s1*s1 + s2*s2 - c*s1*s2
	return power / (total * float64(len(x)) / 2)
}

func opusDecoder() (media.AudioDecoder, error) { return pipeline.NewOpusDecoder() }

func TestMixerPlaysEveryoneReorderedAndLimited(t *testing.T) {
	tones := map[string]float64{"a": 400, "b": 700, "c": 1100}
	m := pipeline.NewMixer(opusDecoder, 0)
	defer m.Close()
	packets := map[string][][]byte{}
	for who, hz := range tones {
		packets[who] = opusPackets(t, hz, 0.6, 1) // three at 0.6: the sum would clip
	}
	// Packets arrive in pairs swapped (2,1,4,3...), and one is lost.
	var mixed []int16
	block := make([]int16, 960)
	for i := 0; i+1 < len(packets["a"]); i += 2 {
		for who := range tones {
			for _, k := range []int{i + 1, i} {
				if who == "b" && k == 10 {
					continue // lost
				}
				if err := m.Push(who, pipeline.JitterPacket{Seq: uint16(65530 + k), Data: packets[who][k]}); err != nil { // sequence wraps
					t.Fatal(err)
				}
			}
		}
		for range 2 {
			m.Mix(block)
			mixed = append(mixed, block...)
		}
	}
	tail := mixed[len(mixed)/2:]
	for who, hz := range tones {
		if share := goertzel(tail, hz); share < 0.15 {
			t.Errorf("%s's %v Hz tone has %.2f of the mix's power, want about a third", who, hz, share)
		}
	}
	var peak int
	for _, v := range tail {
		peak = max(peak, int(v), -int(v))
	}
	if peak < 30000 {
		t.Errorf("the mix peaks at %d: three loud voices should reach near full scale", peak)
	}
	// A hard wrap-around would show as a jump of more than full scale.
	for i := 1; i < len(tail); i++ {
		if d := int(tail[i]) - int(tail[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("sample %d jumps by %d: the sum wrapped instead of being limited", i, d)
		}
	}
	m.Remove("b")
	for range 20 {
		m.Mix(block)
	}
	if share := goertzel(block, 700); share > 0.01 {
		t.Errorf("b left but the mix still holds %.2f of 700 Hz", share)
	}
}

func TestJitterBufferWaitsThenPlays(t *testing.T) {
	dec, _ := pipeline.NewOpusDecoder()
	j := pipeline.NewJitterBuffer(dec, 2880) // 60 ms
	defer j.Close()
	p := opusPackets(t, 500, 0.5, 0.2)
	out := make([]int16, 480)
	j.Push(pipeline.JitterPacket{Seq: 1, Data: p[0]})
	j.Push(pipeline.JitterPacket{Seq: 2, Data: p[1]}) // 40 ms: not yet
	if n := j.Pull(out); n != 0 {
		t.Errorf("played %d samples before 60 ms were buffered", n)
	}
	j.Push(pipeline.JitterPacket{Seq: 3, Data: p[2]})
	if n := j.Pull(out); n != 480 {
		t.Errorf("played %d samples with 60 ms buffered, want 480", n)
	}
	j.Push(pipeline.JitterPacket{Seq: 4, Data: []byte{0xff, 0xff, 0xff}})
	j.Push(pipeline.JitterPacket{Seq: 5, Data: p[3]})
	for range 7 { // the rest of 3, the corrupt 4 and 5
		if n := j.Pull(out); n != 480 {
			t.Errorf("played %d samples around a corrupt packet, want 480", n)
		}
	}
	if st := j.Stats(); st.Corrupt != 1 || st.Concealed != 960 {
		t.Errorf("stats %+v, want the corrupt packet counted and its 960 samples concealed", st)
	}
	j.Push(pipeline.JitterPacket{Seq: 1, Data: p[0]}) // a duplicate, long late: dropped
	if st := j.Stats(); st.Late != 1 {
		t.Errorf("stats %+v, want a late packet counted", st)
	}
}

// TestMixerVolume: the volume sets the mix's level, as a square law of the
// percentage (half is a quarter), down to silence, and never above full.
func TestMixerVolume(t *testing.T) {
	m := pipeline.NewMixer(opusDecoder, 0)
	defer m.Close()
	packets := opusPackets(t, 440, 0.5, 2)
	block := make([]int16, 960)
	next := 0
	level := func() float64 { // the level of 200 ms of the tone, after the jitter buffer filled
		var mixed []int16
		for range 10 {
			if err := m.Push("a", pipeline.JitterPacket{Seq: uint16(next), Data: packets[next]}); err != nil {
				t.Fatal(err)
			}
			next++
			m.Mix(block)
			mixed = append(mixed, block...)
		}
		return audio.RMS(mixed[len(mixed)/2:])
	}
	level() // fill the jitter buffer
	full := level()
	for _, tt := range []struct {
		percent int
		want    float64 // of full
	}{{50, 0.25}, {90, 0.81}, {0, 0}, {150, 1}, {-5, 0}, {100, 1}} {
		m.SetVolume(tt.percent)
		got := level() / full
		if math.Abs(got-tt.want) > 0.02 {
			t.Errorf("volume %d%%: level %.3f of full, want %.2f", tt.percent, got, tt.want)
		}
		if v := m.Volume(); v != min(max(tt.percent, 0), 100) {
			t.Errorf("SetVolume(%d): Volume() is %d", tt.percent, v)
		}
	}
}

// TestMixerPlaysTheBoxsOwnSounds: a ring tone set on the mixer is in what
// the speaker is given, with a participant's sound, until it is stopped;
// a chime plays once and ends by itself.
func TestMixerPlaysTheBoxsOwnSounds(t *testing.T) {
	m := pipeline.NewMixer(opusDecoder, 0)
	defer m.Close()
	m.SetSound("ring", pipeline.RingTone())
	block := make([]int16, audio.SampleRate/50)
	var played []int16
	for range 150 { // 3 s: a whole ring
		m.Mix(block)
		played = append(played, block...)
	}
	for _, hz := range pipeline.RingToneHz {
		if n := pipeline.WindowsAt(played, hz); n < 10 {
			t.Errorf("the ring tone's %g Hz leads %d windows of 50 ms in 3 s, want at least 10 (0.6 s of it a ring)", hz, n)
		}
	}
	m.SetSound("ring", nil)
	m.Mix(block)
	if rms := audio.RMS(block); rms != 0 {
		t.Errorf("the ring tone stopped, but the speaker gets sound at RMS %.0f", rms)
	}
	m.SetSound("chime", pipeline.Chime())
	var chime []int16
	for range 100 { // 2 s
		m.Mix(block)
		chime = append(chime, block...)
	}
	if loud := audio.RMS(chime[:audio.SampleRate/2]); loud < 1000 {
		t.Errorf("the chime's first half second is at RMS %.0f, want it heard", loud)
	}
	if rms := audio.RMS(chime[audio.SampleRate:]); rms != 0 {
		t.Errorf("the chime goes on after a second (RMS %.0f), want it over", rms)
	}
}
