package gpio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// DefaultDebounce is how long a line must stay still after an edge before
// its new level counts: longer than a push button's contact bounce (a few
// ms), shorter than a person notices.
const DefaultDebounce = 30 * time.Millisecond

// FactoryResetHold is the hold of the factory-reset button (the 10 s).
const FactoryResetHold = 10 * time.Second

// idlePoll bounds each wait for an edge so that a line without Halt support
// (periph's fake) still notices the end of its context.
const idlePoll = time.Second

// ButtonOptions say how a button is wired and what its presses are called.
type ButtonOptions struct {
	Name      string    // carried by every Event of this button
	Line      string    // for error messages: the line as the settings name it
	ActiveLow bool      // pressed pulls the line low (the usual wiring with a pull-up)
	Pull      gpio.Pull // the line's bias; gpio.PullNoChange leaves it
	Debounce  time.Duration
	// Hold, when set, makes a press held this long a long press (Event.Long),
	// and then a short press is only told at release, when it is known to be
	// short. Without Hold a press is told as soon as it has settled.
	Hold time.Duration
}

// Button watches one input line for presses.
type Button struct {
	pin  gpio.PinIn
	opts ButtonOptions
}

// NewButton claims pin as an input with edge events. An error names the line.
func NewButton(pin gpio.PinIn, opts ButtonOptions) (*Button, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Line == "" {
		opts.Line = pin.Name()
	}
	if err := pin.In(opts.Pull, gpio.BothEdges); err != nil {
		return nil, lineError(opts.Line, pin, err)
	}
	return &Button{pin: pin, opts: opts}, nil
}

func (b *Button) pressed() bool {
	return bool(b.pin.Read()) != b.opts.ActiveLow
}

// Run tells emit of every press until ctx ends. A button already held down
// when Run starts is ignored until it is released: a stuck or held button at
// power-up must not start a call or a factory reset.
func (b *Button) Run(ctx context.Context, emit func(Event)) error {
	stop := context.AfterFunc(ctx, func() { _ = b.pin.Halt() })
	defer stop()

	down := b.pressed()
	ignoreUntilRelease := down
	var downSince time.Time
	longTold := false
	for ctx.Err() == nil {
		wait := idlePoll
		holding := down && !ignoreUntilRelease && b.opts.Hold > 0 && !longTold
		if holding {
			wait = min(wait, max(time.Until(downSince.Add(b.opts.Hold)), time.Millisecond))
		}
		if !b.pin.WaitForEdge(wait) {
			if holding && !time.Now().Before(downSince.Add(b.opts.Hold)) {
				longTold = true
				emit(Event{Name: b.opts.Name, Long: true, At: time.Now()})
			}
			continue
		}
		firstEdge := time.Now()
		// Bouncing contacts make a burst of edges: the level counts once the
		// line has been still for the debounce time.
		for b.pin.WaitForEdge(b.opts.Debounce) && ctx.Err() == nil {
		}
		if ctx.Err() != nil {
			break
		}
		now := b.pressed()
		if now == down {
			continue // a glitch: it went back to where it was
		}
		down = now
		switch {
		case down:
			downSince, longTold = firstEdge, false
			if b.opts.Hold == 0 && !ignoreUntilRelease {
				emit(Event{Name: b.opts.Name, At: time.Now()})
			}
		case ignoreUntilRelease:
			ignoreUntilRelease = false
		case b.opts.Hold > 0 && !longTold:
			emit(Event{Name: b.opts.Name, At: time.Now()})
		}
	}
	return nil
}

// lineError explains a line that cannot be claimed, naming it.
func lineError(line string, pin any, err error) error {
	if isBusy(err) {
		if c, ok := pin.(interface{ Consumer() string }); ok && c.Consumer() != "" {
			return fmt.Errorf("GPIO line %s is taken by another process (%s): %w", line, c.Consumer(), err)
		}
		return fmt.Errorf("GPIO line %s is taken by another process: %w", line, err)
	}
	return fmt.Errorf("GPIO line %s: %w", line, err)
}

// isBusy reports a line that another process holds. periph flattens the
// errno into text, so the text is checked too.
func isBusy(err error) bool {
	return errors.Is(err, syscall.EBUSY) || strings.Contains(err.Error(), syscall.EBUSY.Error())
}
