package call

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// congestion follows what the box's uplink carries, as browsers do, with
// the two halves of Google Congestion Control. The delay-based half is
// pion's gcc over the call server's transport-wide feedback (TWCC: the
// arrival time of every packet of video the box sent, numbered here): it
// sees a queue build before anything is lost. The loss-based half reads
// the server's receiver reports, a second's loss at a time: above 10 %
// the rate drops by half the loss, under 2 % it grows by 5 %, in between
// it holds. (gcc's own loss-based half judges each feedback of a tenth of
// a second, where one packet lost in fifteen is over 6 %, and under a
// steady 3 % loss it only ever goes down.) The camera gets the lower of
// the two, less what the sound needs, shared out among its simulcast
// layers from the smallest up; the server's REMB, when it sends one, caps
// it too.
type congestion struct {
	max     []int                 // the most each video layer may send, largest first; bits per second
	onLayer func(layer, bits int) // told a layer's new bitrate

	mu    sync.Mutex
	delay int   // gcc's delay-based estimate for everything the box sends; 0 before the first
	loss  int   // the loss-based rate for the video
	remb  int   // the server's cap for the video; 0 when none came
	told  []int // what onLayer was last told, per layer
	// queueCap is the most for everything the box sends while a queue
	// that built up on its uplink drains (onQueue); 0 when none.
	queueCap   int
	queueCutAt time.Time // when queueCap was last cut
	queueGrown time.Time // when it last grew, or was cut
}

// Bitrates, in bits per second.
const (
	// minVideoBitrate is the least the camera is given: pictures still
	// move at 180p.
	minVideoBitrate = 60_000
	// audioShare is what the estimate keeps for everything but the
	// camera: Opus at 32 kbit/s with its packets' headers, and RTCP.
	audioShare = 50_000
)

// newCongestion follows the network for video layers of these most
// bitrates (largest first; one without simulcast), telling onLayer.
func newCongestion(max []int, onLayer func(layer, bits int)) *congestion {
	c := &congestion{max: max, onLayer: onLayer, told: make([]int, len(max))}
	c.loss = c.total()
	return c
}

func (c *congestion) total() int {
	sum := 0
	for _, m := range c.max {
		sum += m
	}
	return sum
}

// interceptors are what the SDK adds to each peer connection, before its
// own: gcc reading the feedback, and outside it (so that it runs first on
// each packet sent, retransmissions too) the numbering of every packet
// that the feedback refers to. Only the connection that sends media (the
// publisher's) has streams to estimate for; the subscriber's estimator
// stays unused.
func (c *congestion) interceptors() ([]interceptor.Factory, error) {
	estimator, err := c.estimator()
	if err != nil {
		return nil, err
	}
	numbering, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		return nil, err
	}
	return []interceptor.Factory{estimator, numbering}, nil
}

func (c *congestion) estimator() (*cc.InterceptorFactory, error) {
	most := c.total() + audioShare
	return cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		bwe, err := gcc.NewSendSideBWE(
			// Start at the most: on a good network there is nothing to
			// climb, and on a thin one the delay-based half finds the
			// queue building within a second or two.
			gcc.SendSideBWEInitialBitrate(most),
			gcc.SendSideBWEMinBitrate(min(most, minVideoBitrate+audioShare)),
			gcc.SendSideBWEMaxBitrate(most),
			// The SDK sends packets as they come; the encoders' rate
			// control keeps them within the bitrate.
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
		if err != nil {
			return nil, err
		}
		return &publisherEstimator{SendSideBWE: bwe, onDelay: c.onDelay, onQueue: c.onQueue}, nil
	})
}

// publisherEstimator passes gcc's delay-based estimate on after each
// feedback, once it has a stream to send (only the publisher's
// connection has).
type publisherEstimator struct {
	*gcc.SendSideBWE
	sending atomic.Bool
	onDelay func(bits int)
	onQueue func(queueState, time.Time)
	queue   queueDelay
}

func (e *publisherEstimator) WriteRTCP(pkts []rtcp.Packet, attrs interceptor.Attributes) error {
	err := e.SendSideBWE.WriteRTCP(pkts, attrs)
	if !e.sending.Load() {
		return err
	}
	for _, p := range pkts {
		if fb, ok := p.(*rtcp.TransportLayerCC); ok {
			if st, ok := e.queue.onFeedback(fb); ok {
				e.onQueue(st, time.Now())
			}
		}
	}
	if bits, ok := e.GetStats()["delayTargetBitrate"].(int); ok && bits > 0 {
		e.onDelay(bits)
	}
	return err
}

func (e *publisherEstimator) AddStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	e.sending.Store(true)
	out := e.queue.watch(info, e.SendSideBWE.AddStream(info, w))
	if info.SSRCRetransmission != 0 {
		// gcc sends by SSRC, and knows only the streams added: without
		// this the answers to NACKs (RTX, on an SSRC of their own) would
		// go nowhere.
		rtx := *info
		rtx.SSRC = info.SSRCRetransmission
		e.SendSideBWE.AddStream(&rtx, w)
	}
	return out
}

