package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	periph "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/gpio"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// config does not import call; its list of actions must be call's and
// the box's own.
func TestActionNamesAgree(t *testing.T) {
	want := append(slices.Clone(config.Actions), config.SpeedDialPrefix+"N")
	got := append(call.ActionNames(), actionVolumeUp, actionVolumeDown, actionFactoryReset, actionShare, actionShareOther)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("call and the box know actions %v, config %v", got, want)
	}
}

// runLED runs led until the test ends (in a synctest bubble, which waits
// for it), failing the test if the LED fails.
func runLED(t *testing.T, led *gpio.LED) {
	t.Helper()
	if err := led.Run(t.Context()); err != nil {
		t.Errorf("LED: %v", err)
	}
}

// timeline samples a pattern on an LED every 100 ms for 3 s: "#" lit, "." dark.
func timeline(t *testing.T, p gpio.Pattern) string {
	t.Helper()
	var s strings.Builder
	synctest.Test(t, func(t *testing.T) {
		pin := &gpiotest.Pin{N: "STATUS"}
		led, err := gpio.NewLED(pin, gpio.LEDOptions{})
		if err != nil {
			t.Fatal(err)
		}
		go runLED(t, led)
		led.Show(p)
		start := time.Now()
		for i := range 30 {
			time.Sleep(time.Until(start.Add(time.Duration(i)*100*time.Millisecond + 50*time.Millisecond)))
			synctest.Wait()
			if pin.Read() {
				s.WriteByte('#')
			} else {
				s.WriteByte('.')
			}
		}
	})
	return s.String()
}

func TestStatusLEDPatternPerState(t *testing.T) {
	tests := []struct {
		name   string
		status call.Status
		want   string
	}{
		{"idle", call.Status{State: call.Idle}, "#............................."},
		{"idle, muted", call.Status{State: call.Idle, Muted: true}, "#............................."}, // the mute LED says it
		{"joining", call.Status{State: call.Joining}, "#####.....#####.....#####....."},
		{"in call", call.Status{State: call.InCall}, "##############################"},
		{"muted", call.Status{State: call.InCall, Muted: true}, "##################..##########"},
		{"reconnecting", call.Status{State: call.Reconnecting}, "#..#..#..#..#..#..#..#..#..#.."},
		{"failed", call.Status{State: call.Failed}, "#..#................#..#......"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := timeline(t, statusPattern(tt.status))
		if got != tt.want {
			t.Errorf("%s: the status LED shows\n%s\nwant\n%s", tt.name, got, tt.want)
		}
		if other, ok := seen[got]; ok && tt.status.State != call.Idle {
			t.Errorf("%s looks the same as %s", tt.name, other)
		}
		seen[got] = tt.name
	}
}

// fakeLines hands out gpiotest pins by line, the same pin for the same
// spelling, as the real lines are; aliases maps a second spelling to a line.
type fakeLines struct {
	pins    map[string]*gpiotest.Pin
	aliases map[string]string
}

func (f *fakeLines) open(l gpio.Line) (periph.PinIO, error) {
	name := l.String()
	if real, ok := f.aliases[name]; ok {
		name = real
	}
	if f.pins == nil {
		f.pins = map[string]*gpiotest.Pin{}
	}
	p, ok := f.pins[name]
	if !ok {
		if strings.HasPrefix(name, "gpiochip9") {
			return nil, fmt.Errorf("GPIO line %s: no GPIO chip gpiochip9", l)
		}
		p = &gpiotest.Pin{N: name, EdgesChan: make(chan periph.Level)}
		f.pins[name] = p
	}
	return p, nil
}

func boxControls() config.Controls {
	return config.Controls{
		Contacts: []string{"grandma"},
		Buttons: map[string]config.Button{
			"call":         {Line: "GPIO17", ActiveLow: true, Pull: "up", HoldAction: "factory_reset"},
			"hang_up":      {Line: "GPIO27", ActiveLow: true, Pull: "up"},
			"mute":         {Line: "gpiochip0:5", ActiveLow: true, Pull: "up"},
			"speed_dial_1": {Line: "GPIO6", ActiveLow: true, Pull: "up"},
		},
		LEDs: map[string]config.LED{"status": {Line: "GPIO22"}, "mute": {Line: "GPIO23"}, "camera": {Line: "GPIO24"}},
	}
}

func TestControlsNameTheLineAtStart(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*config.Controls)
		aliases map[string]string
		open    openLine
		says    string
	}{
		{"no such chip", func(c *config.Controls) { c.Buttons["hang_up"] = config.Button{Line: "gpiochip9:3"} }, nil, nil,
			"controls.buttons.hang_up.line: GPIO line gpiochip9:3: no GPIO chip gpiochip9"},
		{"one line under two names", nil, map[string]string{"gpiochip0:5": "GPIO17"}, nil,
			"controls.buttons.mute.line: GPIO line gpiochip0:5 is the same line as controls.buttons.call.line (GPIO17)"},
		{"this machine's GPIO (none here, or not that chip)", func(c *config.Controls) {
			c.Buttons = map[string]config.Button{"call": {Line: "gpiochip9:3"}}
			c.LEDs = nil
		}, nil, gpio.Open, "controls.buttons.call.line: GPIO line gpiochip9:3: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := boxControls()
			if tt.change != nil {
				tt.change(&cfg)
			}
			open := tt.open
			if open == nil {
				open = (&fakeLines{aliases: tt.aliases}).open
			}
			s := call.New(call.Options{Room: "family", StartIdle: true, Logger: quietLog})
			_, err := newControls(cfg, s, call.NewController(s, call.ControllerOptions{Logger: quietLog}), boxActions{}, open, quietLog)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("newControls: %v, want an error saying %q", err, tt.says)
			}
		})
	}
}

