package pipeline

import (
	"math"

	"github.com/callbox/callbox/device/audio"
)

// Sound is a sound the box makes itself: a ring tone, the ringback a
// caller hears, a chime. The mixer plays it with the call's sound
// (Mixer.SetSound), so the echo canceller, which is handed everything the
// speaker plays, knows it too and keeps it out of the microphone.
type Sound interface {
	// Fill writes the next samples into out (48 kHz mono) and reports
	// whether the sound goes on after them.
	Fill(out []int16) (more bool)
}

// note is a piece of a sound: these frequencies together for dur, or
// silence without any.
type note struct {
	hz  []float64
	dur float64 // seconds
}

// tune plays notes one after the other, once or over and over.
type tune struct {
	notes []note
	loop  bool
	level float64 // peak, as a fraction of full scale
	i     int     // the note playing
	t     int     // samples into it
	n     int     // samples since the start: every note's phase follows it, so that one pitch is one tone throughout
}

// The sounds' levels: clear over a quiet room, well under the limiter's knee.
const soundLevel = 0.3

// RingTone is what a box plays while a call rings: two notes, B5 then G5
// (988 and 784 Hz), a third of a second each, twice, then a pause; every
// 2.8 s.
func RingTone() Sound {
	b5, g5 := []float64{988}, []float64{784}
	return &tune{loop: true, level: soundLevel, notes: []note{
		{b5, 0.3}, {g5, 0.3}, {nil, 0.1}, {b5, 0.3}, {g5, 0.3}, {nil, 1.5},
	}}
}

// RingbackHz is the ringback's frequency: what a caller hears while the
// other end rings, 1 s of 425 Hz every 5 s (the European ringing tone).
const RingbackHz = 425

// Ringback is the ringing tone a caller hears.
func Ringback() Sound {
	return &tune{loop: true, level: soundLevel, notes: []note{{[]float64{RingbackHz}, 1}, {nil, 4}}}
}

// Chime is three rising notes, C5, E5 and G5, once: an auto-answer is
// about to happen.
func Chime() Sound {
	return &tune{level: soundLevel, notes: []note{{ChimeHz[:1], 0.2}, {ChimeHz[1:2], 0.2}, {ChimeHz[2:], 0.4}}}
}

// ChimeHz are the chime's notes, for tests that listen for it.
var ChimeHz = [3]float64{523, 659, 784}

// RingToneHz are the ring tone's two notes, for tests that listen for it.
var RingToneHz = [2]float64{988, 784}

// edge is the fade in and out of each note, so that none clicks.
const edge = 0.01 * audio.SampleRate

func (u *tune) Fill(out []int16) bool {
	for k := range out {
		if u.i >= len(u.notes) {
			if !u.loop {
				clear(out[k:])
				return false
			}
			u.i = 0
		}
		n := u.notes[u.i]
		length := int(n.dur * audio.SampleRate)
		var v float64
		if len(n.hz) > 0 {
			env := math.Min(1, math.Min(float64(u.t), float64(length-u.t))/edge)
			for _, hz := range n.hz {
				v += math.Sin(2 * math.Pi * hz * float64(u.n) / audio.SampleRate)
			}
			v *= env * u.level * math.MaxInt16 / float64(len(n.hz))
		}
		out[k] = int16(v)
		u.t++
		u.n++
		if u.t >= length {
			u.i, u.t = u.i+1, 0
		}
	}
	return u.loop || u.i < len(u.notes)
}

// WindowsAt counts the 50 ms windows of pcm whose loudest frequency is
// within 10 Hz of hz: how long a tone was heard, for tests and the bench.
func WindowsAt(pcm []int16, hz float64) int {
	const window = audio.SampleRate / 20
	n := 0
	for i := 0; i+window <= len(pcm); i += window {
		w := pcm[i : i+window]
		if audio.RMS(w) > 100 && math.Abs(audio.DominantFrequency(w, audio.SampleRate)-hz) <= 10 {
			n++
		}
	}
	return n
}
