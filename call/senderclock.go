package call

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// senderClock maps one remote track's RTP timestamps to the sender's wall
// clock, from the RTCP sender reports that come with the track (RFC 3550
// 6.4.1: each pairs an NTP time with the RTP timestamp of that instant).
// A participant's audio and video reports use the same wall clock, so
// times from both tracks can be compared: that is what lip sync needs.
type senderClock struct {
	clockRate uint32

	mu    sync.Mutex
	known bool
	ntp   time.Time // wall time of rtp, on the sender's clock
	rtp   uint32
}

func newSenderClock(clockRate uint32) *senderClock {
	if clockRate == 0 {
		clockRate = 90000
	}
	return &senderClock{clockRate: clockRate}
}

// onRTCP takes the track's RTCP packets and keeps the newest sender report.
func (c *senderClock) onRTCP(p rtcp.Packet) {
	sr, ok := p.(*rtcp.SenderReport)
	if !ok || sr.NTPTime == 0 {
		return
	}
	c.mu.Lock()
	c.known, c.ntp, c.rtp = true, ntpToTime(sr.NTPTime), sr.RTPTime
	c.mu.Unlock()
}

// at is the sender's wall time of an RTP timestamp; the zero time until
// the first sender report.
func (c *senderClock) at(rtpTime uint32) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		return time.Time{}
	}
	// The difference as a signed 32-bit count copes with wrap-around and
	// with timestamps from before the report.
	ticks := int64(int32(rtpTime - c.rtp))
	return c.ntp.Add(time.Duration(ticks) * time.Second / time.Duration(c.clockRate))
}

// ntpEpochOffset is the seconds from 1900 (NTP's epoch) to 1970 (Unix's).
const ntpEpochOffset = 2208988800

// ntpToTime converts a 64-bit NTP timestamp (32.32 fixed point seconds
// since 1900) to a time.Time.
func ntpToTime(ntp uint64) time.Time {
	secs := int64(ntp>>32) - ntpEpochOffset
	frac := int64((ntp & 0xffffffff) * uint64(time.Second) >> 32)
	return time.Unix(secs, frac)
}
