package call

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// The situations a box can be in when a button is pressed. The session's
// Run is not started: its state is set as Run would set it.
var situations = []string{"idle", "ringing", "joining", "in call", "reconnecting", "failed"}

// boxIn makes a session and controller in a situation: the box's own room
// is "family", the contacts are "grandma" and "office", and "neighbours" is
// the room that rings.
func boxIn(situation string) (*Session, *Controller) {
	idle := situation == "idle" || situation == "ringing"
	s := New(Options{Room: "family", Logger: quiet, StartIdle: idle})
	c := NewController(s, ControllerOptions{Contacts: []string{"grandma", "office"}, Logger: quiet})
	switch situation {
	case "ringing":
		c.Ring("neighbours")
	case "joining":
		s.state.set(Status{State: Joining})
	case "in call":
		s.state.set(Status{State: InCall})
	case "reconnecting":
		s.state.set(Status{State: Reconnecting, Err: errors.New("connection interrupted")})
	case "failed":
		s.state.set(Status{State: Failed, Err: errors.New("refused")})
	}
	return s, c
}

// effect describes what changed, as a person would notice it.
type snapshot struct {
	room      string
	inCall    bool
	muted     bool
	cameraOff bool
	ringing   string
}

func snap(s *Session, c *Controller) snapshot {
	room, inCall := s.Wanted()
	st := s.Status()
	return snapshot{room, inCall, st.Muted, st.CameraOff, c.Ringing()}
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
	if after.ringing != before.ringing {
		e = append(e, "ringing stops")
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
	// idle, ringing, joining, in call, reconnecting, failed.
	tests := []struct {
		action Action
		want   []string
	}{
		{ActionCall, []string{"join family", "join neighbours, ringing stops", "nothing", "nothing", "nothing", "nothing"}},
		{SpeedDial(1), []string{"join grandma", "join grandma, ringing stops", "join grandma", "join grandma", "join grandma", "join grandma"}},
		{SpeedDial(2), []string{"join office", "join office, ringing stops", "join office", "join office", "join office", "join office"}},
		{SpeedDial(3), []string{"nothing", "nothing", "nothing", "nothing", "nothing", "nothing"}},
		{ActionAnswer, []string{"nothing", "join neighbours, ringing stops", "nothing", "nothing", "nothing", "nothing"}},
		{ActionHangUp, []string{"nothing", "ringing stops", "leave", "leave", "leave", "leave"}},
		{ActionMute, []string{"muted true", "muted true", "muted true", "muted true", "muted true", "muted true"}},
		{ActionCamera, []string{"camera off true", "camera off true", "camera off true", "camera off true", "camera off true", "camera off true"}},
		{"volume_up", []string{"nothing", "nothing", "nothing", "nothing", "nothing", "nothing"}}, // the box's, not the call's
		{"dance", []string{"nothing", "nothing", "nothing", "nothing", "nothing", "nothing"}},
	}
	for _, tt := range tests {
		for i, situation := range situations {
			t.Run(string(tt.action)+" when "+situation, func(t *testing.T) {
				s, c := boxIn(situation)
				before := snap(s, c)
				did := c.Do(tt.action)
				if got := effect(before, snap(s, c)); got != tt.want[i] {
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
