package call

// Indication is what the box's status light says: one for each situation a
// person needs to tell apart from across the room.
type Indication int

const (
	ShowIdle         Indication = iota // not in a call
	ShowJoining                        // connecting
	ShowInCall                         // in the call, the microphone open
	ShowMuted                          // in the call, the microphone muted
	ShowReconnecting                   // the connection dropped; getting it back
	ShowError                          // the call cannot be joined; retrying
	ShowSetupNeeded                    // the box has not been set up yet
)

// Indications lists every indication, for tables that must cover them all.
var Indications = []Indication{ShowIdle, ShowJoining, ShowInCall, ShowMuted, ShowReconnecting, ShowError, ShowSetupNeeded}

func (i Indication) String() string {
	switch i {
	case ShowIdle:
		return "idle"
	case ShowJoining:
		return "joining"
	case ShowInCall:
		return "in call"
	case ShowMuted:
		return "muted"
	case ShowReconnecting:
		return "reconnecting"
	case ShowError:
		return "error"
	case ShowSetupNeeded:
		return "setup needed"
	}
	return "unknown"
}

// Indication is what the status light shows for s. Setup needed is not a
// call state: the daemon shows it before there are settings to call with.
func (s Status) Indication() Indication {
	switch s.State {
	case Joining:
		return ShowJoining
	case InCall:
		if s.Muted {
			return ShowMuted
		}
		return ShowInCall
	case Reconnecting:
		return ShowReconnecting
	case Failed:
		return ShowError
	}
	return ShowIdle
}
