package call

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// State is where the box is in a call. The call state machine is the one
// place that decides it; the screen, the LEDs and the page only watch it.
type State int

const (
	Idle         State = iota // not in a call and not trying to be
	Joining                   // connecting to the call server
	InCall                    // joined and sending
	Reconnecting              // the connection dropped; getting it back
	Failed                    // the last attempt failed; Err says why, a retry follows
)

func (s State) String() string {
	switch s {
	case Idle:
		return "idle"
	case Joining:
		return "joining"
	case InCall:
		return "in call"
	case Reconnecting:
		return "reconnecting"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Status is a state with the reason for it.
type Status struct {
	State State
	// Err says what went wrong, in Failed and Reconnecting.
	Err error
	// Since is when the state began; in Reconnecting, when the box last
	// heard from the call server: when the network dropped.
	Since time.Time
	// Back: in the call again after it was lost (InCall after Reconnecting).
	Back bool
	// Path is how the call's sound and pictures travel, in InCall.
	Path Path
	// Muted and CameraOff are the person's privacy choices (SetMuted,
	// SetCameraOff): while set, no sound or no pictures leave the box. They
	// outlast every change of State.
	Muted, CameraOff bool
}

// backFor is how long the box says "back in the call" after it got back.
const backFor = 10 * time.Second

// Summary says the status in plain words for the screen and the status
// page, at now: "in the call", "reconnecting: the network dropped 12 s
// ago", "back in the call". Err and Path are told apart from it.
func (s Status) Summary(now time.Time) string {
	switch s.State {
	case Idle:
		return "not in a call"
	case Joining:
		return "joining the call"
	case InCall:
		if s.Back && now.Sub(s.Since) < backFor {
			return "back in the call"
		}
		return "in the call"
	case Reconnecting:
		what := "the network dropped"
		if errors.Is(s.Err, syscall.ECONNREFUSED) {
			what = "the call server went away"
		}
		return fmt.Sprintf("reconnecting: %s %s ago", what, ago(now.Sub(s.Since)))
	case Failed:
		return "not in the call"
	}
	return s.State.String()
}

// Line is the status as one line for the screen: Summary, the reason for
// it, and the path when it is not the direct one.
func (s Status) Line(now time.Time) string {
	line := s.Summary(now)
	if s.Err != nil && s.State != InCall {
		line += " — " + s.Err.Error()
	}
	if s.State == InCall && s.Path.Why != "" {
		line += ", " + s.Path.String()
	}
	return line
}

// ago writes a duration as people say it: "12 s", "3 min 5 s".
func ago(d time.Duration) string {
	sec := int(max(d, 0).Round(time.Second) / time.Second)
	if sec < 60 {
		return fmt.Sprintf("%d s", sec)
	}
	if sec < 3600 {
		return fmt.Sprintf("%d min %d s", sec/60, sec%60)
	}
	return fmt.Sprintf("%d h %d min", sec/3600, sec%3600/60)
}

// stateMachine holds the current status and tells watchers of every change.
type stateMachine struct {
	mu       sync.Mutex
	status   Status
	watchers map[chan Status]struct{}
}

func (m *stateMachine) get() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// set changes the state, its reason, time and path (Since is now unless
// given); the privacy choices stay.
func (m *stateMachine) set(s Status) {
	if s.Since.IsZero() {
		s.Since = time.Now()
	}
	m.update(func(cur *Status) {
		s.Muted, s.CameraOff = cur.Muted, cur.CameraOff
		*cur = s
	})
}

// update changes the status under the lock and tells the watchers.
func (m *stateMachine) update(change func(*Status)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	change(&s)
	m.status = s
	for w := range m.watchers {
		// A watcher keeps only the newest status: a slow watcher sees the
		// latest state, never a stale one, and never blocks the call.
		select {
		case <-w:
		default:
		}
		w <- s
	}
}

// watch returns a channel that receives the current status now and every
// change after, and a function that stops it.
func (m *stateMachine) watch() (<-chan Status, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.watchers == nil {
		m.watchers = make(map[chan Status]struct{})
	}
	w := make(chan Status, 1)
	w <- m.status
	m.watchers[w] = struct{}{}
	return w, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.watchers, w)
	}
}
