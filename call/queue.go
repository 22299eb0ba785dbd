package call

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// The queue in front of the box's uplink, read from the call server's
// transport-wide feedback: each packet's arrival time at the server less
// its departure from the box is the path's delay plus the time it waited
// in a queue; less the least delay seen lately, it is the queue alone.
// gcc's delay-based half (congestion.go) sees the same queue by the trend
// of the delays, and is careful about it: when an 800 kbit/s uplink
// starts under 1.5 Mbit/s of video, the queue of a home router (a quarter
// of a second here) fills in 0.3 s and gcc takes most of a second more,
// by when packets have been dropped for a while and the picture freezes
// until a keyframe. A queue this deep is never jitter, so it is acted on
// at once (congestion.onQueue).

// queueWindow is how long the least delay is remembered: the path's own
// delay, with no queue in it. A queue that stays this long becomes part
// of the path.
const queueWindow = 10 * time.Second

// sentRing is how many packets' departures are remembered, by their
// transport-wide sequence number: at 1.5 Mbit/s about 25 s of them.
const sentRing = 4096

type sentPacket struct {
	seq  uint16
	at   time.Time
	size int
	ok   bool
}

// arrival is one packet the server received: when, by its own clock, and
// its size.
type arrival struct {
	at   time.Time
	size int
}

// queueDelay keeps the departures of the packets sent and, from each
// feedback, the queue's delay and the rate the uplink delivered.
type queueDelay struct {
	mu   sync.Mutex
	sent *[sentRing]sentPacket // nil until the first packet: a connection that only receives sends none
	// least is the least delay (arrival less departure, on two clocks) of
	// each second of departures, the oldest first, over queueWindow.
	least    []leastOfSecond
	arrivals []arrival // over the last rateWindow of arrival times
}

type leastOfSecond struct {
	second time.Time
	delay  time.Duration
}

// The delivered rate is measured over at least minRateSpan of the latest
// arrivals, at most rateWindow.
const (
	minRateSpan = 100 * time.Millisecond
	rateWindow  = 500 * time.Millisecond
)

// transportCCURI is the RTP header extension that carries a packet's
// transport-wide sequence number.
const transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// watch notes the departure of each packet of a stream written to w.
func (q *queueDelay) watch(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == transportCCURI {
			id = uint8(e.ID)
		}
	}
	if id == 0 {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		if ext := h.GetExtension(id); len(ext) == 2 {
			q.onSent(binary.BigEndian.Uint16(ext), h.MarshalSize()+len(payload), time.Now())
		}
		return w.Write(h, payload, attrs)
	})
}

// onSent notes a packet's departure.
func (q *queueDelay) onSent(seq uint16, size int, at time.Time) {
	q.mu.Lock()
	if q.sent == nil {
		q.sent = new([sentRing]sentPacket)
	}
	q.sent[seq%sentRing] = sentPacket{seq: seq, at: at, size: size, ok: true}
	q.mu.Unlock()
}

// queueState is what one feedback tells of the queue.
type queueState struct {
	// latest is the queue's delay as of the latest packet acknowledged;
	// least the least of the feedback's packets': a queue that stands,
	// not the bursts of a frame's packets nor jitter.
	latest, least time.Duration
	// delivered is the rate at which packets arrived over the last
	// latest (while a queue stands, the uplink's rate) or at least
	// minRateSpan, in bits per second; 0 when too few did to say.
	delivered int
}

// onFeedback reads a transport-wide feedback; ok is false when it
// acknowledged no packet the box knows.
func (q *queueDelay) onFeedback(fb *rtcp.TransportLayerCC) (st queueState, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sent == nil {
		return queueState{}, false
	}
	at := time.UnixMicro(int64(fb.ReferenceTime) * 64_000) // the server's clock, from an unknown origin
	deltas := fb.RecvDeltas
	seq := fb.BaseSequenceNumber
	var latest time.Duration
	least := time.Duration(1<<63 - 1)
	received := func() {
		if len(deltas) == 0 {
			return
		}
		at = at.Add(time.Duration(deltas[0].Delta) * time.Microsecond)
		deltas = deltas[1:]
		s := q.sent[seq%sentRing]
		if !s.ok || s.seq != seq {
			return
		}
		delay := at.Sub(s.at)
		q.noteLeast(s.at, delay)
		q.arrivals = append(q.arrivals, arrival{at: at, size: s.size})
		latest, least, ok = delay, min(least, delay), true
	}
	for _, chunk := range fb.PacketChunks {
		switch c := chunk.(type) {
		case *rtcp.RunLengthChunk:
			for range c.RunLength {
				if c.PacketStatusSymbol != rtcp.TypeTCCPacketNotReceived {
					received()
				}
				seq++
			}
		case *rtcp.StatusVectorChunk:
			for _, symbol := range c.SymbolList {
				if symbol != rtcp.TypeTCCPacketNotReceived {
					received()
				}
				seq++
			}
		}
	}
	if !ok {
		return queueState{}, false
	}
	path := q.pathDelay()
	st = queueState{latest: latest - path, least: least - path}
	st.delivered = q.deliveredRate(max(st.latest, minRateSpan))
	return st, true
}

// noteLeast keeps the least delay of each second of departures over
// queueWindow. q.mu is held.
func (q *queueDelay) noteLeast(departed time.Time, delay time.Duration) {
	second := departed.Truncate(time.Second)
	switch n := len(q.least); {
	case n > 0 && q.least[n-1].second.Equal(second):
		q.least[n-1].delay = min(q.least[n-1].delay, delay)
	case n == 0 || second.After(q.least[n-1].second): // a retransmission's older second is left out
		q.least = append(q.least, leastOfSecond{second, delay})
	}
	for len(q.least) > 1 && departed.Sub(q.least[0].second) > queueWindow {
		q.least = q.least[1:]
	}
}

// pathDelay is the least delay over queueWindow: the path's, with no
// queue in it. q.mu is held.
func (q *queueDelay) pathDelay() time.Duration {
	least := q.least[0].delay
	for _, l := range q.least[1:] {
		least = min(least, l.delay)
	}
	return least
}

// deliveredRate is what arrived over the last span of arrivals (at most
// rateWindow), in bits per second; 0 with less than half the span of
// them. q.mu is held.
func (q *queueDelay) deliveredRate(span time.Duration) int {
	last := q.arrivals[len(q.arrivals)-1].at
	i := 0
	for i < len(q.arrivals) && last.Sub(q.arrivals[i].at) > rateWindow {
		i++
	}
	q.arrivals = q.arrivals[i:]
	span = min(span, rateWindow)
	first := len(q.arrivals) - 1
	for first > 0 && last.Sub(q.arrivals[first-1].at) <= span {
		first--
	}
	took := last.Sub(q.arrivals[first].at)
	if took < span/2 {
		return 0
	}
	bytes := 0
	for _, a := range q.arrivals[first+1:] { // the first arrived at the span's start
		bytes += a.size
	}
	return int(float64(bytes*8) / took.Seconds())
}
