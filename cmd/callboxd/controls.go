package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	periph "periph.io/x/conn/v3/gpio"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/gpio"
)

// controls are the box's buttons, LEDs and key devices: presses become
// actions (the call's, done by its controller, or the box's own: the
// speaker's volume and the factory reset), the call's status becomes lights.
type controls struct {
	log        *slog.Logger
	controller *call.Controller
	session    *call.Session
	box        boxActions
	buttons    []*gpio.Button
	holds      map[string]string    // button action → its hold action
	leds       map[string]*gpio.LED // by config name: status, mute, camera
	keyDevices []string
	keyCodes   map[uint16]string // key code → action
}

// The box's own actions, beside the call's (call.Action): they act on the
// box rather than the call.
const (
	actionVolumeUp     = "volume_up" // the speaker's volume, one step
	actionVolumeDown   = "volume_down"
	actionFactoryReset = "factory_reset" // held only: what the page's factory reset does
)

// volumeStep is how much one press of volume up or down changes the
// speaker's volume, in percent.
const volumeStep = 10

// boxActions are the box's own actions for the buttons and the TV's
// remote: the speaker's volume and the shares. Factory reset is the
// buttons' only.
func (d *daemon) boxActions() boxActions {
	return boxActions{speaker: d.rx.mixer, share: d.contentAction, otherShare: d.rx.showOtherShare}
}

// boxActions are what the box's own actions act on.
type boxActions struct {
	// speaker is the volume of what the speaker plays (the receive side's
	// mixer); nil: no speaker.
	speaker interface {
		Volume() int
		SetVolume(percent int)
	}
	// factoryReset wipes the data directory and reopens first-boot setup,
	// as the setup page's factory reset does; nil with -config, where
	// there is no data directory.
	factoryReset func() error
	// share starts or stops the content share (content.go).
	share func(ctx context.Context, action string) (string, error)
	// otherShare shows the other of several shares large and says what
	// it did (receive.go).
	otherShare func() string
}

// openLine finds a GPIO line; tests put a fake here.
type openLine func(gpio.Line) (periph.PinIO, error)

