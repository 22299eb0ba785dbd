package call

import (
	"testing"
	"time"
)

// TestRTPReceptionCounts: what a receiver report would say of a track's
// packets, however they come: lost counts the numbers that never arrived,
// across the 16-bit wrap, never below 0 for late, repeated or wild
// packets.
func TestRTPReceptionCounts(t *testing.T) {
	seqs := func(from, n int) []uint16 {
		var s []uint16
		for i := range n {
			s = append(s, uint16(from+i))
		}
		return s
	}
	cat := func(parts ...[]uint16) []uint16 {
		var s []uint16
		for _, p := range parts {
			s = append(s, p...)
		}
		return s
	}
	for _, tc := range []struct {
		name           string
		seqs           []uint16
		received, lost uint64
	}{
		{"in order", seqs(100, 50), 50, 0},
		{"a gap", cat(seqs(100, 10), seqs(115, 10)), 20, 5},
		{"across the wrap", seqs(65530, 20), 20, 0},
		{"a gap across the wrap", cat(seqs(65530, 4), seqs(65536+3, 10)), 14, 5},
		{"reordered", []uint16{1, 3, 2, 5, 4, 6}, 6, 0},
		{"reordered across the wrap", []uint16{65534, 0, 65535, 1}, 4, 0},
		{"late beyond the window", cat(seqs(1000, 200), []uint16{500}), 200, 0},
		{"duplicates", []uint16{7, 7, 8, 8, 8, 9}, 6, 0},
		{"duplicates hiding a loss", []uint16{7, 7, 9}, 3, 0},
		{"one wild packet", cat(seqs(10, 5), []uint16{40000}, seqs(15, 5)), 10, 0},
		{"the stream starts again far away", cat(seqs(10, 5), seqs(40000, 5)), 9, 0},
		{"a gap after starting again", cat(seqs(10, 5), seqs(40000, 2), seqs(40004, 2)), 8, 2},
		{"one packet", []uint16{0}, 1, 0},
		{"nothing", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRTPReception(90000)
			at := time.Unix(1000, 0)
			for i, seq := range tc.seqs {
				r.note(seq, uint32(i*3000), at.Add(time.Duration(i)*33*time.Millisecond))
			}
			received, lost, _ := r.counts()
			if received != tc.received || lost != tc.lost {
				t.Errorf("%d received, %d lost; want %d and %d", received, lost, tc.received, tc.lost)
			}
		})
	}
}

// TestRTPReceptionJitter: packets that keep time have no jitter; packets
// that arrive 20 ms early or late in turn have about 20 ms (RFC 3550
// A.8's estimate converges to the mean deviation); a timestamp jump is
// not taken for jitter.
func TestRTPReceptionJitter(t *testing.T) {
	at := time.Unix(1000, 0)
	steady, wobbly := newRTPReception(90000), newRTPReception(90000)
	for i := range 500 {
		arrived := at.Add(time.Duration(i) * 33 * time.Millisecond)
		steady.note(uint16(i), uint32(i*2970), arrived)
		if i%2 == 1 {
			arrived = arrived.Add(20 * time.Millisecond)
		}
		wobbly.note(uint16(i), uint32(i*2970), arrived)
	}
	steady.note(500, 1<<31, at.Add(500*33*time.Millisecond)) // a sender whose clock jumped
	if _, _, j := steady.counts(); j > time.Millisecond {
		t.Errorf("jitter of packets that keep time: %v, want about 0", j)
	}
	if _, _, j := wobbly.counts(); j < 18*time.Millisecond || j > 22*time.Millisecond {
		t.Errorf("jitter of packets 20 ms late every other one: %v, want about 20 ms", j)
	}
}

// TestReceptionTotals: the totals keep what ended tracks counted, and a
// nil set counts nothing without failing (a watcher's).
func TestReceptionTotals(t *testing.T) {
	var totals receptionTotals
	at := time.Unix(1000, 0)
	a, b := totals.open("video", 90000), totals.open("audio", 48000)
	for _, seq := range []uint16{1, 2, 4, 5} {
		a.note(seq, 0, at)
		b.note(seq, 0, at)
	}
	totals.close(a)
	c := totals.open("video", 90000)
	c.note(9, 0, at)
	c.note(11, 0, at)
	got := totals.stats()
	if v := got["video"]; v.Packets != 6 || v.Lost != 2 {
		t.Errorf("video: %+v, want 6 packets and 2 lost", v)
	}
	if a := got["audio"]; a.Packets != 4 || a.Lost != 1 {
		t.Errorf("audio: %+v, want 4 packets and 1 lost", a)
	}
	var none *receptionTotals
	r := none.open("video", 90000)
	r.note(1, 0, at)
	none.close(r)
}