// A queue's delay on the uplink over queueHigh is acted on at once: what
// the box sends is cut to what the uplink delivered less what empties
// the queue within queueDrain (at most queueCut of it, at least half),
// again each queueRecut while the queue stays. Under 0.85 only, as gcc
// cuts, a full queue empties so slowly that what was sent into it is
// dropped for seconds, keyframes too. Once the queue is under queueLow
// the cap grows back by queueGrowth a second, until gcc's own estimate is
// the lower. (The jitter profile's 60 ms of jitter never reaches
// queueHigh.)
const (
	queueHigh   = 80 * time.Millisecond
	queueLow    = 40 * time.Millisecond
	queueDrain  = 500 * time.Millisecond
	queueCut    = 0.85
	queueRecut  = 500 * time.Millisecond
	queueGrowth = 1.08
)

// onQueue takes the queue's delay on the uplink and what it delivered
// (bits per second) from a transport-wide feedback (queue.go).
func (c *congestion) onQueue(q queueState, now time.Time) {
	c.update(func() {
		switch {
		case q.latest > queueHigh && q.delivered > 0 && now.Sub(c.queueCutAt) >= queueRecut:
			share := min(max(1-q.latest.Seconds()/queueDrain.Seconds(), 0.5), queueCut)
			c.queueCap = max(int(share*float64(q.delivered)), minVideoBitrate+audioShare)
			if c.delay > 0 {
				c.queueCap = min(c.queueCap, c.delay)
			}
			c.queueCutAt, c.queueGrown = now, now
		case q.least < queueLow && c.queueCap > 0:
			c.queueCap = int(float64(c.queueCap) * math.Pow(queueGrowth, now.Sub(c.queueGrown).Seconds()))
			c.queueGrown = now
			if c.queueCap >= c.total()+audioShare || c.delay > 0 && c.queueCap >= c.delay {
				c.queueCap = 0 // gcc's estimate rules again
			}
		default: // it grows only while the queue is gone
			c.queueGrown = now
		}
	})
}

// onDelay takes gcc's delay-based estimate.
func (c *congestion) onDelay(bits int) { c.update(func() { c.delay = bits }) }

// onLoss takes a receiver report's fraction lost (0 to 255 for 0 to 100 %)
// of the video.
func (c *congestion) onLoss(fractionLost uint8) {
	c.update(func() {
		switch loss := float64(fractionLost) / 256; {
		case loss > 0.10:
			c.loss = int(float64(c.loss) * (1 - 0.5*loss))
		case loss < 0.02:
			c.loss = int(float64(c.loss) * 1.05)
		}
		c.loss = min(max(c.loss, minVideoBitrate), c.total())
	})
}

// onREMB takes the server's estimate of what it receives well.
func (c *congestion) onREMB(bits int) { c.update(func() { c.remb = bits }) }

// update applies change and tells the layers whose bitrate moved.
func (c *congestion) update(change func()) {
	c.mu.Lock()
	change()
	bits := c.layerBitrates()
	var moved []int
	for i, b := range bits {
		if b != c.told[i] {
			c.told[i] = b
			moved = append(moved, i)
		}
	}
	c.mu.Unlock()
	for _, i := range moved {
		c.onLayer(i, bits[i])
	}
}

// layerBitrates shares what the video may send now among the layers,
// the smallest first, each at least a tenth of its most; c.mu is held.
func (c *congestion) layerBitrates() []int {
	video := min(c.total(), c.loss)
	if c.delay > 0 {
		video = min(video, c.delay-audioShare)
	}
	if c.remb > 0 {
		video = min(video, c.remb)
	}
	if c.queueCap > 0 {
		video = min(video, c.queueCap-audioShare)
	}
	video = max(video, min(c.total(), minVideoBitrate))
	bits := make([]int, len(c.max))
	for i := len(c.max) - 1; i >= 0; i-- {
		bits[i] = max(min(c.max[i], video), c.max[i]/10)
		video -= bits[i]
	}
	return bits
}

// keyframeLimit is the least time between two keyframes a receiver asks
// for: each costs several frames' bits, and one on its way serves all.
const keyframeLimit = 300 * time.Millisecond

// keyframeLimiter passes keyframe requests for each of its keys (a layer
// the box sends, a participant it receives) at most once per
// keyframeLimit. The zero limiter is ready to use.
type keyframeLimiter[K comparable] struct {
	mu   sync.Mutex
	last map[K]time.Time
}

func (k *keyframeLimiter[K]) allow(key K, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.last == nil {
		k.last = map[K]time.Time{}
	}
	if last, ok := k.last[key]; ok && now.Sub(last) < keyframeLimit {
		return false
	}
	k.last[key] = now
	return true
}
