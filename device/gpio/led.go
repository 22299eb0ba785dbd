package gpio

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Step is one part of a blink pattern: a brightness (0 off, 1 full) held
// for a while.
type Step struct {
	Brightness float64
	For        time.Duration
}

// Pattern is what an LED shows, played in a loop. One step is a steady light.
type Pattern []Step

// Patterns the daemon's state lights are made of.
var (
	Off    = Pattern{{Brightness: 0}}
	Steady = Pattern{{Brightness: 1}}
)

// Blink is on for on, then off for off, again and again.
func Blink(on, off time.Duration) Pattern {
	return Pattern{{Brightness: 1, For: on}, {Brightness: 0, For: off}}
}

// pwmFrequency is high enough that nobody sees a PWM-dimmed LED flicker.
const pwmFrequency = 1 * physic.KiloHertz

// LEDOptions say how an LED is wired.
type LEDOptions struct {
	Line      string // for error messages: the line as the settings name it
	ActiveLow bool   // the LED lights when the line is low (wired to the supply)
	// Brightness scales every step (0 < b ≤ 1; 0 means 1). Below full it
	// needs a line that can do PWM; a line that cannot is simply on.
	Brightness float64
}

// LED plays patterns on one output line.
type LED struct {
	pin  gpio.PinOut
	opts LEDOptions

	mu      sync.Mutex
	pattern Pattern
	changed chan struct{} // a new pattern waits; capacity 1
	noPWM   bool          // the line refused PWM once: on/off from then on
}

// NewLED claims pin as an output and turns the LED off. An error names the line.
func NewLED(pin gpio.PinOut, opts LEDOptions) (*LED, error) {
	if opts.Brightness <= 0 || opts.Brightness > 1 {
		opts.Brightness = 1
	}
	if opts.Line == "" {
		opts.Line = pin.Name()
	}
	l := &LED{pin: pin, opts: opts, pattern: Off, changed: make(chan struct{}, 1)}
	if err := l.set(0); err != nil {
		return nil, lineError(opts.Line, pin, err)
	}
	return l, nil
}

// Show makes p the pattern from now on; it never waits.
func (l *LED) Show(p Pattern) {
	l.mu.Lock()
	if slices.Equal(l.pattern, p) {
		l.mu.Unlock()
		return // the same again: it goes on, not from its start
	}
	l.pattern = p
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// Run plays the patterns given to Show until ctx ends, then turns the LED off.
func (l *LED) Run(ctx context.Context) error {
	defer func() { _ = l.set(0) }()
	for {
		l.mu.Lock()
		p := l.pattern
		l.mu.Unlock()
		if err := l.play(ctx, p); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// play runs p once from its start, or shows it until a new pattern comes
// when it is steady. It returns early when the pattern changes.
func (l *LED) play(ctx context.Context, p Pattern) error {
	for _, step := range p {
		if err := l.set(step.Brightness); err != nil {
			return fmt.Errorf("LED on GPIO line %s: %w", l.opts.Line, err)
		}
		var next <-chan time.Time
		if len(p) > 1 && step.For > 0 {
			t := time.NewTimer(step.For)
			defer t.Stop()
			next = t.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.changed:
			return nil
		case <-next:
		}
	}
	return nil
}

// set drives the line for a brightness, dimming with PWM where it can.
func (l *LED) set(brightness float64) error {
	b := brightness * l.opts.Brightness
	if b > 0 && b < 1 && !l.noPWM {
		duty := gpio.Duty(b * float64(gpio.DutyMax))
		if l.opts.ActiveLow {
			duty = gpio.DutyMax - duty
		}
		if err := l.pin.PWM(duty, pwmFrequency); err == nil {
			return nil
		}
		l.noPWM = true // e.g. the GPIO character device: no PWM there
	}
	on := b > 0
	return l.pin.Out(gpio.Level(on != l.opts.ActiveLow))
}
