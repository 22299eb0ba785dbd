package call

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Action is something a person asks of the call with a button, a key or a
// remote. What it does depends on the call's state; Controller.Do decides.
// (The box's own actions, the speaker's volume and the factory reset, are
// not the call's: callboxd's controls do them.)
type Action string

// The call's actions, as the settings name them.
const (
	ActionCall   Action = "call"    // join the box's own room
	ActionAnswer Action = "answer"  // join the room that is ringing
	ActionHangUp Action = "hang_up" // leave the call (or decline a ringing one)
	ActionMute   Action = "mute"    // microphone off, or on again
	ActionCamera Action = "camera"  // camera privacy: stop sending pictures, or start again
	// ActionDoNotDisturb turns do not disturb on (calls are declined as
	// not available, and listed as missed) or off again.
	ActionDoNotDisturb Action = "do_not_disturb"
	// SpeedDialPrefix, with a number N from 1, joins contact N's room.
	SpeedDialPrefix = "speed_dial_"
)

// SpeedDial is the action that calls contact n (from 1).
func SpeedDial(n int) Action { return Action(SpeedDialPrefix + strconv.Itoa(n)) }

// ActionNames lists the call's actions for messages, speed dial as its pattern.
func ActionNames() []string {
	return []string{string(ActionCall), SpeedDialPrefix + "N", string(ActionAnswer), string(ActionHangUp),
		string(ActionMute), string(ActionCamera), string(ActionDoNotDisturb)}
}

// ParseAction reads an action as the settings write it. contacts is how many
// contacts there are: speed dial N needs contact N.
func ParseAction(s string, contacts int) (Action, error) {
	a := Action(strings.ToLower(strings.TrimSpace(s)))
	switch a {
	case ActionCall, ActionAnswer, ActionHangUp, ActionMute, ActionCamera, ActionDoNotDisturb:
		return a, nil
	}
	if n, ok := a.speedDial(); ok {
		if n < 1 || n > contacts {
			return "", fmt.Errorf("action %q: there is no contact %d (%d contacts are set)", s, n, contacts)
		}
		return a, nil
	}
	return "", fmt.Errorf("unknown action %q: use one of %s", s, strings.Join(ActionNames(), ", "))
}

// speedDial returns N for speed_dial_N.
func (a Action) speedDial() (int, bool) {
	rest, ok := strings.CutPrefix(string(a), SpeedDialPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// ControllerOptions say what the controller needs beyond the session.
type ControllerOptions struct {
	// Contacts are the rooms of speed dial 1, 2, ...
	Contacts []string
	// Meeting is the room of the meeting under way, "" for none; nil
	// without a calendar. The call action joins it rather than the box's
	// own room: one button joins the meeting.
	Meeting func() string
	Logger  *slog.Logger
}

// Controller is the call state machine's answer to actions: the one place
// that decides what a button, a key or a remote does in each state.
type Controller struct {
	session *Session
	opts    ControllerOptions
	log     *slog.Logger
	mu      sync.Mutex // one action at a time
}

// NewController makes a controller for session.
func NewController(session *Session, opts ControllerOptions) *Controller {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Controller{session: session, opts: opts, log: log}
}

// Do carries out an action in the current state and says what it did, in
// words for the log (and the tests).
func (c *Controller) Do(a Action) string {
	did := c.do(a)
	c.log.Info("control", "action", string(a), "did", did)
	return did
}

func (c *Controller) do(a Action) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	room, inCall := c.session.Wanted()
	status := c.session.Status()
	ringing := status.State == Ringing

	switch a {
	case ActionCall:
		if ringing { // the one big button answers what rings
			return c.answer(status)
		}
		if c.opts.Meeting != nil {
			if meeting := c.opts.Meeting(); meeting != "" {
				return c.callRoom(meeting, room, inCall)
			}
		}
		return c.callRoom(c.session.opts.Room, room, inCall)
	case ActionAnswer:
		if !ringing {
			return "nothing: no call is ringing"
		}
		return c.answer(status)
	case ActionHangUp:
		if ringing {
			if err := c.session.Decline(); err != nil {
				return "nothing: " + err.Error()
			}
			return "declined the call from " + callerNames(status.Callers)
		}
		if !inCall {
			return "nothing: not in a call"
		}
		c.session.Leave()
		if status.State == Calling {
			return "stopped calling " + status.Callee
		}
		return "left the call to " + room
	case ActionMute:
		c.session.SetMuted(!status.Muted)
		if status.Muted {
			return "microphone on"
		}
		return "microphone muted"
	case ActionCamera:
		c.session.SetCameraOff(!status.CameraOff)
		if status.CameraOff {
			return "camera on"
		}
		return "camera off"
	case ActionDoNotDisturb:
		if c.session.line == nil {
			return "nothing: the box has no line to ring (ring.enabled)"
		}
		c.session.SetDoNotDisturb(!status.DoNotDisturb)
		if status.DoNotDisturb {
			return "do not disturb off: calls ring"
		}
		return "do not disturb on: calls are declined as not available"
	}
	if n, ok := a.speedDial(); ok {
		if n < 1 || n > len(c.opts.Contacts) {
			return fmt.Sprintf("nothing: there is no contact %d", n)
		}
		target := c.opts.Contacts[n-1]
		if ringing && slices.ContainsFunc(status.Callers, func(cl Caller) bool { return cl.Line == target }) {
			return c.answer(status) // the contact rings already: one call, not two
		}
		did := ""
		if ringing && c.session.Decline() == nil {
			did = "declined the call from " + callerNames(status.Callers) + "; "
		}
		return did + c.callRoom(target, room, inCall)
	}
	return fmt.Sprintf("nothing: %q is not an action", string(a))
}

func (c *Controller) answer(status Status) string {
	if err := c.session.Answer(); err != nil {
		return "nothing: " + err.Error()
	}
	return "answering the call from " + callerNames(status.Callers)
}

// callerNames names who rings, for the log.
func callerNames(callers []Caller) string {
	var names []string
	for _, c := range callers {
		names = append(names, c.Shown())
	}
	if len(names) == 0 {
		return "nobody"
	}
	return strings.Join(names, ", ")
}

// callRoom joins target unless the box is already in (or joining) it; a
// call elsewhere is left first.
func (c *Controller) callRoom(target, current string, inCall bool) string {
	if inCall && current == target {
		return "nothing: already in the call to " + target
	}
	c.session.Join(target)
	if inCall {
		return fmt.Sprintf("left the call to %s; joining %s", current, target)
	}
	return "joining " + target
}
