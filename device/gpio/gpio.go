// Package gpio owns the box's physical controls: buttons and LEDs on GPIO
// lines (through periph.io and the kernel's GPIO character device), and key
// events from evdev input devices (gpio-keys, USB keypads, HDMI-CEC remotes).
// It debounces buttons, tells short presses from long ones, and plays blink
// patterns on LEDs. It hands out named events and takes patterns; it does not
// know what a press means or what a pattern says: the call state machine and
// the daemon decide that.
package gpio

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Event is one press of a button or a key. Name is what the caller named
// the button or key when it asked for it to be watched (the daemon uses the
// action's name).
type Event struct {
	Name string
	// Long is set for a press held for the button's Hold time.
	Long bool
	// Repeat is set for the autorepeat of a key held down (evdev only).
	Repeat bool
	At     time.Time
}

// Line says where a GPIO line is: on a chip at an offset, or by the line's
// name as the board's device tree (or gpio-sim) gives it.
type Line struct {
	Chip   string // "gpiochip0", "/dev/gpiochip0" or the chip's label; empty when found by Name
	Offset int
	Name   string // the line's name, e.g. "GPIO17"; empty when found by Chip and Offset
}

// ParseLine reads a line as written in the settings: "gpiochip0:17" (chip
// and offset) or "GPIO17" (a line name).
func ParseLine(s string) (Line, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Line{}, fmt.Errorf("empty GPIO line: write a line name such as GPIO17, or chip:offset such as gpiochip0:17")
	}
	if chip, offset, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.Atoi(offset)
		if err != nil || n < 0 {
			return Line{}, fmt.Errorf("GPIO line %q: the offset after the colon must be a number from 0, as in gpiochip0:17", s)
		}
		if chip == "" {
			return Line{}, fmt.Errorf("GPIO line %q: name the chip before the colon, as in gpiochip0:17", s)
		}
		return Line{Chip: chip, Offset: n}, nil
	}
	return Line{Name: s}, nil
}

func (l Line) String() string {
	if l.Name != "" {
		return l.Name
	}
	return fmt.Sprintf("%s:%d", l.Chip, l.Offset)
}

// ParsePull reads a pull setting: "up", "down", "none" (floating) or ""
// (leave it as the board set it).
func ParsePull(s string) (gpio.Pull, error) {
	switch strings.ToLower(s) {
	case "":
		return gpio.PullNoChange, nil
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	case "none":
		return gpio.Float, nil
	}
	return gpio.PullNoChange, fmt.Errorf("pull %q is not one of up, down, none", s)
}
