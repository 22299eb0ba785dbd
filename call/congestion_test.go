package call

import "testing"

func TestBitrateFollowsLoss(t *testing.T) {
	c := newBitrateControl(1_000_000)
	if got := c.onLoss(0); got != 1_000_000 {
		t.Fatalf("no loss at the maximum: %d, want to stay at 1000000", got)
	}
	got := c.onLoss(64) // 25% lost
	if got != 875_000 {
		t.Fatalf("25%% loss: %d, want 875000 (cut by half the loss)", got)
	}
	if again := c.onLoss(13); again != got { // 5%: hold
		t.Fatalf("5%% loss: %d, want to hold at %d", again, got)
	}
	for range 100 {
		got = c.onLoss(255)
	}
	if got != 100_000 {
		t.Fatalf("after heavy loss: %d, want the floor 100000", got)
	}
	for range 100 {
		got = c.onLoss(0)
	}
	if got != 1_000_000 {
		t.Fatalf("after recovery: %d, want back at the maximum 1000000", got)
	}
}

func TestBitrateCappedByEstimate(t *testing.T) {
	c := newBitrateControl(2_000_000)
	if got := c.onEstimate(500_000); got != 500_000 {
		t.Fatalf("estimate 500k: %d", got)
	}
	if got := c.onLoss(0); got != 500_000 {
		t.Fatalf("no loss must not raise past the estimate: %d", got)
	}
	if got := c.onEstimate(5_000_000); got != 500_000 {
		t.Fatalf("a higher estimate alone does not jump: %d", got)
	}
	if got := c.onLoss(0); got != 525_000 {
		t.Fatalf("then it grows again: %d, want 525000", got)
	}
}
