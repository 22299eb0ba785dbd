package call

import "sync"

// bitrateControl follows what the network allows: the SFU's receiver
// estimate (REMB) caps the rate, and the loss in its receiver reports moves
// it, as the loss-based half of Google Congestion Control does: more than
// 10% loss cuts the rate by half the loss, less than 2% raises it by 5%,
// never above the configured maximum nor below a floor that still carries
// a picture.
type bitrateControl struct {
	mu       sync.Mutex
	max, min int
	current  int
	remb     int // the last receiver estimate, 0 when none came
}

func newBitrateControl(max int) *bitrateControl {
	return &bitrateControl{max: max, min: max / 10, current: max}
}

// onLoss takes a receiver report's fraction lost (0–255 for 0–100%) and
// returns the new target bitrate.
func (c *bitrateControl) onLoss(fractionLost uint8) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	loss := float64(fractionLost) / 256
	switch {
	case loss > 0.10:
		c.current = int(float64(c.current) * (1 - 0.5*loss))
	case loss < 0.02:
		c.current = int(float64(c.current) * 1.05)
	}
	return c.clamp()
}

// onEstimate takes the receiver's estimate of what the path carries.
func (c *bitrateControl) onEstimate(bitsPerSecond int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remb = bitsPerSecond
	return c.clamp()
}

func (c *bitrateControl) clamp() int {
	limit := c.max
	if c.remb > 0 && c.remb < limit {
		limit = c.remb
	}
	c.current = max(min(c.current, limit), c.min)
	return c.current
}
