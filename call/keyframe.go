package call

// A keyframe asked for by a receiver after a quiet while is sent at once
// and three times more within the next second.
//
// Why: a browser that starts receiving the box's end-to-end encrypted
// video (a guest joining) drops, inside itself, the frames that arrive
// while it hands the video's encoded stream to livekit-client's decrypting
// worker: Chromium's RTCEncodedVideoUnderlyingSource drops frames posted
// during a stream's transfer to another context (its own comment: "This
// can happen during transfer", crbug.com/1506631), and livekit-client sets
// that transform up when the track arrives, which is when the first frames
// do. Seen with Chromium 156 and livekit-client 2.23 in most joins here:
// the first keyframe, or one to three frames after it, arrive on the wire
// complete and in order but never reach the worker. Chromium's frame
// assembly then holds every later frame for the missing one (its log says
// "no GoP" when it drops them at the next keyframe) and asks for a new
// keyframe only after showing the first picture for 3 s: the guest's
// freeze after joining. A keyframe that comes after the transfer ends it.
// The transfer takes about 100 ms on this 2-core machine, up to half a
// second when it is very loaded, so keyframes follow at 250 ms, 500 ms and
// 1 s. The SFU asks for a keyframe (PLI) for every new subscriber; the
// follow-ups cost three keyframes more per new subscriber. Requests that
// come often (loss on a bad link) get no follow-ups: each is answered,
// and more keyframes would add to the load.

import (
	"sync"
	"time"
)

// followUps are when the further keyframes follow the first: after the
// browser's transfer of the stream, and soon enough that a guest never
// sees one picture held for more than about 250 ms of it.
var followUps = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}

// quietBefore is how long a layer must have had no request for a new one
// to get follow-ups.
const quietBefore = 2 * time.Second

// keyframes sends the encoder's keyframes on receivers' requests, at most
// one per keyframeLimit (congestion.go), with follow-ups.
type keyframes struct {
	limit   keyframeLimiter[int]
	mu      sync.Mutex
	last    map[int]time.Time    // each layer's last request; guarded by mu
	pending map[*time.Timer]bool // follow-ups not yet sent; guarded by mu
	stopped bool                 // out of a call; guarded by mu
}

// request makes layer's next frame a keyframe, unless one was asked for
// less than keyframeLimit ago, and after a quiet while the ones
// followUps later too.
func (k *keyframes) request(enc Encoder, layer int) {
	now := time.Now()
	if !k.limit.allow(layer, now) {
		return
	}
	enc.ForceLayerKeyFrame(layer)
	k.mu.Lock()
	defer k.mu.Unlock()
	last, asked := k.last[layer]
	if k.last == nil {
		k.last, k.pending = map[int]time.Time{}, map[*time.Timer]bool{}
	}
	k.last[layer] = now
	if k.stopped || (asked && now.Sub(last) < quietBefore) {
		return
	}
	for _, after := range followUps {
		var t *time.Timer
		t = time.AfterFunc(after, func() {
			k.mu.Lock()
			due := k.pending[t]
			delete(k.pending, t)
			k.mu.Unlock()
			if due {
				enc.ForceLayerKeyFrame(layer)
			}
		})
		k.pending[t] = true
	}
}

// start takes requests again, in a new call.
func (k *keyframes) start() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = false
}

// stop cancels the follow-ups not yet sent, and any later ones until
// start: the call is over. A follow-up already running finishes (Encoder
// takes requests at any time).
func (k *keyframes) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	for t := range k.pending {
		t.Stop()
		delete(k.pending, t)
	}
}
