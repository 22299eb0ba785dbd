package config

import "slices"

// Ring is how calls reach the box: its line, how long a call rings, who
// is answered by itself, and do not disturb.
type Ring struct {
	// Enabled keeps the box in call.room, its line, whenever it is not in
	// a call: connected but sending nothing, camera and microphone closed.
	// Someone who joins the line (another box calling, a guest with an
	// invite) makes the box ring. Needs controls.start_in_call = false and
	// call.api_key and call.api_secret.
	Enabled bool `toml:"enabled"`
	// TimeoutS is how long a call rings before the caller hears "no answer".
	TimeoutS int `toml:"timeout_s"`
	// AutoAnswer lists contacts (their rooms, as in controls.contacts)
	// whose calls the box answers by itself after AutoAnswerAfterS of
	// ringing, counting down on the screen: for people who cannot reach
	// the button. Off (empty) by default.
	AutoAnswer       []string `toml:"auto_answer,omitempty"`
	AutoAnswerAfterS int      `toml:"auto_answer_after_s"`
	// DoNotDisturb starts the box declining calls as "not available",
	// listing them as missed; the do_not_disturb action turns it on and off.
	DoNotDisturb bool `toml:"do_not_disturb"`
	// QuietHours are ranges of the day, "HH:MM-HH:MM" in the box's local
	// time ("22:00-07:00" crosses midnight), during which the box is in
	// do not disturb by itself, and out of it after. The do_not_disturb
	// action during them (or outside) holds until the next start or end.
	QuietHours []string `toml:"quiet_hours,omitempty"`
}

func defaultRing() Ring { return Ring{TimeoutS: 45, AutoAnswerAfterS: 10} }

func (r Ring) validate(c Config, bad func(field, format string, args ...any)) {
	if r.TimeoutS < 5 || r.TimeoutS > 600 {
		bad("ring.timeout_s", "%d is not from 5 to 600 seconds", r.TimeoutS)
	}
	if r.AutoAnswerAfterS < 3 || r.AutoAnswerAfterS >= r.TimeoutS {
		bad("ring.auto_answer_after_s", "%d is not from 3 seconds to under ring.timeout_s (%d)", r.AutoAnswerAfterS, r.TimeoutS)
	}
	if _, err := ParseQuietHours(r.QuietHours); err != nil {
		bad("ring.quiet_hours", "%v", err)
	}
	for _, room := range r.AutoAnswer {
		if !slices.Contains(c.Controls.Contacts, room) {
			bad("ring.auto_answer", "%q is not one of controls.contacts", room)
		}
	}
	if !r.Enabled {
		return
	}
	if c.Controls.StartInCall {
		bad("ring.enabled", "a box that rings waits in its line between calls: set controls.start_in_call = false")
	}
	if c.Call.Token != "" {
		bad("ring.enabled", "needs call.api_key and call.api_secret: the box makes its own tokens for its line and for calling out, a call.token is for one room")
	}
}
