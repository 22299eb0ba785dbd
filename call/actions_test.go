package call

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	lksdk "github.com/livekit/server-sdk-go/v2"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// The situations a box can be in when a button is pressed. The session's
// Run is not started: its state is set as Run would set it.
var situations = []string{"idle", "ringing", "joining", "in call", "calling", "reconnecting", "failed"}

// boxIn makes a session and controller in a situation: the box's own room
// (its line) is "family", the contacts are "grandma" and "office", and
// "Neighbours" rings.
func boxIn(situation string) (*Session, *Controller) {
	s := New(Options{Room: "family", Logger: quiet, Line: &LineOptions{}})
	c := NewController(s, ControllerOptions{Contacts: []string{"grandma", "office"}, Logger: quiet})
	here := &lineJoin{room: lksdk.NewRoom(nil), name: "family", own: true, kick: make(chan struct{}, 1)}
	switch situation {
	case "idle":
		s.state.update(func(st *Status) { st.State, st.Line = Idle, true })
	case "ringing":
		s.state.update(func(st *Status) {
			st.State, st.Line, st.Callers = Ringing, true, []Caller{{Identity: "guest-1", Name: "Neighbours"}}
		})
	case "calling":
		s.desire.set("grandma", true)
		here = &lineJoin{room: lksdk.NewRoom(nil), name: "grandma", sending: true, kick: make(chan struct{}, 1)}
		s.state.set(Status{State: Calling})
	default:
		s.desire.set("family", true)
		here.sending = true
		switch situation {
		case "joining":
			here = nil
			s.state.set(Status{State: Joining})
		case "in call":
			s.state.set(Status{State: InCall})
		case "reconnecting":
			here = nil
			s.state.set(Status{State: Reconnecting, Err: errors.New("connection interrupted")})
		case "failed":
			here = nil
			s.state.set(Status{State: Failed, Err: errors.New("refused")})
		}
	}
	s.line.cur = here
	return s, c
}

// snapshot is what a person would notice of an action.
type snapshot struct {
	room      string
	inCall    bool
	muted     bool
	cameraOff bool
	answer    bool // asked of the line
	decline   bool
}

func snap(s *Session) snapshot {
	room, inCall := s.Wanted()
	st := s.Status()
	sn := snapshot{room: room, inCall: inCall, muted: st.Muted, cameraOff: st.CameraOff}
	if j := s.line.cur; j != nil {
		sn.answer, sn.decline = j.answer, j.decline
	}
	return sn
}

func effect(before, after snapshot) string {
	var e []string
	if after.inCall != before.inCall || after.room != before.room {
		if after.inCall {
			e = append(e, "join "+after.room)
		} else {
			e = append(e, "leave")
		}
	}
	if after.answer && !before.answer {
		e = append(e, "answer")
	}
	if after.decline && !before.decline {
		e = append(e, "decline")
	}
	if after.muted != before.muted {
		e = append(e, fmt.Sprintf("muted %v", after.muted))
	}
	if after.cameraOff != before.cameraOff {
		e = append(e, fmt.Sprintf("camera off %v", after.cameraOff))
	}
	if len(e) == 0 {
		return "nothing"
	}
	return strings.Join(e, ", ")
}

func TestEachActionInEachState(t *testing.T) {
	// One row per action; the columns follow situations:
	// idle, ringing, joining, in call, calling (grandma), reconnecting, failed.
	all := func(e string) []string { return []string{e, e, e, e, e, e, e} }
	tests := []struct {
		action Action
		want   []string
	}{
		{ActionCall, []string{"join family", "answer", "nothing", "nothing", "join family", "nothing", "nothing"}},
		{SpeedDial(1), []string{"join grandma", "join grandma, decline", "join grandma", "join grandma", "nothing", "join grandma", "join grandma"}},
		{SpeedDial(2), []string{"join office", "join office, decline", "join office", "join office", "join office", "join office", "join office"}},
		{SpeedDial(3), all("nothing")},
		{ActionAnswer, []string{"nothing", "answer", "nothing", "nothing", "nothing", "nothing", "nothing"}},
		{ActionHangUp, []string{"nothing", "decline", "leave", "leave", "leave", "leave", "leave"}},
		{ActionMute, all("muted true")},
		{ActionCamera, all("camera off true")},
		{"volume_up", all("nothing")}, // the box's, not the call's
		{"dance", all("nothing")},
	}
	for _, tt := range tests {
		for i, situation := range situations {
			t.Run(string(tt.action)+" when "+situation, func(t *testing.T) {
				s, c := boxIn(situation)
				before := snap(s)
				did := c.Do(tt.action)
				if got := effect(before, snap(s)); got != tt.want[i] {
					t.Errorf("%s when %s: %s (said %q), want %s", tt.action, situation, got, did, tt.want[i])
				}
			})
		}
	}
}

func TestMuteAndCameraToggleAndOutlastTheCall(t *testing.T) {
	s, c := boxIn("in call")
	c.Do(ActionMute)
	c.Do(ActionCamera)
	if st := s.Status(); !st.Muted || !st.CameraOff {
		t.Fatalf("after mute and camera: %+v; want muted, camera off", st)
	}
	// The connection comes and goes: privacy stays.
	s.state.set(Status{State: Reconnecting, Err: errors.New("gone")})
	s.state.set(Status{State: InCall})
	if st := s.Status(); !st.Muted || !st.CameraOff {
		t.Fatalf("a reconnect undid the privacy choices: %+v", st)
	}
	c.Do(ActionMute)
	c.Do(ActionCamera)
	if st := s.Status(); st.Muted || st.CameraOff {
		t.Fatalf("pressed again: %+v; want microphone and camera on", st)
	}
}

func TestParseAction(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"call", "call", ""},
		{" Hang_Up ", "hang_up", ""},
		{"speed_dial_2", "speed_dial_2", ""},
		{"speed_dial_3", "", "no contact 3"},
		{"speed_dial_0", "", "no contact 0"},
		{"hangup", "", `unknown action "hangup": use one of call, speed_dial_N, answer, hang_up`},
	}
	for _, tt := range tests {
		got, err := ParseAction(tt.in, 2)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseAction(%q) = %v, want an error saying %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("ParseAction(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestSpeedDialToTheCallerAnswers: a box that rings with grandma's call and
// whose speed dial 1 is grandma answers her instead of calling her back:
// one call, not two.
func TestSpeedDialToTheCallerAnswers(t *testing.T) {
	s, c := boxIn("ringing")
	s.state.update(func(st *Status) { st.Callers = []Caller{{Identity: "box-g", Name: "Grandma", Line: "grandma"}} })
	before := snap(s)
	did := c.Do(SpeedDial(1))
	if got := effect(before, snap(s)); got != "answer" {
		t.Errorf("speed dial 1 while grandma rings: %s (said %q), want answer", got, did)
	}
}
