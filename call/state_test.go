package call

import (
	"errors"
	"testing"
)

func TestWatchSeesTheNewestState(t *testing.T) {
	var m stateMachine
	w, stop := m.watch()
	defer stop()
	if s := <-w; s.State != Idle {
		t.Fatalf("a new watcher first sees %v, want idle", s.State)
	}
	// A watcher that does not keep up sees the newest state, not a backlog,
	// and the call is never held up by it.
	m.set(Status{State: Joining})
	m.set(Status{State: Failed, Err: errors.New("refused")})
	m.set(Status{State: Joining})
	m.set(Status{State: InCall})
	if s := <-w; s.State != InCall {
		t.Fatalf("a slow watcher sees %v, want the newest state, in call", s.State)
	}
	select {
	case s := <-w:
		t.Fatalf("a stale state %v is still queued", s.State)
	default:
	}

	late, stopLate := m.watch()
	defer stopLate()
	if s := <-late; s.State != InCall {
		t.Fatalf("a watcher that comes late first sees %v, want in call", s.State)
	}
	stop()
	m.set(Status{State: Reconnecting})
	select {
	case s := <-w:
		t.Fatalf("a stopped watcher still got %v", s.State)
	default:
	}
	if s := <-late; s.State != Reconnecting || m.get().State != Reconnecting {
		t.Fatalf("got %v, want reconnecting", s.State)
	}
}

func TestStateNames(t *testing.T) {
	want := map[State]string{Idle: "idle", Joining: "joining", InCall: "in call", Reconnecting: "reconnecting", Failed: "failed"}
	for s, name := range want {
		if s.String() != name {
			t.Errorf("%d is %q, want %q", s, s.String(), name)
		}
	}
}
