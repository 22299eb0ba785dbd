package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/callbox/callbox/device/gpio"
)

// Controls are the box's buttons, LEDs, keys and remotes. Empty, the box
// has none and joins its room at start as it always did.
type Controls struct {
	// StartInCall joins call.room at start; false waits for a call button.
	StartInCall bool `toml:"start_in_call"`
	// Contacts are rooms for speed dial: speed_dial_1 calls the first.
	Contacts []string `toml:"contacts,omitempty"`
	// ContactNames are the contacts' names as people see them (the setup
	// page, the screen), by room; a contact without one is shown as its room.
	ContactNames map[string]string `toml:"contact_names,omitempty"`
	// Buttons maps an action to the GPIO line of its button.
	Buttons map[string]Button `toml:"buttons,omitempty"`
	// LEDs maps "status", "mute", "camera" or "call" to the GPIO line of its LED.
	LEDs map[string]LED `toml:"leds,omitempty"`
	// Keys maps a key name (KEY_VOLUMEUP) to an action, for the keys of
	// the input devices in KeyDevices.
	Keys       map[string]string `toml:"keys,omitempty"`
	KeyDevices []string          `toml:"key_devices,omitempty"`
}

// Button is a push button on a GPIO line.
type Button struct {
	Line      string `toml:"line"` // "GPIO17" (a line name) or "gpiochip0:17"
	ActiveLow bool   `toml:"active_low"`
	Pull      string `toml:"pull"` // "up", "down", "none", or "" to leave it
	// HoldAction is done when the button is held for 10 s, e.g. factory_reset.
	HoldAction string `toml:"hold_action,omitempty"`
}

// LED is a light on a GPIO line.
type LED struct {
	Line      string `toml:"line"`
	ActiveLow bool   `toml:"active_low"`
	// Brightness from 0 to 1 (0 means full); below 1 needs a line with PWM.
	Brightness float64 `toml:"brightness,omitempty"`
}

// The LEDs the box knows.
const (
	LEDStatus = "status" // a pattern per call state
	LEDMute   = "mute"   // lit while the microphone is muted
	LEDCamera = "camera" // lit while the camera is off
	LEDCall   = "call"   // blinks while a call rings, lit while the box sends
)

// Configured reports whether any control is set.
func (c Controls) Configured() bool {
	return len(c.Buttons) > 0 || len(c.LEDs) > 0 || len(c.Keys) > 0
}

func (c Controls) validate(callSettings Call, bad func(field, format string, args ...any)) {
	for i, room := range c.Contacts {
		if strings.TrimSpace(room) == "" {
			bad("controls.contacts", "contact %d is empty: give the room to call", i+1)
		} else if err := CheckName(room, MaxRoomLength); err != nil {
			bad("controls.contacts", "contact %d %v", i+1, err)
		}
	}
	for _, room := range sortedKeys(c.ContactNames) {
		if !slices.Contains(c.Contacts, room) {
			bad("controls.contact_names."+room, "%q is not one of controls.contacts", room)
		} else if strings.TrimSpace(c.ContactNames[room]) == "" {
			bad("controls.contact_names."+room, "is empty: give a name, or leave the room out")
		} else if err := CheckName(c.ContactNames[room], MaxNameLength); err != nil {
			bad("controls.contact_names."+room, "%v", err)
		}
	}
	if len(c.Contacts) > 0 && callSettings.Token != "" {
		bad("controls.contacts", "contacts need call.api_key and call.api_secret: a call.token is for one room only")
	}
	action := func(field, s string) {
		if err := checkAction(s, len(c.Contacts)); err != nil {
			bad(field, "%v", err)
		}
	}

	lines := map[string]string{} // line → what uses it, to find a line used twice
	useLine := func(field, line, user string) {
		l, err := gpio.ParseLine(line)
		if err != nil {
			bad(field, "%v", err)
			return
		}
		if other, taken := lines[l.String()]; taken {
			bad(field, "line %s is also the %s: one line, one action", l, other)
			return
		}
		lines[l.String()] = user
	}
	for _, name := range sortedKeys(c.Buttons) {
		b := c.Buttons[name]
		field := "controls.buttons." + name
		action(field, name)
		useLine(field+".line", b.Line, name+" button")
		if _, err := gpio.ParsePull(b.Pull); err != nil {
			bad(field+".pull", "%v", err)
		}
		if b.HoldAction != "" {
			action(field+".hold_action", b.HoldAction)
		}
	}
	for _, name := range sortedKeys(c.LEDs) {
		l := c.LEDs[name]
		field := "controls.leds." + name
		if !oneOf(name, LEDStatus, LEDMute, LEDCamera, LEDCall) {
			bad(field, "unknown LED %q: use %s, %s, %s or %s", name, LEDStatus, LEDMute, LEDCamera, LEDCall)
		}
		useLine(field+".line", l.Line, name+" LED")
		if l.Brightness < 0 || l.Brightness > 1 {
			bad(field+".brightness", "%g is not from 0 to 1", l.Brightness)
		}
	}
	for _, key := range sortedKeys(c.Keys) {
		field := "controls.keys." + key
		if _, ok := gpio.KeyCode(key); !ok {
			bad(field, "unknown key name %q: use the kernel's names, such as KEY_VOLUMEUP, KEY_MUTE, BTN_0 (evtest shows them)", key)
		}
		action(field, c.Keys[key])
	}
	if len(c.Keys) > 0 && len(c.KeyDevices) == 0 {
		bad("controls.key_devices", "is empty: name the input devices to read the keys from, e.g. /dev/input/event0 or \"gpio-keys\"")
	}
	for _, d := range c.KeyDevices {
		if strings.TrimSpace(d) == "" {
			bad("controls.key_devices", "has an empty device name")
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Actions are the names of what a button or key can do: the call's (as
// call.ParseAction reads them) and the box's own, the speaker's volume and
// the factory reset, the content share and the choice of which share is
// shown large (callboxd's controls). A test in cmd/callboxd keeps the
// lists in step; config does not import call. Speed dial is
// SpeedDialPrefix and a contact's number.
var Actions = []string{"call", "answer", "hang_up", "mute", "camera", "do_not_disturb", "volume_up", "volume_down", "factory_reset", "share", "share_other"}

// SpeedDialPrefix, with a number N from 1, calls contact N.
const SpeedDialPrefix = "speed_dial_"

func checkAction(s string, contacts int) error {
	if oneOf(s, Actions...) {
		return nil
	}
	if rest, ok := strings.CutPrefix(s, SpeedDialPrefix); ok {
		if n, err := strconv.Atoi(rest); err == nil {
			if n < 1 || n > contacts {
				return fmt.Errorf("action %q: there is no contact %d (controls.contacts has %d)", s, n, contacts)
			}
			return nil
		}
	}
	return fmt.Errorf("unknown action %q: use one of %s, %sN", s, strings.Join(Actions, ", "), SpeedDialPrefix)
}
