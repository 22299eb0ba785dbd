package call

import (
	"time"

	"github.com/pion/rtcp"
)

// MediaStats are the session's numbers for the box's metrics: what it
// hands to the network, and what the call server's receiver reports say
// of the camera's largest layer. (pion's GetStats stays empty here: the
// SDK's connections have no stats interceptor.)
type MediaStats struct {
	// SentBytes are the coded frames' bytes sent, by kind ("audio",
	// "video": every layer), since the session began.
	SentBytes map[string]uint64
	// FramesSent counts the camera's pictures sent (the largest layer).
	FramesSent uint64
	// FractionLost is the part of the camera's packets the server last
	// reported lost (0 to 1); PacketsLost the lost packets it counts in
	// this join.
	FractionLost float64
	PacketsLost  uint64
	// RoundTrip is the round trip to the call server as its last report
	// on the camera's packets gives it; 0 before one.
	RoundTrip time.Duration
	// Received is what arrived of the others' tracks, by kind ("audio",
	// "video"), counted from their RTP packets as the box reads them
	// (reception.go), since the session began.
	Received map[string]ReceptionStats
}

// reportStats is what the server's receiver reports said; guarded by
// Session.mu.
type reportStats struct {
	fractionLost float64
	packetsLost  uint64
	roundTrip    time.Duration
}

// MediaStats reads the session's numbers now.
func (s *Session) MediaStats() MediaStats {
	s.mu.Lock()
	rs := s.reports
	s.mu.Unlock()
	return MediaStats{
		SentBytes:    map[string]uint64{"audio": s.sentAudioBytes.Load(), "video": s.sentVideoBytes.Load()},
		FramesSent:   s.framesSent.Load(),
		FractionLost: rs.fractionLost, PacketsLost: rs.packetsLost, RoundTrip: rs.roundTrip,
		Received: s.remote.reception.stats(),
	}
}

// noteReport keeps what a receiver report says of the camera's packets.
// The round trip is the report's arrival less the sender report it
// answers (LSR) and the time the server held it (DLSR), in the NTP
// clock's middle 32 bits as RFC 3550 section 6.4.1 has it.
func (s *Session) noteReport(r rtcp.ReceptionReport, arrived time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports.fractionLost = float64(r.FractionLost) / 256
	s.reports.packetsLost = uint64(r.TotalLost)
	if r.LastSenderReport != 0 {
		rtt := ntpMiddle(arrived) - r.LastSenderReport - r.Delay
		if rtt < 1<<31 { // not a clock gone backwards
			s.reports.roundTrip = time.Duration(uint64(rtt) * uint64(time.Second) >> 16)
		}
	}
}

// ntpMiddle is t in NTP's format (seconds since 1900 in 32.32 fixed
// point), its middle 32 bits.
func ntpMiddle(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970, in seconds
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return uint32((secs<<32 | frac) >> 16)
}
