package config

import "strings"

// CEC is the TV's HDMI-CEC: the box wakes the TV and takes its input when
// a call rings or is answered, gives it back when the call ends, and the
// TV remote's keys answer, hang up, mute and set the volume.
type CEC struct {
	// Enabled: on by default; a TV without CEC, or a board without a CEC
	// adapter, changes nothing (one line in the log says so).
	Enabled bool `toml:"enabled"`
	// Device is the CEC adapter, "/dev/cecN", or "auto": the first one
	// with a TV behind it (a physical address other than 0.0.0.0, the
	// TV's own, and f.f.f.f, nothing plugged in).
	Device string `toml:"device"`
}

// CECAuto picks the CEC adapter by itself.
const CECAuto = "auto"

func defaultCEC() CEC { return CEC{Enabled: true, Device: CECAuto} }

func (c CEC) validate(bad func(field, format string, args ...any)) {
	if c.Device != CECAuto && !strings.HasPrefix(c.Device, "/dev/") {
		bad("cec.device", "%q is not %s or a CEC adapter's device file such as /dev/cec0", c.Device, CECAuto)
	}
}
