package call

import (
	"errors"
	"fmt"
	"reflect"
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
	Ringing                   // someone calls the box's line; nothing is sent until answered (line.go)
	Calling                   // in another's line, sending, waiting for it to answer (line.go)
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
	case Ringing:
		return "ringing"
	case Calling:
		return "calling"
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
	// Reconnects counts the times the call was lost (Reconnecting
	// entered) since the session began, for the box's metrics.
	Reconnects int
	// Path is how the call's sound and pictures travel, in InCall.
	Path Path
	// Server is the call server the box last joined through: with a
	// cluster (Options.OtherURLs), the one it is on.
	Server string
	// Muted and CameraOff are the person's privacy choices (SetMuted,
	// SetCameraOff): while set, no sound or no pictures leave the box. They
	// outlast every change of State.
	Muted, CameraOff bool

	// CallWanted: the person wants a call (Join, an answer): camera and
	// microphone are open only while it is set. With a line, a box that is
	// not in a call is in its line, wanting none.
	CallWanted bool
	// Line: the box is in its own line, reachable (Idle or Ringing).
	Line bool
	// Callers ring the box (Ringing), the first to ring first.
	Callers []Caller
	// Callee is the line the box calls (Calling) or is in a call in,
	// when it is another's; Heard is what it heard from there while
	// calling: "" (nothing yet) or RingRinging.
	Callee, Heard string
	// Outcome is how the box's last call out ended when nobody answered
	// it: the callee and RingDeclined, RingNoAnswer or RingNotAvailable;
	// zero once another call starts.
	Outcome Outcome
	// DoNotDisturb: calls are declined as not available and listed as
	// missed (Session.SetDoNotDisturb).
	DoNotDisturb bool
	// AutoAnswerIn counts down, in whole seconds, to the box answering a
	// ringing call by itself (LineOptions.AutoAnswer); 0: it will not.
	AutoAnswerIn int
	// Missed are the calls that rang the line unanswered, newest first
	// (the last 20); LastCallAt is when the box was last in a call, so a
	// screen can show those missed since.
	Missed     []MissedCall
	LastCallAt time.Time
}

// Outcome is how a call out ended.
type Outcome struct {
	Callee string
	State  string
	At     time.Time
}

// backFor is how long the box says "back in the call" after it got back.
const backFor = 10 * time.Second

// Summary says the status in plain words for the screen and the status
// page, at now: "in the call", "reconnecting: the network dropped 12 s
// ago", "back in the call", "waiting for calls" (in the line). Err and
// Path are told apart from it.
func (s Status) Summary(now time.Time) string {
	switch s.State {
	case Idle:
		if s.Line {
			return "waiting for calls"
		}
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

// Text is the status as one line for the screen: Summary, the reason for
// it, and the path when it is not the direct one.
func (s Status) Text(now time.Time) string {
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

// set changes the state, its reason, time, path and whether it is a
// return (Since is now unless given); the rest stays: the privacy
// choices, and what the line keeps (line.go).
func (m *stateMachine) set(s Status) {
	if s.Since.IsZero() {
		s.Since = time.Now()
	}
	m.update(func(cur *Status) {
		if s.State == Reconnecting && cur.State != Reconnecting {
			cur.Reconnects++
		}
		cur.State, cur.Err, cur.Since, cur.Back, cur.Path = s.State, s.Err, s.Since, s.Back, s.Path
	})
}

// update changes the status under the lock and tells the watchers.
func (m *stateMachine) update(change func(*Status)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	change(&s)
	if reflect.DeepEqual(s, m.status) {
		return // nothing new to tell
	}
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
