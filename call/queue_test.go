package call

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// feedback is a transport-wide feedback for packets base, base+1, ...,
// received at the given times (zero: lost), in the form pion reads the
// server's into.
func feedback(t *testing.T, base uint16, arrivals []time.Time) *rtcp.TransportLayerCC {
	t.Helper()
	var ref time.Time
	for _, at := range arrivals {
		if !at.IsZero() {
			ref = at.Truncate(64 * time.Millisecond)
			break
		}
	}
	fb := &rtcp.TransportLayerCC{SenderSSRC: 1, MediaSSRC: 2, BaseSequenceNumber: base,
		PacketStatusCount: uint16(len(arrivals)), ReferenceTime: uint32(ref.UnixMicro() / 64_000)}
	prev := ref
	var symbols []uint16
	for _, at := range arrivals {
		if at.IsZero() {
			symbols = append(symbols, rtcp.TypeTCCPacketNotReceived)
			continue
		}
		delta := at.Sub(prev).Microseconds() / 250 * 250
		kind := rtcp.TypeTCCPacketReceivedSmallDelta
		if delta < 0 || delta > 63_750 {
			kind = rtcp.TypeTCCPacketReceivedLargeDelta
		}
		symbols = append(symbols, kind)
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: kind, Delta: delta})
		prev = prev.Add(time.Duration(delta) * time.Microsecond)
	}
	for len(symbols) > 0 {
		n := min(7, len(symbols))
		chunk := &rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: append([]uint16(nil), symbols[:n]...)}
		for len(chunk.SymbolList) < 7 {
			chunk.SymbolList = append(chunk.SymbolList, rtcp.TypeTCCPacketNotReceived)
		}
		fb.PacketChunks = append(fb.PacketChunks, chunk)
		symbols = symbols[n:]
	}
	return fb
}

// TestQueueDelayFromFeedback: 1200-byte packets sent every 10 ms (960
// kbit/s) into an uplink that carries 800 kbit/s (one every 12 ms) after
// 20 ms: the queue grows by 2 ms a packet, and the uplink's rate is what
// arrives; a lost packet is skipped.
func TestQueueDelayFromFeedback(t *testing.T) {
	var q queueDelay
	sent := time.Unix(1_000_000, 0)
	const size = 1200
	var arrivals []time.Time
	link := sent.Add(20 * time.Millisecond)
	for i := range 50 {
		at := sent.Add(time.Duration(i) * 10 * time.Millisecond)
		q.onSent(uint16(65500+i), size, at) // across the wrap of sequence numbers
		link = later(link.Add(12*time.Millisecond), at.Add(20*time.Millisecond))
		arrivals = append(arrivals, link)
	}
	// The server's clock starts elsewhere: only differences count.
	offset := 37 * time.Hour
	for i := range arrivals {
		arrivals[i] = arrivals[i].Add(offset)
	}
	arrivals[30] = time.Time{} // lost
	st, ok := q.onFeedback(feedback(t, 65500, arrivals))
	if !ok {
		t.Fatal("a feedback of packets sent was not read")
	}
	// The first packet met no queue, the 50th waited 49 × 2 ms.
	if st.latest < 90*time.Millisecond || st.latest > 105*time.Millisecond {
		t.Errorf("the queue's delay is %v, want 98 ms", st.latest)
	}
	if st.least > 2*time.Millisecond {
		t.Errorf("the least queue in the feedback is %v, want none", st.least)
	}
	if st.delivered < 760_000 || st.delivered > 840_000 {
		t.Errorf("the uplink delivered %d bit/s, want 800000", st.delivered)
	}
	if _, ok := q.onFeedback(feedback(t, 100, arrivals[:3])); ok {
		t.Error("a feedback of packets never sent was read")
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestAQueueCutsAtOnce: a queue of 200 ms on an uplink that delivers 800
// kbit/s cuts the camera to what empties it (60 % of 800, less the
// sound's), before gcc's estimate moved; no second cut follows at once;
// while it empties the cap holds; once it is gone the cap grows back by 8
// % a second (from the feedback before) until gcc's estimate rules again.
func TestAQueueCutsAtOnce(t *testing.T) {
	told := record{}
	c := newCongestion([]int{1_500_000}, told.onLayer)
	c.update(func() { c.delay = 1_550_000 })
	now := time.Unix(1000, 0)
	c.onQueue(queueState{latest: 60 * time.Millisecond, delivered: 1_500_000}, now)
	if told[0] != 1_500_000 {
		t.Fatalf("60 ms of queue (jitter) moved the camera to %d", told[0])
	}
	c.onQueue(queueState{latest: 200 * time.Millisecond, least: 100 * time.Millisecond, delivered: 800_000}, now)
	if want := 480_000 - audioShare; told[0] != want {
		t.Fatalf("a queue of 200 ms at 800 kbit/s gives the camera %d, want %d", told[0], want)
	}
	c.onQueue(queueState{latest: 250 * time.Millisecond, least: 200 * time.Millisecond, delivered: 700_000}, now.Add(200*time.Millisecond))
	if want := 480_000 - audioShare; told[0] != want {
		t.Errorf("a second cut 200 ms after the first: %d, want %d still", told[0], want)
	}
	c.onQueue(queueState{latest: 70 * time.Millisecond, least: 50 * time.Millisecond, delivered: 700_000}, now.Add(time.Second))
	if want := 480_000 - audioShare; told[0] != want {
		t.Errorf("while the queue empties: %d, want %d still", told[0], want)
	}
	c.onQueue(queueState{latest: 30 * time.Millisecond, least: 10 * time.Millisecond, delivered: 500_000}, now.Add(2*time.Second))
	if want := int(480_000*1.08) - audioShare; told[0] < want-1000 || told[0] > want+1000 {
		t.Errorf("a second after the queue emptied: %d, want %d", told[0], want)
	}
	c.update(func() { c.delay = 520_000 })
	c.onQueue(queueState{least: 10 * time.Millisecond, delivered: 500_000}, now.Add(3*time.Second))
	if want := 520_000 - audioShare; told[0] != want || c.queueCap != 0 {
		t.Errorf("with gcc's estimate under the grown cap: %d (cap %d), want gcc's %d", told[0], c.queueCap, want)
	}
}
