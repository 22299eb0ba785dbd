package pipeline

import (
	"time"

	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
)

// JitterBuffer turns one sender's Opus packets, arriving late, early, out
// of order or not at all, into an even stream of 48 kHz samples. Packets
// wait in sequence order and are decoded as they are played. Playout
// starts once Target's worth waits, and again after running dry. A packet
// missing when its turn comes while later ones are there is lost: its
// sound comes from the next packet's in-band FEC, or the decoder makes it
// up (packet loss concealment). Target follows the jitter measured from
// the packets' arrival times: it grows at once to hold what arrived
// latest over the last seconds, and shrinks back slowly; holding much
// more than it (the sender's clock or the network ran ahead), playout
// skips ahead. It is used by one goroutine at a time (the Mixer locks
// around it).
type JitterBuffer struct {
	dec    media.AudioDecoder
	least  int // the smallest target, samples
	target int // samples to hold before playing; follows the jitter

	started bool
	next    uint16                  // sequence number to play next
	pending map[uint16]JitterPacket // packets waiting for their turn
	pcm     []int16                 // decoded, waiting to be played
	frame   int                     // samples in a packet: the last one decoded
	playing bool
	scratch []int16
	// pcmAt is when pcm[0] was captured, on the sender's clock; zero
	// while unknown (no capture times given).
	pcmAt time.Time

	delays []delaySample // the last seconds' packets: how late each arrived
	base   JitterPacket  // the packet delays are measured from
	shrunk time.Time     // when target last came down
	stats  JitterStats
}

// JitterPacket is one packet of sound as it came.
type JitterPacket struct {
	Seq  uint16
	Data []byte
	// Timestamp is its RTP timestamp (48 kHz), and Arrived when it came:
	// from both the buffer measures the jitter. A zero Arrived leaves
	// the target as it is.
	Timestamp uint32
	Arrived   time.Time
	// Captured is when it was captured, on the sender's clock (RTCP
	// sender reports; zero when not known), for lip sync.
	Captured time.Time
}

// JitterStats counts what a JitterBuffer played, in samples.
type JitterStats struct {
	Decoded   int // from packets
	FromFEC   int // from the next packet's FEC, for a lost one
	Concealed int // made up by the decoder for lost or late packets
	Late      int // packets that came after their turn (dropped)
	Corrupt   int // packets that did not decode (concealed instead)
}

type delaySample struct {
	arrived time.Time
	delay   time.Duration // after the base packet's pace
}

const (
	// jitterWindow is how far back the jitter is measured.
	jitterWindow = 5 * time.Second
	// maxTarget bounds the target: longer, a conversation suffers more
	// than from gaps.
	maxTarget = 500 * time.Millisecond
	// targetMargin is held above the measured jitter.
	targetMargin = 10 * time.Millisecond
	// shrinkStep is how much the target comes down at a time, once a
	// second at most, while less would do.
	shrinkStep = 10 * time.Millisecond
	// skipAbove: holding target plus this, playout skips ahead.
	skipAbove = 60 * time.Millisecond
)

// NewJitterBuffer decodes with dec and holds at least least samples
// before playing (more as the jitter demands).
func NewJitterBuffer(dec media.AudioDecoder, least int) *JitterBuffer {
	return &JitterBuffer{dec: dec, least: least, target: least, frame: opusFrameSamples,
		pending: map[uint16]JitterPacket{}, scratch: make([]int16, MaxOpusSamples)}
}

// seqBefore reports whether a comes before b, across wrap-around.
func seqBefore(a, b uint16) bool { return a != b && b-a < 0x8000 }

func samples(d time.Duration) int { return int(d * audio.SampleRate / time.Second) }

func samplesDuration(n int) time.Duration { return time.Duration(n) * time.Second / audio.SampleRate }

// Push takes one packet. One that comes after its turn is dropped.
func (j *JitterBuffer) Push(p JitterPacket) {
	if !j.started {
		j.started, j.next = true, p.Seq
	}
	if seqBefore(p.Seq, j.next) {
		j.stats.Late++
		return
	}
	p.Data = append([]byte(nil), p.Data...)
	j.pending[p.Seq] = p
	if !p.Arrived.IsZero() {
		j.measure(p)
	}
}

