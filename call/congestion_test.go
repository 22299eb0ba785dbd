package call

import (
	"slices"
	"testing"
	"time"
)

// record is an onLayer that keeps what each layer was told last.
type record map[int]int

func (r record) onLayer(layer, bits int) { r[layer] = bits }

func TestVideoFollowsTheEstimate(t *testing.T) {
	told := record{}
	c := newCongestion([]int{1_500_000}, told.onLayer)
	c.update(func() { c.delay = 850_000 })
	if told[0] != 800_000 {
		t.Errorf("an estimate of 850 kbit/s gives the camera %d, want 800000 (50 kbit/s kept for the sound)", told[0])
	}
	c.update(func() { c.delay = 5_000_000 })
	if told[0] != 1_500_000 {
		t.Errorf("an estimate above the most gives %d, want the most, 1500000", told[0])
	}
	c.onREMB(600_000)
	if told[0] != 600_000 {
		t.Errorf("the server's REMB of 600 kbit/s gives %d, want 600000", told[0])
	}
	c.onREMB(0)
	c.update(func() { c.delay = 60_000 })
	if told[0] != 150_000 {
		t.Errorf("an estimate of 60 kbit/s gives %d, want the floor of a tenth, 150000", told[0])
	}
}

func TestSimulcastSharesFromTheSmallest(t *testing.T) {
	told := record{}
	c := newCongestion([]int{1_500_000, 450_000, 150_000}, told.onLayer)
	for _, tt := range []struct {
		estimate int
		want     []int
	}{
		{10_000_000, []int{1_500_000, 450_000, 150_000}},
		// 700 kbit/s for video: the two small layers whole, the large one
		// the rest, at least a tenth of its most.
		{750_000, []int{150_000, 450_000, 150_000}},
		{1_250_000, []int{600_000, 450_000, 150_000}},
		{300_000, []int{150_000, 100_000, 150_000}},
	} {
		c.update(func() { c.delay = tt.estimate })
		if got := []int{told[0], told[1], told[2]}; !slices.Equal(got, tt.want) {
			t.Errorf("estimate %d: layers get %v, want %v", tt.estimate, got, tt.want)
		}
	}
}

func TestOnlyMovedLayersAreTold(t *testing.T) {
	calls := 0
	c := newCongestion([]int{1_000_000, 300_000}, func(int, int) { calls++ })
	c.update(func() { c.delay = 2_000_000 }) // both layers told their most
	c.update(func() { c.delay = 3_000_000 }) // nothing moves
	if calls != 2 {
		t.Errorf("%d calls, want 2: one per layer, and none when nothing moved", calls)
	}
}

func TestKeyframeRequestsAreLimited(t *testing.T) {
	var k keyframeLimiter[int]
	now := time.Unix(1000, 0)
	var passed []int
	for i, at := range []time.Duration{0, 100, 200, 300, 350, 700} {
		if k.allow(0, now.Add(at*time.Millisecond)) {
			passed = append(passed, i)
		}
	}
	if want := []int{0, 3, 5}; !slices.Equal(passed, want) {
		t.Errorf("requests %v passed, want %v (at most one per %v)", passed, want, keyframeLimit)
	}
	if !k.allow(1, now.Add(100*time.Millisecond)) {
		t.Error("a request for another layer waits for layer 0's")
	}
}

// TestLossHalf: a second's loss over 10 % cuts the rate by half the loss,
// 2 to 10 % holds it (a steady 3 % must not wear it down), under 2 %
// brings it back by 5 % a report; the delay-based estimate, when lower,
// wins.
func TestLossHalf(t *testing.T) {
	told := record{}
	c := newCongestion([]int{1_000_000}, told.onLayer)
	c.onDelay(5_000_000)
	for range 30 {
		c.onLoss(8) // 3 %
	}
	if told[0] != 1_000_000 {
		t.Errorf("30 reports of 3 %% loss: %d, want to hold at 1000000", told[0])
	}
	c.onLoss(64) // 25 %
	if told[0] != 875_000 {
		t.Errorf("25 %% loss: %d, want 875000 (cut by half the loss)", told[0])
	}
	c.onLoss(0)
	if told[0] != 918_750 {
		t.Errorf("no loss: %d, want 918750 (5 %% more)", told[0])
	}
	c.onDelay(600_000)
	if told[0] != 550_000 {
		t.Errorf("a delay-based estimate of 600 kbit/s: %d, want 550000", told[0])
	}
	for range 30 {
		c.onLoss(0)
	}
	c.onDelay(5_000_000)
	if told[0] != 1_000_000 {
		t.Errorf("after the loss: %d, want back at the most", told[0])
	}
}
