package call

// Getting back into the call. Three things go wrong on real networks: the
// network drops for a few seconds (Wi-Fi), for longer (a cable, an access
// point changing), or the call server restarts.
//
//   - Silence: the call server reports on the box's tracks about once a
//     second (RTCP). When nothing came for silentAfter while the box was
//     sending, the status says so at once ("reconnecting: the network
//     dropped 3 s ago"); when reports come again the media has come back
//     by itself, a keyframe is sent and the status says "back in the
//     call". A blackout shorter than WebRTC's own timeouts (about 15 s)
//     needs nothing more.
//   - Silent, but the server answers: when nothing came for silentAfter
//     but the server answers a TCP connection, the network is there and
//     the call is not (in a cluster, the node that held the room died
//     while the box signalled through another): the box joins afresh.
//   - Lost: when the SDK gives up on its connection (ICE failed, the
//     signalling connection closed, the server asks for a reconnection),
//     the box leaves that connection at once and joins afresh as soon as
//     the server answers a TCP connection (probed twice a second),
//     publishing the microphone before the camera. The SDK's own recovery
//     is not used: it tries to resume, then rejoins with waits of 0.3 to
//     24 s between tries, each try up to 8 s long, so after a long
//     blackout the box came back up to half a minute after the network
//     did; and a try of its still under way when the network returned
//     resumed the old session by the box's identity, cutting off the new
//     one the box had just joined with.
//   - A join that fails for another reason is tried again after 1, 2, 4 …
//     30 s, and sooner when the server, which did not answer, answers.

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
)

// errInterrupted is the reason given when the SDK reports its connection
// interrupted, which the box answers by joining afresh.
var errInterrupted = errors.New("the connection to the call server was interrupted")

// errMediaLost is the reason given when the call server answers but says
// nothing of the box's media: the network is there, the call is not. In a
// cluster the node that held the room died while the box's signalling
// went through another, which notices only after about 10 s: the box
// joins afresh at once, and the room is made again on a node that lives.
var errMediaLost = errors.New("the call server answers, but the call's media stopped (in a cluster: the room's node is gone)")

const (
	// silentAfter: no report from the call server for this long, while the
	// box sends, is a network that dropped (reports come once a second).
	silentAfter = 3 * time.Second
	// probeEvery is how often the call server is asked whether it answers
	// while the box waits to get back in; each try waits up to probeTimeout.
	probeEvery   = 500 * time.Millisecond
	probeTimeout = 3 * time.Second
)

// heardFromServer notes a report from the call server on one of the box's tracks.
func (s *Session) heardFromServer() { s.heard.Store(time.Now().UnixNano()) }

// noteSent marks a frame sent. After a pause in sending longer than
// silentAfter (a line that sent nothing until the answer, a muted box with
// its camera off) the call server had nothing to report on: its silence
// counts from now, not from its last report before the pause.
func (s *Session) noteSent() {
	now := time.Now().UnixNano()
	if before := s.sent.Swap(now); now-before > int64(silentAfter) {
		s.heard.Store(now)
	}
}

// droppedAt is when the box last heard from the call server, or now.
func (s *Session) droppedAt() time.Time {
	if heard := s.heard.Load(); heard != 0 {
		return time.Unix(0, heard)
	}
	return time.Now()
}

// silentSince says when the call server went silent, if it did: nothing
// heard for silentAfter while the box sent all along (a muted box with its
// camera off sends nothing, and is told nothing).
func (s *Session) silentSince(now time.Time) (time.Time, bool) {
	heard, sent := time.Unix(0, s.heard.Load()), time.Unix(0, s.sent.Load())
	if now.Sub(heard) < silentAfter || sent.Before(heard.Add(silentAfter)) {
		return time.Time{}, false
	}
	return heard, true
}

