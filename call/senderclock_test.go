package call

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestSenderClock(t *testing.T) {
	c := newSenderClock(48000)
	if got := c.at(1000); !got.IsZero() {
		t.Fatalf("before any sender report: %v, want the zero time", got)
	}
	// 2026-01-02 03:04:05.5 UTC as NTP.
	when := time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	ntp := uint64(when.Unix()+ntpEpochOffset)<<32 | 1<<31
	c.onRTCP(&rtcp.ReceiverReport{}) // not a sender report: ignored
	c.onRTCP(&rtcp.SenderReport{NTPTime: ntp, RTPTime: 4294967000})
	tests := []struct {
		rtp  uint32
		want time.Time
	}{
		{4294967000, when},
		{4294967000 + 200, when.Add(200 * time.Second / 48000)},
		{47704, when.Add(48000 * time.Second / 48000)},         // across the wrap: 296 + 47704 ticks
		{4294967000 - 4800, when.Add(-100 * time.Millisecond)}, // before the report
	}
	for _, tt := range tests {
		if got := c.at(tt.rtp); got.Sub(tt.want).Abs() > time.Microsecond {
			t.Errorf("at(%d) = %v, want %v", tt.rtp, got.UTC(), tt.want)
		}
	}
}
