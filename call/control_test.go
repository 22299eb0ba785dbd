package call

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
)

// waitFor waits until the session's state is want, and fails after a while.
func waitFor(t *testing.T, s *Session, want State) {
	t.Helper()
	w, stop := s.Watch()
	defer stop()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case st := <-w:
			if st.State == want {
				return
			}
		case <-deadline:
			t.Fatalf("the session is %v, never %v", s.Status().State, want)
		}
	}
}

// refusingServer is an address on 127.0.0.1 where nothing listens.
func refusingServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ws://" + addr
}

// Run follows Leave and Join: hanging up while the box is still trying to
// reach the server stops the attempt and makes it idle; calling starts
// again. What each attempt started has ended when Run returns.
func TestRunLeavesAndJoinsAgain(t *testing.T) {
	daemontest.CheckGoroutines(t)
	UseLogger(quiet) // the SDK's complaints about the refused connection
	s := New(Options{URL: refusingServer(t), Room: "family", Identity: "box", APIKey: "k", APISecret: "s", Logger: quiet, StartIdle: true,
		Remote: RemoteOptions{OnMembers: func([]Member) {}}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, s, Idle)
	s.Join("family")
	waitFor(t, s, Joining)
	waitFor(t, s, Failed) // the refusal is told, not retried in a tight loop
	s.Leave()
	waitFor(t, s, Idle)
	if room, inCall := s.Wanted(); inCall || room != "family" {
		t.Errorf("after Leave: wanted %q in call %v; want not in a call, last room family", room, inCall)
	}
	s.Join("grandma")
	waitFor(t, s, Joining)
	if room, _ := s.Wanted(); room != "grandma" {
		t.Errorf("joining %q, want grandma", room)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if st := s.Status().State; st != Idle {
		t.Errorf("after Run ended the state is %v, want idle", st)
	}
}