// stay keeps the box in the call until ctx ends (nil) or the call drops
// (why). While the server is silent the status says reconnecting, and
// when it speaks again "back in the call".
func (s *Session) stay(ctx context.Context, room *lksdk.Room, dropped <-chan error) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	silent := false
	var before State // what the silence broke into: InCall, or Calling (line.go)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-dropped:
			return err
		case now := <-tick.C:
			if st := s.state.get(); st.State == InCall && st.Path.Via == "" {
				s.notePath(room) // known once ICE has chosen; unchanged after, in this room
			}
			since, quiet := s.silentSince(now)
			switch {
			case quiet:
				if !silent {
					silent = true
					st := s.state.get()
					before = st.State
					s.state.set(Status{State: Reconnecting, Since: since, Path: st.Path})
					s.log.Warn("nothing heard from the call server; waiting for the network", "since", since.Format(time.TimeOnly))
				}
				if s.serverAnswers(ctx) {
					return errMediaLost
				}
			case !quiet && silent:
				silent = false
				s.keyframeWanted() // what receivers lost meanwhile breaks their pictures until one
				var silentFor time.Duration
				s.state.update(func(st *Status) {
					if st.State != Reconnecting { // the line moved on meanwhile
						return
					}
					silentFor = now.Sub(st.Since)
					st.State, st.Err, st.Since, st.Back = before, nil, now, before == InCall
				})
				s.log.Info("back in the call", "silent_for", silentFor.Round(100*time.Millisecond))
			}
		}
	}
}

// serverAnswers reports whether the call server the box is on answers a
// TCP connection within probeEvery: while the box hears nothing of its
// media, whether the network or the call is gone.
func (s *Session) serverAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, probeEvery)
	defer cancel()
	return probe(ctx, s.serverURL()) == nil
}

// waitForServer waits, after the call dropped at lost, until the call
// server answers; the status says why it waits. It returns at once when
// the server answers now, and after lastRetry without an answer, for a
// join whose error says more.
func (s *Session) waitForServer(ctx context.Context, lost time.Time) {
	ctx, cancel := context.WithTimeout(ctx, lastRetry)
	results := s.probeServer(ctx)
	defer func() {
		cancel()
		for range results { // the probes end with ctx
		}
	}()
	said := ""
	for err := range results {
		if err == nil {
			return
		}
		if err = explain(s.serverURL(), err); err.Error() != said {
			said = err.Error()
			s.state.set(Status{State: Reconnecting, Err: err, Since: lost})
		}
	}
}

// removeLostSession asks the call server to put out the box's session of
// the call (or line) roomName that dropped, before the box joins again: the server may still
// count it in the room (it notices a silent participant only after about
// 20 s, and the leave the box sent when it gave that session up reaches
// it seconds after the network is back). When the old session's leave
// reaches the others after the new session's join, LiveKit's Go SDK
// takes it for the new session's, by identity (v2.19, room.go
// OnParticipantUpdate): to them the box left just after it came back, and
// they forget the keys it had sent them (e2ee_group.go) and see no more of
// its pictures. The box needs its API key and secret for this; with a
// token alone the server is left to notice.
func (s *Session) removeLostSession(ctx context.Context, roomName string) {
	if s.opts.APIKey == "" || s.opts.APISecret == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if err := s.removeFrom(ctx, roomName, s.opts.Identity); err != nil {
		s.log.Debug("the lost session was not put out (it may be gone already)", "err", err)
	}
}

// waitRetry waits d before another join after err, or less when err was
// an unreachable server and the server answers again.
func (s *Session) waitRetry(ctx context.Context, d time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if !unreachable(err) {
		<-ctx.Done()
		return
	}
	results := s.probeServer(ctx)
	defer func() {
		cancel()
		for range results { // the probes end with ctx
		}
	}()
	down := false
	for err := range results {
		if err != nil {
			down = true
		} else if down {
			return
		}
	}
}

// probeServer asks the call server whether it answers, a TCP connection
// to its address (with a cluster, another when it does not: servers.go), every probeEvery until ctx ends, and sends each answer
// (nil: it answered) on the channel it returns, which it closes once the
// last probe has ended. A probe waits up to probeTimeout, so several are
// under way at once: a network that comes back is seen within probeEvery,
// and a slow one still answers.
func (s *Session) probeServer(ctx context.Context) <-chan error {
	results := make(chan error)
	go func() {
		var probes sync.WaitGroup
		defer func() {
			probes.Wait()
			close(results)
		}()
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for {
			probes.Go(func() {
				err := s.probeCluster(ctx) // servers.go
				select {
				case results <- err:
				case <-ctx.Done():
				}
			})
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return results
}

// unreachable reports whether err says the call server could not be
// reached at all, rather than that it answered with a refusal.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &dnsErr) || errors.Is(err, os.ErrDeadlineExceeded)
}

// probe asks whether the call server at serverURL answers: a TCP
// connection to its address, given up after probeTimeout.
func probe(ctx context.Context, serverURL string) error {
	addr, err := serverAddr(serverURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// serverAddr is the host and port of a call server's address (ws://,
// wss://, http://, https://), the port from the scheme when not given.
func serverAddr(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" || u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
