package pipeline

import "fmt"

// JitterBuffer turns one sender's Opus packets, arriving late, early and
// out of order, into an even stream of 48 kHz samples. Packets are put back
// in sequence order and decoded; playout starts once Target samples wait,
// drops the oldest when more than Target+Slack wait (the sender's clock or
// the network ran ahead), and, after running dry, waits for Target again.
// It is used by one goroutine at a time (the Mixer locks around it).
type JitterBuffer struct {
	dec    AudioDecoder
	target int
	slack  int

	started bool
	next    uint16            // sequence number to decode next
	pending map[uint16][]byte // packets that came before their turn
	pcm     []int16           // decoded, waiting to be played
	playing bool
	scratch []int16
}

// reorderWindow is how many later packets may wait for a missing one
// before it counts as lost.
const reorderWindow = 4

// NewJitterBuffer decodes with dec and holds target samples before playing.
func NewJitterBuffer(dec AudioDecoder, target int) *JitterBuffer {
	return &JitterBuffer{dec: dec, target: target, slack: max(target, 2400),
		pending: map[uint16][]byte{}, scratch: make([]int16, 5760)}
}

// seqBefore reports whether a comes before b, across wrap-around.
func seqBefore(a, b uint16) bool { return a != b && b-a < 0x8000 }

// Push takes one packet with its RTP sequence number. A packet too late
// for its turn is dropped; a corrupt one gives an error and is skipped.
func (j *JitterBuffer) Push(seq uint16, packet []byte) error {
	if !j.started {
		j.started, j.next = true, seq
	}
	if seqBefore(seq, j.next) {
		return nil // late: its turn is gone
	}
	j.pending[seq] = append([]byte(nil), packet...)
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
		n, err := j.dec.Decode(p, j.scratch)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("jitter buffer: %w", err)
			}
			continue
		}
		j.pcm = append(j.pcm, j.scratch[:n]...)
	}
	if over := len(j.pcm) - (j.target + j.slack); over > 0 {
		j.pcm = append(j.pcm[:0], j.pcm[over+j.slack/2:]...)
	}
	return firstErr
}

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
		j.pcm = append(j.pcm[:0], j.pcm[n:]...)
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
