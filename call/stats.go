package call

import (
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// MediaStats are the call's numbers as the WebRTC stack counts them (pion's
// GetStats on the room's two peer connections), for the box's metrics.
// Counters start again at each join (new connections).
type MediaStats struct {
	// Sent and Received are by kind, "audio" and "video".
	Sent, Received map[string]StreamStats
	// RoundTrip is the round trip to the call server, from its reports
	// on what the box sends; 0 before the first.
	RoundTrip time.Duration
	// FractionLost is the part of the box's packets the server last
	// reported lost, 0 to 1.
	FractionLost float64
	// FramesSent counts the camera's pictures sent (the largest layer's),
	// since the session began.
	FramesSent uint64
}

// StreamStats are one direction of one kind of media, over all its tracks.
type StreamStats struct {
	Bytes, Packets uint64
	// PacketsLost: received, those that never came; sent, those the
	// server reported lost.
	PacketsLost int64
	NACKs, PLIs uint64
}

// MediaStats reads the numbers of the room the session is in; outside a
// call, only FramesSent.
func (s *Session) MediaStats() MediaStats {
	st := MediaStats{Sent: map[string]StreamStats{}, Received: map[string]StreamStats{}, FramesSent: s.framesSent.Load()}
	s.mu.Lock()
	room := s.room
	s.mu.Unlock()
	if room == nil {
		return st
	}
	var pcs []*webrtc.PeerConnection
	if pc := room.LocalParticipant.GetPublisherPeerConnection(); pc != nil {
		pcs = append(pcs, pc)
	}
	if pc := room.LocalParticipant.GetSubscriberPeerConnection(); pc != nil {
		pcs = append(pcs, pc)
	}
	for _, pc := range pcs {
		for _, v := range pc.GetStats() {
			switch v := v.(type) {
			case webrtc.OutboundRTPStreamStats:
				add(st.Sent, v.Kind, StreamStats{Bytes: v.BytesSent, Packets: uint64(v.PacketsSent), NACKs: uint64(v.NACKCount), PLIs: uint64(v.PLICount)})
			case webrtc.InboundRTPStreamStats:
				add(st.Received, v.Kind, StreamStats{Bytes: v.BytesReceived, Packets: uint64(v.PacketsReceived),
					PacketsLost: int64(v.PacketsLost), NACKs: uint64(v.NACKCount), PLIs: uint64(v.PLICount)})
			case webrtc.RemoteInboundRTPStreamStats:
				add(st.Sent, v.Kind, StreamStats{PacketsLost: int64(v.PacketsLost)})
				if v.RoundTripTime > 0 {
					st.RoundTrip = max(st.RoundTrip, time.Duration(v.RoundTripTime*float64(time.Second)))
				}
				st.FractionLost = max(st.FractionLost, v.FractionLost)
			}
		}
	}
	return st
}

func add(m map[string]StreamStats, kind string, s StreamStats) {
	t := m[kind]
	t.Bytes += s.Bytes
	t.Packets += s.Packets
	t.PacketsLost += s.PacketsLost
	t.NACKs += s.NACKs
	t.PLIs += s.PLIs
	m[kind] = t
}

// inRoom notes the room whose numbers MediaStats reads; nil when left.
func (s *Session) inRoom(room *lksdk.Room) {
	s.mu.Lock()
	s.room = room
	s.mu.Unlock()
}
