package pipeline

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/callbox/callbox/device/audio"
)

// Mixer mixes the sound of every remote participant into one stream for
// the speaker. Each sender has a JitterBuffer; the sum is limited softly so
// that several loud voices do not clip harshly. Push and Remove are safe
// from any goroutine; Mix and Play belong to one.
type Mixer struct {
	newDecoder func() (AudioDecoder, error)
	target     int

	mu      sync.Mutex
	senders map[string]*JitterBuffer
	sum     []int32
	one     []int16
}

// DefaultJitterDelay is how much sound the mixer holds per sender before
// playing it: enough for ordinary network jitter, little enough for talk.
const DefaultJitterDelay = 60 * time.Millisecond

// NewMixer makes a mixer that opens a decoder per sender with newDecoder
// and delays each sender's sound by delay (0: DefaultJitterDelay).
func NewMixer(newDecoder func() (AudioDecoder, error), delay time.Duration) *Mixer {
	if delay <= 0 {
		delay = DefaultJitterDelay
	}
	return &Mixer{newDecoder: newDecoder, target: int(delay * audio.SampleRate / time.Second), senders: map[string]*JitterBuffer{}}
}

// Push takes one Opus packet from sender.
func (m *Mixer) Push(sender string, seq uint16, packet []byte) error {
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
	if err := j.Push(seq, packet); err != nil {
		return fmt.Errorf("mixer: sound from %s: %w", sender, err)
	}
	return nil
}

// Remove forgets sender (they left) and closes their decoder.
func (m *Mixer) Remove(sender string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if j := m.senders[sender]; j != nil {
		j.Close()
		delete(m.senders, sender)
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
	for _, j := range m.senders {
		if j.Pull(one) == 0 {
			continue
		}
		for i, v := range one {
			sum[i] += int32(v)
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
		if played != nil {
			played(buf)
		}
	}
}