// newControls opens and claims every line in cfg. An error names the line
// (missing, taken by another process, or given twice under two names).
func newControls(cfg config.Controls, session *call.Session, controller *call.Controller, box boxActions, open openLine, log *slog.Logger) (*controls, error) {
	c := &controls{
		log: log, controller: controller, session: session, box: box,
		holds: map[string]string{}, leds: map[string]*gpio.LED{}, keyCodes: map[uint16]string{},
		keyDevices: cfg.KeyDevices,
	}
	claimed := map[periph.PinIO]string{} // the same line by name and by chip:offset
	claim := func(field, spec string) (periph.PinIO, error) {
		line, err := gpio.ParseLine(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		pin, err := open(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		if other, ok := claimed[pin]; ok {
			return nil, fmt.Errorf("%s: GPIO line %s is the same line as %s: one line, one action", field, spec, other)
		}
		claimed[pin] = field + " (" + spec + ")"
		return pin, nil
	}
	for _, action := range slices.Sorted(maps.Keys(cfg.Buttons)) { // sorted: the same error every time
		b := cfg.Buttons[action]
		field := "controls.buttons." + action
		pin, err := claim(field+".line", b.Line)
		if err != nil {
			return nil, err
		}
		pull, _ := gpio.ParsePull(b.Pull) // validated
		opts := gpio.ButtonOptions{Name: action, Line: b.Line, ActiveLow: b.ActiveLow, Pull: pull}
		switch {
		case action == actionFactoryReset:
			opts.Hold = gpio.FactoryResetHold // only a long press resets
			c.holds[action] = actionFactoryReset
		case b.HoldAction != "":
			opts.Hold = gpio.FactoryResetHold
			c.holds[action] = b.HoldAction
		}
		button, err := gpio.NewButton(pin, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		c.buttons = append(c.buttons, button)
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.LEDs)) {
		l := cfg.LEDs[name]
		field := "controls.leds." + name
		pin, err := claim(field+".line", l.Line)
		if err != nil {
			return nil, err
		}
		led, err := gpio.NewLED(pin, gpio.LEDOptions{Line: l.Line, ActiveLow: l.ActiveLow, Brightness: l.Brightness})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		c.leds[name] = led
	}
	for name, action := range cfg.Keys {
		code, ok := gpio.KeyCode(name)
		if !ok {
			return nil, fmt.Errorf("controls.keys.%s: unknown key name", name) // validated already
		}
		c.keyCodes[code] = action
	}
	return c, nil
}

// run reads the buttons and keys and drives the LEDs until ctx ends.
// keepGoing restarts a key device that goes away (a keypad unplugged).
func (c *controls) run(ctx context.Context, keepGoing func(context.Context, string, func(context.Context) error)) {
	var wg sync.WaitGroup
	events := make(chan gpio.Event, 16)
	emit := func(e gpio.Event) {
		select {
		case events <- e:
		case <-ctx.Done():
		}
	}
	for _, b := range c.buttons {
		wg.Go(func() { _ = b.Run(ctx, emit) })
	}
	for _, device := range c.keyDevices {
		wg.Go(func() {
			keepGoing(ctx, "input device "+device, func(ctx context.Context) error {
				keys, err := gpio.OpenKeys(device)
				if err != nil {
					return err
				}
				defer keys.Close()
				c.log.Info("reading keys", "device", keys.Path(), "name", keys.Name())
				return keys.Run(ctx, c.keyCodes, emit)
			})
		})
	}
	for _, led := range c.leds {
		wg.Go(func() {
			if err := led.Run(ctx); err != nil {
				c.log.Error("LED stopped", "err", err)
			}
		})
	}
	statuses, stop := c.session.Watch()
	wg.Go(func() {
		defer stop()
		driveLEDs(ctx, statuses, c.leds)
	})
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-events:
				if a, ok := c.actionFor(e); ok {
					c.do(ctx, a)
				}
			}
		}
	})
	wg.Wait()
}

// actionFor is the action a press asks for: the button's or key's own, its
// hold action for a long press. A key's autorepeat only repeats the volume.
func (c *controls) actionFor(e gpio.Event) (string, bool) {
	if e.Long {
		a, ok := c.holds[e.Name]
		return a, ok
	}
	a := e.Name
	if a == actionFactoryReset {
		return "", false // a short press of the reset button does nothing
	}
	if e.Repeat && a != actionVolumeUp && a != actionVolumeDown {
		return "", false
	}
	return a, true
}

