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
func boxIn(situation string, resets *int) (*Session, *Controller) {
	idle := situation == "idle" || situation == "ringing"
	s := New(Options{Room: "family", Logger: quiet, StartIdle: idle})
	c := NewController(s, ControllerOptions{
		Contacts: []string{"grandma", "office"}, Volume: 50, Logger: quiet,
		OnFactoryReset: func() { *resets++ },
	})
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
	volume    int
	ringing   string
	resets    int
}

func snap(s *Session, c *Controller, resets int) snapshot {
	room, inCall := s.Wanted()
	st := s.Status()
	return snapshot{room, inCall, st.Muted, st.CameraOff, c.Volume(), c.Ringing(), resets}
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
	if after.volume != before.volume {
		e = append(e, fmt.Sprintf("volume %d", after.volume))
	}
	if after.resets != before.resets {
		e = append(e, "factory reset asked")
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
		{ActionVolumeUp, []string{"volume 60", "volume 60", "volume 60", "volume 60", "volume 60", "volume 60"}},
		{ActionVolumeDown, []string{"volume 40", "volume 40", "volume 40", "volume 40", "volume 40", "volume 40"}},
		{ActionFactoryReset, []string{"factory reset asked", "factory reset asked", "factory reset asked", "factory reset asked", "factory reset asked", "factory reset asked"}},
		{"dance", []string{"nothing", "nothing", "nothing", "nothing", "nothing", "nothing"}},
	}
	for _, tt := range tests {
		for i, situation := range situations {
			t.Run(string(tt.action)+" when "+situation, func(t *testing.T) {
				resets := 0
				s, c := boxIn(situation, &resets)
				before := snap(s, c, resets)
				did := c.Do(tt.action)
				if got := effect(before, snap(s, c, resets)); got != tt.want[i] {
					t.Errorf("%s when %s: %s (said %q), want %s", tt.action, situation, got, did, tt.want[i])
				}
			})
		}
	}
}

func TestMuteAndCameraToggleAndOutlastTheCall(t *testing.T) {
	s, c := boxIn("in call", new(int))
	c.Do(ActionMute)
	c.Do(ActionCamera)
	if st := s.Status(); !st.Muted || !st.CameraOff || st.Indication() != ShowMuted {
		t.Fatalf("after mute and camera: %+v, indication %v; want muted, camera off, shown as muted", st, st.Indication())
	}
	// The connection comes and goes: privacy stays.
	s.state.set(Status{State: Reconnecting, Err: errors.New("gone")})
	s.state.set(Status{State: InCall})
	if st := s.Status(); !st.Muted || !st.CameraOff {
		t.Fatalf("a reconnect undid the privacy choices: %+v", st)
	}
	c.Do(ActionMute)
	c.Do(ActionCamera)
	if st := s.Status(); st.Muted || st.CameraOff || st.Indication() != ShowInCall {
		t.Fatalf("pressed again: %+v; want microphone and camera on", st)
	}
}

func TestVolumeStaysWithinLimits(t *testing.T) {
	_, c := boxIn("idle", new(int))
	for range 20 {
		c.Do(ActionVolumeUp)
	}
	if c.Volume() != 100 {
		t.Errorf("volume %d after many ups, want 100", c.Volume())
	}
	for range 20 {
		c.Do(ActionVolumeDown)
	}
	if c.Volume() != 0 {
		t.Errorf("volume %d after many downs, want 0", c.Volume())
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

func TestIndicationOfEachState(t *testing.T) {
	tests := []struct {
		status Status
		want   Indication
	}{
		{Status{State: Idle}, ShowIdle},
		{Status{State: Idle, Muted: true}, ShowIdle}, // the mute LED says it; the status light says idle
		{Status{State: Joining}, ShowJoining},
		{Status{State: InCall}, ShowInCall},
		{Status{State: InCall, Muted: true}, ShowMuted},
		{Status{State: Reconnecting}, ShowReconnecting},
		{Status{State: Failed}, ShowError},
	}
	for _, tt := range tests {
		if got := tt.status.Indication(); got != tt.want {
			t.Errorf("%+v shows %v, want %v", tt.status, got, tt.want)
		}
	}
	seen := map[string]bool{}
	for _, i := range Indications {
		if seen[i.String()] || i.String() == "unknown" {
			t.Errorf("indication %d has name %q, not unique", i, i)
		}
		seen[i.String()] = true
	}
}