// pressable is the box's controls running on fake lines, in a synctest
// bubble: press pushes a button for hold and lets go.
type pressable struct {
	lines *fakeLines
	press func(line string, hold time.Duration)
}

// runControls starts the controls of cfg on fake lines until the test ends;
// call it inside synctest.Test.
func runControls(t *testing.T, cfg config.Controls, s *call.Session, box boxActions) pressable {
	t.Helper()
	lines := &fakeLines{}
	controller := call.NewController(s, call.ControllerOptions{Contacts: cfg.Contacts, Logger: quietLog})
	c, err := newControls(cfg, s, controller, box, lines.open, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(ctx, func(context.Context, string, func(context.Context) error) {})
	}()
	t.Cleanup(func() { cancel(); <-done })
	synctest.Wait()
	return pressable{lines: lines, press: func(line string, hold time.Duration) {
		pin := lines.pins[line]
		pin.EdgesChan <- periph.Low
		time.Sleep(hold)
		pin.EdgesChan <- periph.High
		time.Sleep(time.Second)
		synctest.Wait()
	}}
}

// Presses on fake lines become actions of the call's controller, and the
// LEDs follow: the mute LED is lit exactly while the session is muted.
func TestPressesBecomeActionsAndLEDsFollow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := call.New(call.Options{Room: "family", StartIdle: true, Logger: quietLog})
		resets := 0
		box := boxActions{factoryReset: func() error { resets++; return nil }}
		c := runControls(t, boxControls(), s, box)
		press, lines := c.press, c.lines
		lit := func(line string) bool { return bool(lines.pins[line].Read()) }

		press("GPIO17", 200*time.Millisecond)
		if room, inCall := s.Wanted(); !inCall || room != "family" {
			t.Fatalf("after the call button: wanted %q, in call %v; want the family room", room, inCall)
		}
		press("gpiochip0:5", 200*time.Millisecond)
		if !s.Status().Muted || !lit("GPIO23") {
			t.Errorf("after mute: muted %v, mute LED lit %v; want both", s.Status().Muted, lit("GPIO23"))
		}
		press("gpiochip0:5", 200*time.Millisecond)
		if s.Status().Muted || lit("GPIO23") {
			t.Errorf("after unmute: muted %v, mute LED lit %v; want neither", s.Status().Muted, lit("GPIO23"))
		}
		press("GPIO6", 200*time.Millisecond)
		if room, _ := s.Wanted(); room != "grandma" {
			t.Errorf("speed dial 1 joins %q, want grandma", room)
		}
		press("GPIO27", 200*time.Millisecond)
		if _, inCall := s.Wanted(); inCall {
			t.Errorf("after hang up the box still wants to be in a call")
		}
		if resets != 0 {
			t.Fatalf("a factory reset was asked for by short presses")
		}
		press("GPIO17", 11*time.Second) // held: the call button's hold action
		if resets != 1 {
			t.Errorf("holding the call button 11 s asked for %d factory resets, want 1", resets)
		}
		if _, inCall := s.Wanted(); inCall {
			t.Errorf("a long press of the call button also called")
		}
	})
}

func TestMuteAndCameraLEDsFollowTheStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pins := map[string]*gpiotest.Pin{}
		leds := map[string]*gpio.LED{}
		for _, name := range []string{config.LEDStatus, config.LEDMute, config.LEDCamera} {
			pins[name] = &gpiotest.Pin{N: name}
			leds[name], _ = gpio.NewLED(pins[name], gpio.LEDOptions{})
			go runLED(t, leds[name])
		}
		statuses := make(chan call.Status)
		go driveLEDs(t.Context(), statuses, leds)
		for _, st := range []call.Status{
			{State: call.InCall, Muted: true},
			{State: call.InCall},
			{State: call.Idle, Muted: true, CameraOff: true},
			{State: call.Reconnecting, CameraOff: true},
		} {
			statuses <- st
			synctest.Wait()
			if got := bool(pins[config.LEDMute].Read()); got != st.Muted {
				t.Errorf("%+v: mute LED lit %v, want %v", st, got, st.Muted)
			}
			if got := bool(pins[config.LEDCamera].Read()); got != st.CameraOff {
				t.Errorf("%+v: camera LED lit %v, want %v", st, got, st.CameraOff)
			}
		}
	})
}

func newIdleSession() *call.Session {
	return call.New(call.Options{Room: "family", StartIdle: true, Logger: quietLog})
}