// do carries out an action: the box's own here, the call's by its controller.
func (c *controls) do(ctx context.Context, a string) {
	switch a {
	case actionVolumeUp, actionVolumeDown:
		did := "nothing: the box has no speaker"
		if c.box.speaker != nil {
			step := volumeStep
			if a == actionVolumeDown {
				step = -volumeStep
			}
			c.box.speaker.SetVolume(c.box.speaker.Volume() + step)
			did = fmt.Sprintf("volume %d%%", c.box.speaker.Volume())
		}
		c.log.Info("control", "action", a, "did", did)
	case actionFactoryReset:
		if c.box.factoryReset == nil {
			c.log.Warn("control", "action", a, "did", "nothing: callboxd runs with -config, there is no data directory to reset")
			return
		}
		c.log.Warn("control", "action", a, "did", "factory reset: the button was held")
		_ = c.box.factoryReset() // it logs what it could not remove
	case actionShare:
		if c.box.share == nil {
			c.log.Warn("control", "action", a, "did", "nothing: the box has no content input")
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		did, err := c.box.share(ctx, a)
		cancel()
		if err != nil {
			did = err.Error()
		}
		c.log.Info("control", "action", a, "did", did)
	case actionShareOther:
		did := "nothing: the box shows no screen"
		if c.box.otherShare != nil {
			did = c.box.otherShare()
		}
		c.log.Info("control", "action", a, "did", did)
	default:
		c.controller.Do(call.Action(a))
	}
}

// statusPattern is what the status LED shows for st: each situation can be
// told from the others across a room, without colours.
func statusPattern(st call.Status) gpio.Pattern {
	switch st.State {
	case call.Joining:
		return gpio.Blink(500*time.Millisecond, 500*time.Millisecond)
	case call.InCall:
		if st.Muted {
			return gpio.Pattern{{Brightness: 1, For: 1800 * time.Millisecond}, {Brightness: 0, For: 200 * time.Millisecond}} // on, with a short dark gap
		}
		return gpio.Steady
	case call.Reconnecting:
		return gpio.Blink(150*time.Millisecond, 150*time.Millisecond)
	case call.Ringing:
		return gpio.Blink(250*time.Millisecond, 250*time.Millisecond)
	case call.Calling:
		return gpio.Blink(time.Second, time.Second)
	case call.Failed: // two quick blinks, then dark
		return gpio.Pattern{{Brightness: 1, For: 150 * time.Millisecond}, {Brightness: 0, For: 150 * time.Millisecond}, {Brightness: 1, For: 150 * time.Millisecond}, {Brightness: 0, For: 1550 * time.Millisecond}}
	}
	return gpio.Pattern{{Brightness: 1, For: 100 * time.Millisecond}, {Brightness: 0, For: 2900 * time.Millisecond}} // idle: a blip every 3 s, alive, waiting
}

// driveLEDs shows each status on the LEDs: the status LED's pattern, the
// mute LED from the same Muted that stops the sound, the camera LED from
// CameraOff. leds may lack any of them.
func driveLEDs(ctx context.Context, statuses <-chan call.Status, leds map[string]*gpio.LED) {
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-statuses:
			if led := leds[config.LEDStatus]; led != nil {
				led.Show(statusPattern(st))
			}
			if led := leds[config.LEDMute]; led != nil {
				led.Show(onWhen(st.Muted))
			}
			if led := leds[config.LEDCamera]; led != nil {
				led.Show(onWhen(st.CameraOff))
			}
			if led := leds[config.LEDCall]; led != nil {
				led.Show(callPattern(st))
			}
		}
	}
}

// callPattern is what the call LED shows: blinking fast while a call
// rings, slowly while the box calls, lit while it sends, dark otherwise.
// Lit means the camera and microphone are open.
func callPattern(st call.Status) gpio.Pattern {
	switch {
	case st.State == call.Ringing:
		return gpio.Blink(250*time.Millisecond, 250*time.Millisecond)
	case st.State == call.Calling:
		return gpio.Blink(time.Second, time.Second)
	case st.CallWanted && (st.State == call.InCall || st.State == call.Joining || st.State == call.Reconnecting):
		return gpio.Steady
	}
	return gpio.Off
}

func onWhen(on bool) gpio.Pattern {
	if on {
		return gpio.Steady
	}
	return gpio.Off
}

// startControls wires cfg's controls to the session, or does nothing when
// there are none. Lines that cannot be had are an error here, at start.
func (d *daemon) startControls(ctx context.Context, wg *sync.WaitGroup) error {
	cfg := d.cfg.Controls
	if !cfg.Configured() {
		return nil
	}
	box := d.boxActions()
	box.factoryReset = d.factoryReset // a held button; no remote's key
	open := d.openLine
	if open == nil {
		open = gpio.Open
	}
	c, err := newControls(cfg, d.session, d.controller, box, open, d.log)
	if err != nil {
		return err
	}
	d.log.Info("controls ready", "buttons", len(c.buttons), "leds", len(c.leds), "keys", len(c.keyCodes), "key_devices", cfg.KeyDevices)
	wg.Go(func() { c.run(ctx, d.keepGoing) })
	return nil
}