// measure notes how late p arrived, after the pace of the packets before
// it, and sets the target to hold the latest of the last seconds: at once
// when that is more, a step a second when less.
func (j *JitterBuffer) measure(p JitterPacket) {
	if j.base.Arrived.IsZero() {
		j.base = p
	}
	media := samplesDuration(int(int32(p.Timestamp - j.base.Timestamp)))
	delay := p.Arrived.Sub(j.base.Arrived) - media
	keep := 0
	for keep < len(j.delays) && p.Arrived.Sub(j.delays[keep].arrived) > jitterWindow {
		keep++
	}
	j.delays = append(j.delays[keep:], delaySample{p.Arrived, delay})
	low, high := delay, delay
	for _, d := range j.delays {
		low, high = min(low, d.delay), max(high, d.delay)
	}
	need := min(max(samples(high-low+targetMargin), j.least), samples(maxTarget))
	switch {
	case need > j.target:
		j.target, j.shrunk = need, p.Arrived
	case need < j.target && p.Arrived.Sub(j.shrunk) >= time.Second:
		j.target, j.shrunk = max(need, j.target-samples(shrinkStep)), p.Arrived
	}
}

// Target is how many samples the buffer holds before it plays.
func (j *JitterBuffer) Target() int { return j.target }

// Stats says what was played so far.
func (j *JitterBuffer) Stats() JitterStats { return j.stats }

// Buffered is how much sound waits, in samples: decoded, and in the
// packets up to the last that came.
func (j *JitterBuffer) Buffered() int {
	n := len(j.pcm)
	if len(j.pending) > 0 {
		last := j.next
		for s := range j.pending {
			if seqBefore(last, s) {
				last = s
			}
		}
		n += int(last-j.next+1) * j.frame
	}
	return n
}

// Pull fills out with the next samples, silence where there are none, and
// reports how many were sound (decoded or made up) rather than silence.
func (j *JitterBuffer) Pull(out []int16) int {
	if !j.playing {
		if j.Buffered() < j.target || j.Buffered() == 0 {
			clear(out)
			return 0
		}
		j.playing = true
	}
	if over := j.Buffered() - (j.target + samples(skipAbove)); over > 0 {
		j.skip(over)
	}
	n := 0
	for n < len(out) {
		if len(j.pcm) == 0 && !j.decodeNext() {
			break
		}
		k := copy(out[n:], j.pcm)
		j.drop(k)
		n += k
	}
	if n < len(out) {
		j.playing = false // ran dry: wait for the target again
	}
	clear(out[n:])
	return n
}

// decodeNext puts the next packet's sound into pcm: decoded, from the
// following packet's FEC, or made up when the packet is lost or does not
// decode. False when nothing later has come: the buffer ran dry.
func (j *JitterBuffer) decodeNext() bool {
	p, ok := j.pending[j.next]
	if !ok {
		if len(j.pending) == 0 {
			return false
		}
		// Lost, or too late for its turn: later packets are here.
		j.next++
		j.conceal()
		return true
	}
	delete(j.pending, j.next)
	j.next++
	n, err := j.dec.Decode(p.Data, j.scratch)
	if err != nil {
		j.stats.Corrupt++
		j.conceal()
		return true
	}
	if !p.Captured.IsZero() {
		// Anchored again on every packet: a lost one does not shift it.
		j.pcmAt = p.Captured.Add(-samplesDuration(len(j.pcm)))
	}
	j.frame = n
	j.pcm = append(j.pcm, j.scratch[:n]...)
	j.stats.Decoded += n
	return true
}

// conceal makes up the sound of the packet before j.next (pcmAt, moved on
// by what was played, is its capture time already). A decoder that cannot
// leaves it out.
func (j *JitterBuffer) conceal() {
	c, ok := j.dec.(media.AudioConcealer)
	if !ok {
		return
	}
	var next []byte
	if p, ok := j.pending[j.next]; ok {
		next = p.Data
	}
	n, fec, err := c.Conceal(next, j.scratch[:j.frame])
	if err != nil {
		return
	}
	j.pcm = append(j.pcm, j.scratch[:n]...)
	if fec {
		j.stats.FromFEC += n
	} else {
		j.stats.Concealed += n
	}
}

// skip plays n samples less: decoded ones first, then whole packets.
func (j *JitterBuffer) skip(n int) {
	d := min(n, len(j.pcm))
	j.drop(d)
	for n -= d; n >= j.frame && len(j.pending) > 0; n -= j.frame {
		delete(j.pending, j.next)
		j.next++
	}
}

// drop forgets the oldest n decoded samples.
func (j *JitterBuffer) drop(n int) {
	n = min(n, len(j.pcm))
	j.pcm = append(j.pcm[:0], j.pcm[n:]...)
	if !j.pcmAt.IsZero() {
		j.pcmAt = j.pcmAt.Add(samplesDuration(n))
	}
}

// Close closes the decoder.
func (j *JitterBuffer) Close() error { return j.dec.Close() }
