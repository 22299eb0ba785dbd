package pipeline

import (
	"fmt"
	"time"

	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
)

// JitterBuffer turns one sender's Opus packets, arriving late, early and
// out of order, into an even stream of 48 kHz samples. Packets are put back
// in sequence order and decoded; playout starts once Target samples wait,
// drops the oldest when more than Target+Slack wait (the sender's clock or
// the network ran ahead), and, after running dry, waits for Target again.
// It is used by one goroutine at a time (the Mixer locks around it).
type JitterBuffer struct {
	dec    media.AudioDecoder
	target int
	slack  int

	started bool
	next    uint16                   // sequence number to decode next
	pending map[uint16]pendingPacket // packets that came before their turn
	pcm     []int16                  // decoded, waiting to be played
	playing bool
	scratch []int16
	// pcmAt is when pcm[0] was captured, on the sender's clock; zero
	// while unknown (no capture times given).
	pcmAt time.Time
}

type pendingPacket struct {
	data     []byte
	captured time.Time
}

// reorderWindow is how many later packets may wait for a missing one
// before it counts as lost.
const reorderWindow = 4

// NewJitterBuffer decodes with dec and holds target samples before playing.
func NewJitterBuffer(dec media.AudioDecoder, target int) *JitterBuffer {
	return &JitterBuffer{dec: dec, target: target, slack: max(target, 2400),
		pending: map[uint16]pendingPacket{}, scratch: make([]int16, 5760)}
}

// seqBefore reports whether a comes before b, across wrap-around.
func seqBefore(a, b uint16) bool { return a != b && b-a < 0x8000 }

// Push takes one packet with its RTP sequence number. A packet too late
// for its turn is dropped; a corrupt one gives an error and is skipped.
func (j *JitterBuffer) Push(seq uint16, packet []byte) error {
	return j.PushAt(seq, packet, time.Time{})
}

// PushAt is Push with the packet's capture time on the sender's clock
// (call.Frame.Captured), which PlayingAt then tells.
func (j *JitterBuffer) PushAt(seq uint16, packet []byte, captured time.Time) error {
	if !j.started {
		j.started, j.next = true, seq
	}
	if seqBefore(seq, j.next) {
		return nil // late: its turn is gone
	}
	j.pending[seq] = pendingPacket{append([]byte(nil), packet...), captured}
	var firstErr error
	for len(j.pending) > 0 {
		p, ok := j.pending[j.next]
		if !ok {
			if len(j.pending) <= reorderWindow {
				break
			}
			// The missing packet is lost; go on with the earliest held.
			j.next = j.earliestPending()
			continue
		}
		delete(j.pending, j.next)
		j.next++
		n, err := j.dec.Decode(p.data, j.scratch)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("jitter buffer: %w", err)
			}
			continue
		}
		if !p.captured.IsZero() {
			// Anchored again on every packet: a lost one does not shift it.
			j.pcmAt = p.captured.Add(-samplesDuration(len(j.pcm)))
		}
		j.pcm = append(j.pcm, j.scratch[:n]...)
	}
	if over := len(j.pcm) - (j.target + j.slack); over > 0 {
		j.drop(over + j.slack/2)
	}
	return firstErr
}

// drop forgets the oldest n samples.
func (j *JitterBuffer) drop(n int) {
	n = min(n, len(j.pcm))
	j.pcm = append(j.pcm[:0], j.pcm[n:]...)
	if !j.pcmAt.IsZero() {
		j.pcmAt = j.pcmAt.Add(samplesDuration(n))
	}
}

func samplesDuration(n int) time.Duration { return time.Duration(n) * time.Second / audio.SampleRate }

func (j *JitterBuffer) earliestPending() uint16 {
	first, found := uint16(0), false
	for s := range j.pending {
		if !found || seqBefore(s, first) {
			first, found = s, true
		}
	}
	return first
}

// Pull fills out with the next samples, silence where there are none, and
// reports how many were real sound.
func (j *JitterBuffer) Pull(out []int16) int {
	if !j.playing && len(j.pcm) >= j.target {
		j.playing = true
	}
	n := 0
	if j.playing {
		n = copy(out, j.pcm)
		j.drop(n)
		if n < len(out) {
			j.playing = false // ran dry: build up Target again
		}
	}
	clear(out[n:])
	return n
}

// Buffered is how many decoded samples wait.
func (j *JitterBuffer) Buffered() int { return len(j.pcm) }

// Close closes the decoder.
func (j *JitterBuffer) Close() error { return j.dec.Close() }
