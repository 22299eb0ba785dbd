package call

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// keyframeLog is an Encoder that notes when each layer was asked for a keyframe.
type keyframeLog struct {
	mu    sync.Mutex
	start time.Time
	at    map[int][]time.Duration
}

func (l *keyframeLog) ForceLayerKeyFrame(layer int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at[layer] = append(l.at[layer], time.Since(l.start))
}
func (l *keyframeLog) SetLayerBitrate(int, int) {}

func (l *keyframeLog) times(layer int) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.at[layer]...)
}

func sameTimes(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKeyframeFollowUps: a request after a quiet while (a new subscriber)
// gets its keyframe now and three more after 250 ms, 500 ms and 1 s; requests that
// come often get theirs alone; leaving the call cancels what is due.
func TestKeyframeFollowUps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		enc := &keyframeLog{start: time.Now(), at: map[int][]time.Duration{}}
		var k keyframes
		k.start()
		k.request(enc, 0)
		time.Sleep(500 * time.Millisecond)
		k.request(enc, 0) // soon after: no follow-ups of its own
		k.request(enc, 1) // another layer's first: its own follow-ups
		time.Sleep(3 * time.Second)
		synctest.Wait()
		ms := time.Millisecond
		if got, want := enc.times(0), []time.Duration{0, 250 * ms, 500 * ms, 500 * ms, 1000 * ms}; !sameTimes(got, want) {
			t.Errorf("layer 0 keyframes at %v, want %v", got, want)
		}
		if got, want := enc.times(1), []time.Duration{500 * ms, 750 * ms, 1000 * ms, 1500 * ms}; !sameTimes(got, want) {
			t.Errorf("layer 1 keyframes at %v, want %v", got, want)
		}

		k.request(enc, 0) // quiet for 3 s: follow-ups again...
		time.Sleep(100 * time.Millisecond)
		k.stop() // ...until the call is left
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := enc.times(0); len(got) != 6 || got[5] != 3500*ms {
			t.Errorf("layer 0 keyframes at %v, want the last at 3.5 s and none after leaving the call", got)
		}
	})
}
