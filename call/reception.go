package call

import (
	"math"
	"sync"
	"time"
)

// How far a sequence number may run ahead of the highest one (a gap of
// lost packets), or behind it (reordered), and be counted in the same
// run; anything else is a new run once two follow each other. RFC 3550
// appendix A.1's MAX_DROPOUT and MAX_MISORDER.
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// rtpReception counts one remote track's RTP packets as RFC 3550 does for
// a receiver report: those received, those lost (expected from the
// sequence numbers, less received: appendix A.3) and the interarrival
// jitter (appendix A.8). The track's goroutine notes each packet; the
// metrics read it at any time.
type rtpReception struct {
	clockRate float64 // RTP timestamp units per second

	mu      sync.Mutex // guards what follows
	started bool
	base    int64 // the run's first extended sequence number
	max     int64 // the run's highest extended sequence number
	badSeq  int64 // the packet after a jump, which would start a new run; -1 for none
	// expectedBefore is what the runs before this one expected.
	expectedBefore uint64
	received       uint64
	jitter         float64 // in timestamp units
	lastTransit    float64
}

func newRTPReception(clockRate uint32) *rtpReception {
	return &rtpReception{clockRate: float64(clockRate), badSeq: -1}
}

// note counts a packet with RTP sequence number seq and timestamp ts that
// arrived at arrived. A duplicate counts as received (as RFC 3550 has it):
// lost never goes below 0.
func (r *rtpReception) note(seq uint16, ts uint32, arrived time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		r.started = true
		r.restart(seq)
	} else {
		// The extended number nearest the highest so far: wraps count.
		ext := r.max + int64(int16(seq-uint16(r.max)))
		switch delta := ext - r.max; {
		case delta > 0 && delta < maxDropout: // in order, maybe after a gap
			r.max = ext
		case delta <= 0 && delta >= -maxMisorder: // late, or a duplicate
		case int64(seq) == r.badSeq: // a second packet after a jump: a new run
			r.expectedBefore += uint64(r.max - r.base + 1)
			r.restart(seq)
		default: // a jump: counted once the next packet follows it
			r.badSeq = int64(seq + 1)
			return
		}
	}
	r.received++
	// RFC 3550 A.8: the transit time's change, smoothed by 1/16.
	transit := float64(arrived.UnixNano())/1e9*r.clockRate - float64(ts)
	if r.received > 1 {
		d := transit - r.lastTransit
		if math.Abs(d) < r.clockRate { // not a timestamp jump (a new run, a muted track)
			r.jitter += (math.Abs(d) - r.jitter) / 16
		}
	}
	r.lastTransit = transit
}

// restart begins a run at seq. r.mu is held.
func (r *rtpReception) restart(seq uint16) {
	r.base, r.max, r.badSeq = int64(seq), int64(seq), -1
}

// counts are the packets received and lost so far, and the jitter now.
func (r *rtpReception) counts() (received, lost uint64, jitter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return 0, 0, 0
	}
	expected := r.expectedBefore + uint64(r.max-r.base+1)
	if expected > r.received {
		lost = expected - r.received
	}
	if r.clockRate > 0 {
		jitter = time.Duration(r.jitter / r.clockRate * float64(time.Second))
	}
	return r.received, lost, jitter
}

// receptionTotals add up the reception of every remote track of a kind
// ("audio", "video") the session has received, over its joins: the
// tracks received now, and those that ended.
type receptionTotals struct {
	mu    sync.Mutex
	live  map[*rtpReception]string // the kind of each track received now
	ended map[string]ReceptionStats
}

// ReceptionStats are what the box received of a kind of media.
type ReceptionStats struct {
	// Packets received and lost (RFC 3550: expected from the sequence
	// numbers, less received, never below 0), of every track.
	Packets, Lost uint64
	// Jitter is the largest interarrival jitter of the tracks received
	// now (RFC 3550 A.8); 0 with none.
	Jitter time.Duration
}

// open starts counting a track of kind; t may be nil (nothing counted).
func (t *receptionTotals) open(kind string, clockRate uint32) *rtpReception {
	if t == nil {
		return nil
	}
	r := newRTPReception(clockRate)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live == nil {
		t.live = map[*rtpReception]string{}
	}
	t.live[r] = kind
	return r
}

// close keeps what r counted among the ended tracks'.
func (t *receptionTotals) close(r *rtpReception) {
	if t == nil || r == nil {
		return
	}
	received, lost, _ := r.counts()
	t.mu.Lock()
	defer t.mu.Unlock()
	kind := t.live[r]
	delete(t.live, r)
	if t.ended == nil {
		t.ended = map[string]ReceptionStats{}
	}
	e := t.ended[kind]
	e.Packets += received
	e.Lost += lost
	t.ended[kind] = e
}

// stats are the totals now, by kind.
func (t *receptionTotals) stats() map[string]ReceptionStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]ReceptionStats{}
	for kind, e := range t.ended {
		out[kind] = e
	}
	for r, kind := range t.live {
		received, lost, jitter := r.counts()
		s := out[kind]
		s.Packets += received
		s.Lost += lost
		s.Jitter = max(s.Jitter, jitter)
		out[kind] = s
	}
	return out
}
