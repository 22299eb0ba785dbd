package call

// The call's media path: how sound and pictures travel between the box and
// the call server, and why; and what to say when they cannot travel at all.
//
// The box reaches the server the ways the LiveKit Go SDK lets it: ICE over
// UDP, directly or through a TURN relay that the server offers in its join
// answer (LiveKit's own TURN, or servers in its rtc.turn_servers), which
// pion reaches over UDP, TCP or TLS as each relay's address says. ICE over
// TCP to the server's rtc.tcp_port, which browsers use when UDP is
// blocked, is out of reach: pion gathers TCP candidates only when its
// SettingEngine asks for them, and the SDK makes its SettingEngine itself
// with no way to ask (LiveKit's server knows: its ClientInfo.SupportsICETCP
// says no for Go). So where UDP is blocked, the box needs the server's TURN
// over TLS (README: "When the network blocks UDP").

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// Path is how the call's sound and pictures travel between the box and the
// call server.
type Path struct {
	// Via is the way: "direct over UDP", "relayed over TURN/TLS"...; ""
	// while not known.
	Via string
	// Why the call goes that way, when it is not the direct one.
	Why string
}

func (p Path) String() string {
	if p.Why == "" {
		return p.Via
	}
	return p.Via + ": " + p.Why
}

// pathOf reads the way pc's sound and pictures go: the ICE candidate pair
// it chose. The zero Path when it has none.
func pathOf(pc *webrtc.PeerConnection) Path {
	if pc == nil || pc.SCTP() == nil || pc.SCTP().Transport() == nil {
		return Path{}
	}
	pair, ok := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePairStats()
	if !ok {
		return Path{}
	}
	local, ok := pc.GetStats()[pair.LocalCandidateID].(webrtc.ICECandidateStats)
	if !ok {
		return Path{}
	}
	if local.CandidateType != webrtc.ICECandidateTypeRelay {
		return Path{Via: "direct over " + strings.ToUpper(local.Protocol)}
	}
	p := Path{Via: "relayed over TURN/" + strings.ToUpper(local.RelayProtocol)}
	switch {
	case pc.GetConfiguration().ICETransportPolicy == webrtc.ICETransportPolicyRelay:
		p.Why = "the call server asks for its relay"
	case local.RelayProtocol == "udp":
		p.Why = "the direct way does not get through"
	default:
		p.Why = "UDP seems blocked on this network"
	}
	return p
}

// notePath puts the way the call's media goes into the status, and says it
// when it is new: the box's peer connections choose it once they connect,
// which may be after the join.
func (s *Session) notePath(room *lksdk.Room) {
	pc := room.LocalParticipant.GetPublisherPeerConnection()
	if pc == nil {
		pc = room.LocalParticipant.GetSubscriberPeerConnection()
	}
	path := pathOf(pc)
	if path.Via == "" {
		return
	}
	changed := false
	s.state.update(func(st *Status) {
		if st.State == InCall && st.Path != path {
			st.Path, changed = path, true
		}
	})
	if changed && path.Why != "" {
		s.log.Warn("the call's sound and pictures go "+path.Via, "why", path.Why)
	} else if changed {
		s.log.Info("the call's sound and pictures go " + path.Via)
	}
}

// relayWatch notes, while a join runs, the TURN relays the call server
// offers in its answer: the SDK gives them to the peer connection it makes
// on that answer, and closes it again when the join fails, which is when
// they are needed (noMediaPath). It looks every pollEvery.
type relayWatch struct {
	mu     sync.Mutex
	relays []string // turn: and turns: addresses
	seen   bool     // the answer came: relays is what the server offers
	stop   context.CancelFunc
	done   chan struct{}
}

const pollEvery = 50 * time.Millisecond

func watchRelays(room *lksdk.Room) *relayWatch {
	ctx, stop := context.WithCancel(context.Background())
	w := &relayWatch{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			if pc := room.LocalParticipant.GetPublisherPeerConnection(); pc != nil {
				w.note(pc.GetConfiguration().ICEServers)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *relayWatch) note(servers []webrtc.ICEServer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = true
	for _, s := range servers {
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
				w.relays = append(w.relays, u)
			}
		}
	}
}

// result stops watching and says what the server offered, if its answer came.
func (w *relayWatch) result() (relays []string, answered bool) {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.relays, w.seen
}

// relayProbeTimeout bounds the check of one relay after a failed join.
const relayProbeTimeout = 3 * time.Second

// noMediaPathError is a join whose signalling worked but whose sound and
// pictures found no way to the server.
type noMediaPathError struct {
	server string // the call server's address
	relays string // what its relays offer, in words
	err    error  // the SDK's
}

// Error leads with what a person can act on: the screen's status line
// shows only its start.
func (e *noMediaPathError) Error() string {
	return fmt.Sprintf("UDP seems blocked on this network, and %s (the call server at %s answers, "+
		"but the call's sound and pictures cannot reach it): %v", e.relays, e.server, e.err)
}

func (e *noMediaPathError) Unwrap() error { return e.err }

// noMediaPath explains a join whose signalling worked but whose media did
// not connect: UDP blocked, and no relay offered or none that works from
// here (checked by connecting to each, which names a bad certificate or a
// closed port).
func noMediaPath(ctx context.Context, serverURL string, relays []string, err error) error {
	e := &noMediaPathError{server: serverURL, err: err,
		relays: "the call server offers no TURN relay to get around it: its admin can turn on TURN over TLS (see Callbox's README)"}
	if len(relays) > 0 {
		var problems []string
		for _, relay := range relays {
			if why := probeRelay(ctx, relay); why != "" {
				problems = append(problems, why)
			}
		}
		e.relays = "the call server's TURN relay answers but did not carry the call"
		if len(problems) > 0 {
			e.relays = "the call server's TURN relay does not work from here either: " + strings.Join(problems, "; ")
		}
	}
	return e
}

// probeRelay connects to a TURN relay the way pion would (TLS for turns:,
// TCP for transport=tcp) and says what fails; "" when it connects, or for
// a relay over UDP, which the blocked network decides.
func probeRelay(ctx context.Context, relay string) string {
	scheme, rest, _ := strings.Cut(relay, ":")
	hostPort, query, _ := strings.Cut(rest, "?")
	q, _ := url.ParseQuery(query)
	transport := q.Get("transport")
	if transport == "" && scheme == "turns" {
		transport = "tcp"
	}
	if transport != "tcp" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, relayProbeTimeout)
	defer cancel()
	name := "TURN over TCP at " + hostPort
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", hostPort)
	if err == nil && scheme == "turns" {
		name = "TURN over TLS at " + hostPort
		host, _, _ := net.SplitHostPort(hostPort)
		tc := tls.Client(conn, &tls.Config{ServerName: host})
		err = tc.HandshakeContext(ctx)
		conn = tc
	}
	if conn != nil {
		conn.Close()
	}
	if err != nil {
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) {
			return name + ": its certificate is not trusted here: " + certErr.Err.Error()
		}
		return name + ": " + err.Error()
	}
	return ""
}
