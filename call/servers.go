package call

// A cluster's servers. LiveKit scales out as nodes that share Redis: a
// room lives on one node, and the box's signalling may land on any. When
// the node the box signals through dies, the box must go on through
// another: Options.OtherURLs lists them, tried in turn after Options.URL.
// When the node that held the room dies, the room is made again on a node
// that lives once LiveKit marks the dead one unavailable (about 5 s) and
// its participants join again, which the box does by itself
// (reconnect.go).
//
//   - Waiting to get back in (waitForServer, waitRetry), the box probes
//     the server it is on; when that one does not answer, the others in
//     turn, and goes on through the first that does.
//   - A join that fails moves the box to the next server for the next
//     try; the waits between tries grow only once every server was tried.
//
// One server (or one name behind a load balancer) is a list of one: the
// box keeps trying it, as before.

import "context"

// servers are the call servers the box may join through, in order.
func (s *Session) servers() []string {
	return append([]string{s.opts.URL}, s.opts.OtherURLs...)
}

// serverURL is the call server the box joins through now.
func (s *Session) serverURL() string {
	servers := s.servers()
	return servers[int(s.server.Load())%len(servers)]
}

// nextServer moves the box to the next server for its next join, and
// reports whether that is the first again: every server was tried.
func (s *Session) nextServer() (round bool) {
	n := int32(len(s.servers()))
	for {
		at := s.server.Load()
		next := (at + 1) % n
		if s.server.CompareAndSwap(at, next) {
			if n > 1 {
				s.log.Info("the join failed; going on through another call server", "url", s.servers()[next])
			}
			return next == 0
		}
	}
}

// probeCluster asks the server the box is on whether it answers, and when
// it does not, the others in turn: the first that answers is the one the
// box goes on through. nil when one answered; else the first server's error.
func (s *Session) probeCluster(ctx context.Context) error {
	servers := s.servers()
	at := s.server.Load()
	var first error
	for i := range int32(len(servers)) {
		try := (at + i) % int32(len(servers))
		err := probe(ctx, servers[try])
		if err == nil {
			if try != at && s.server.CompareAndSwap(at, try) {
				s.log.Info("the call server does not answer; going on through another",
					"down", servers[at], "url", servers[try])
			}
			return nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return first
}
