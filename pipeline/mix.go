package pipeline

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
)

// Mixer mixes the sound of every remote participant into one stream for
// the speaker, at the speaker's volume. Each sender has a JitterBuffer; the
// sum is limited softly so that several loud voices do not clip harshly.
// Push, Remove and SetVolume are safe from any goroutine; Mix and Play
// belong to one.
type Mixer struct {
	newDecoder func() (media.AudioDecoder, error)
	target     int

	// OutputDelay is how long after the sink's Write returns its sound is
	// heard (the sound card's buffer); set it before Play.
	OutputDelay time.Duration

	mu      sync.Mutex
	volume  int     // percent, guarded by mu
	gain    float64 // of volume, guarded by mu
	senders map[string]*JitterBuffer
	sum     []int32
	one     []int16
	blockAt map[string]time.Time // the mixed block's capture time, per sender
	heard   map[string]heardAt   // the last block played, per sender
	sounds  map[string]Sound     // the box's own (sounds.go), by name
}

// heardAt pairs a capture time on a sender's clock with when the box
// played that sound: the audio clock that video follows for lip sync.
type heardAt struct {
	captured, played time.Time
}

// DefaultJitterDelay is how much sound the mixer holds per sender before
// playing it: enough for ordinary network jitter, little enough for talk.
const DefaultJitterDelay = 60 * time.Millisecond

// NewMixer makes a mixer that opens a decoder per sender with newDecoder
// and delays each sender's sound by delay at least (0: DefaultJitterDelay),
// more when the network's jitter asks for it.
func NewMixer(newDecoder func() (media.AudioDecoder, error), delay time.Duration) *Mixer {
	if delay <= 0 {
		delay = DefaultJitterDelay
	}
	return &Mixer{newDecoder: newDecoder, target: int(delay * audio.SampleRate / time.Second), senders: map[string]*JitterBuffer{},
		blockAt: map[string]time.Time{}, heard: map[string]heardAt{}, sounds: map[string]Sound{}, volume: 100, gain: 1}
}

// SetSound plays sound under name with the call's sound, from the next
// block on, until it ends or is replaced; nil stops what plays under name.
func (m *Mixer) SetSound(name string, sound Sound) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if sound == nil {
		delete(m.sounds, name)
		return
	}
	m.sounds[name] = sound
}

// SetVolume sets the speaker's volume in percent (0 to 100, clamped): the
// gain of the mix, from full at 100 to silence at 0. The gain is the square
// of the fraction (50 % is a quarter, -12 dB), so that equal steps sound
// like equal steps, as a volume knob's audio taper does.
func (m *Mixer) SetVolume(percent int) {
	percent = min(max(percent, 0), 100)
	f := float64(percent) / 100
	m.mu.Lock()
	defer m.mu.Unlock()
	m.volume, m.gain = percent, f*f
}

// Volume is the speaker's volume in percent.
func (m *Mixer) Volume() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.volume
}

// Push takes one Opus packet from sender; its capture time (when known)
// is for lip sync (ShowAt), its arrival for the jitter buffer's target.
func (m *Mixer) Push(sender string, p JitterPacket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j := m.senders[sender]
	if j == nil {
		dec, err := m.newDecoder()
		if err != nil {
			return fmt.Errorf("mixer: sound from %s: %w", sender, err)
		}
		j = NewJitterBuffer(dec, m.target)
		m.senders[sender] = j
	}
	j.Push(p)
	return nil
}

// Stats sums what the jitter buffers of the senders heard now have
// decoded and concealed: the box's metrics of received sound. A sender
// that leaves takes its numbers with it.
func (m *Mixer) Stats() JitterStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum JitterStats
	for _, j := range m.senders {
		st := j.Stats()
		sum.Decoded += st.Decoded
		sum.FromFEC += st.FromFEC
		sum.Concealed += st.Concealed
		sum.Late += st.Late
		sum.Corrupt += st.Corrupt
	}
	return sum
}

// Remove forgets sender (they left) and closes their decoder.
func (m *Mixer) Remove(sender string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if j := m.senders[sender]; j != nil {
		j.Close()
		delete(m.senders, sender)
	}
	delete(m.blockAt, sender)
	delete(m.heard, sender)
}

// ShowAt is when a picture that sender captured at captured (on their
// clock, as their sound's capture times) should be on the screen to be in
// step with their sound as the speaker plays it: the sound's capture
// time is mapped to the time it was played, and the picture's follows.
// False when that is not known (no capture times, or no sound from the
// sender for a second): show it at once.
func (m *Mixer) ShowAt(sender string, captured time.Time) (time.Time, bool) {
	if captured.IsZero() {
		return time.Time{}, false
	}
	m.mu.Lock()
	h, ok := m.heard[sender]
	m.mu.Unlock()
	if !ok || time.Since(h.played) > time.Second {
		return time.Time{}, false
	}
	return h.played.Add(captured.Sub(h.captured)), true
}

// played notes that the block last mixed was written to the sink now.
func (m *Mixer) played(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s, at := range m.blockAt {
		m.heard[s] = heardAt{captured: at, played: now.Add(m.OutputDelay)}
	}
}

// Mix fills out with the next block of everyone's sound together.
func (m *Mixer) Mix(out []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sum) < len(out) {
		m.sum, m.one = make([]int32, len(out)), make([]int16, len(out))
	}
	sum, one := m.sum[:len(out)], m.one[:len(out)]
	clear(sum)
	clear(m.blockAt)
	for s, j := range m.senders {
		at := j.pcmAt
		if j.Pull(one) == 0 {
			continue
		}
		if !at.IsZero() {
			m.blockAt[s] = at
		}
		for i, v := range one {
			sum[i] += int32(v)
		}
	}
	for name, sound := range m.sounds {
		if !sound.Fill(one) {
			delete(m.sounds, name)
		}
		for i, v := range one {
			sum[i] += int32(v)
		}
	}
	if m.gain != 1 {
		for i, v := range sum {
			sum[i] = int32(math.Round(float64(v) * m.gain))
		}
	}
	for i, v := range sum {
		out[i] = limit(v)
	}
}

// limit passes samples up to the knee unchanged and bends louder ones
// smoothly towards full scale, never past it.
func limit(v int32) int16 {
	const knee = 24576 // -2.5 dBFS
	const room = math.MaxInt16 - knee
	switch {
	case v > knee:
		return int16(knee + room*math.Tanh(float64(v-knee)/room))
	case v < -knee:
		return int16(-knee - room*math.Tanh(float64(-v-knee)/room))
	}
	return int16(v)
}

// Close closes every sender's decoder.
func (m *Mixer) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s, j := range m.senders {
		j.Close()
		delete(m.senders, s)
	}
	clear(m.blockAt)
	clear(m.heard)
}

// Play mixes block-sized pieces into sink until ctx ends or the sink
// fails; the sink's blocking sets the pace. Each block, once written, is
// handed to played (the echo canceller's reference) if it is not nil.
func Play(ctx context.Context, m *Mixer, sink audio.Sink, block int, played func([]int16)) error {
	buf := make([]int16, block)
	for {
		m.Mix(buf)
		if err := sink.Write(ctx, buf); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("play: %w", err)
		}
		m.played(time.Now())
		if played != nil {
			played(buf)
		}
	}
}
