package gpio

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// edge is the line changing to level at a moment after the test's start.
type edge struct {
	at    time.Duration
	level gpio.Level
}

const (
	low  = gpio.Low
	high = gpio.High
)

// pressButton runs a button on a fake line, plays the edges on a fake
// clock, and returns what the button told, as "short 130ms" or "long 10.1s"
// (time since the start).
func pressButton(t *testing.T, opts ButtonOptions, startLevel *gpio.Level, edges []edge, until time.Duration) []string {
	t.Helper()
	var got []string
	synctest.Test(t, func(t *testing.T) {
		pin := &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)}
		b, err := NewButton(pin, opts)
		if err != nil {
			t.Fatal(err)
		}
		if startLevel != nil {
			_ = pin.Out(*startLevel)
		}
		start := time.Now()
		var mu sync.Mutex
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			err := b.Run(ctx, func(e Event) {
				mu.Lock()
				defer mu.Unlock()
				kind := "short"
				if e.Long {
					kind = "long"
				}
				if e.Name != opts.Name {
					t.Errorf("event named %q, want %q", e.Name, opts.Name)
				}
				got = append(got, fmt.Sprintf("%s %v", kind, e.At.Sub(start)))
			})
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		for _, e := range edges {
			time.Sleep(time.Until(start.Add(e.at)))
			pin.EdgesChan <- e.level
		}
		time.Sleep(time.Until(start.Add(until)))
		cancel()
		<-done
	})
	return got
}

func TestButtonDebounceAndHold(t *testing.T) {
	pressedAtStart := low
	tests := []struct {
		name      string
		activeLow bool
		pull      gpio.Pull
		hold      time.Duration
		start     *gpio.Level
		edges     []edge
		want      []string
	}{
		{"clean press is told once it settled", true, gpio.PullUp, 0, nil,
			[]edge{{100 * time.Millisecond, low}, {300 * time.Millisecond, high}},
			[]string{"short 130ms"}},
		{"bouncing contacts are one press", true, gpio.PullUp, 0, nil,
			[]edge{{100 * time.Millisecond, low}, {102 * time.Millisecond, high}, {104 * time.Millisecond, low},
				{107 * time.Millisecond, high}, {110 * time.Millisecond, low},
				{400 * time.Millisecond, high}, {403 * time.Millisecond, low}, {405 * time.Millisecond, high}},
			[]string{"short 140ms"}},
		{"a spike shorter than the debounce is no press", true, gpio.PullUp, 0, nil,
			[]edge{{100 * time.Millisecond, low}, {105 * time.Millisecond, high}},
			nil},
		{"two presses are two", true, gpio.PullUp, 0, nil,
			[]edge{{100 * time.Millisecond, low}, {200 * time.Millisecond, high}, {300 * time.Millisecond, low}, {302 * time.Millisecond, high}, {304 * time.Millisecond, low}, {500 * time.Millisecond, high}},
			[]string{"short 130ms", "short 334ms"}},
		{"active high with a pull-down", false, gpio.PullDown, 0, nil,
			[]edge{{100 * time.Millisecond, high}, {200 * time.Millisecond, low}},
			[]string{"short 130ms"}},
		{"active high ignores its release", false, gpio.PullDown, 0, nil,
			[]edge{{100 * time.Millisecond, low}},
			nil},
		{"held 10 s is a long press, told while held", true, gpio.PullUp, FactoryResetHold, nil,
			[]edge{{100 * time.Millisecond, low}, {103 * time.Millisecond, high}, {105 * time.Millisecond, low}, {12 * time.Second, high}},
			[]string{"long 10.1s"}},
		{"a bounce while held does not restart the hold", true, gpio.PullUp, FactoryResetHold, nil,
			[]edge{{100 * time.Millisecond, low}, {5 * time.Second, high}, {5*time.Second + 4*time.Millisecond, low}},
			[]string{"long 10.1s"}},
		{"released before the hold is a short press, told at release", true, gpio.PullUp, FactoryResetHold, nil,
			[]edge{{100 * time.Millisecond, low}, {600 * time.Millisecond, high}},
			[]string{"short 630ms"}},
		{"released just before 10 s is short", true, gpio.PullUp, FactoryResetHold, nil,
			[]edge{{100 * time.Millisecond, low}, {10 * time.Second, high}},
			[]string{"short 10.03s"}},
		{"held down at start is ignored until released", true, gpio.PullUp, FactoryResetHold, &pressedAtStart,
			[]edge{{11 * time.Second, high}, {12 * time.Second, low}, {12*time.Second + 200*time.Millisecond, high}},
			[]string{"short 12.23s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ButtonOptions{Name: "call", ActiveLow: tt.activeLow, Pull: tt.pull, Hold: tt.hold}
			got := pressButton(t, opts, tt.start, tt.edges, 25*time.Second)
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("presses told: %q, want %q", got, tt.want)
			}
		})
	}
}

func TestButtonSetsThePull(t *testing.T) {
	for _, pull := range []gpio.Pull{gpio.PullUp, gpio.PullDown, gpio.Float} {
		pin := &gpiotest.Pin{N: "GPIO5", EdgesChan: make(chan gpio.Level)}
		if _, err := NewButton(pin, ButtonOptions{Pull: pull}); err != nil {
			t.Fatal(err)
		}
		if pin.Pull() != pull {
			t.Errorf("line pull is %v, want %v", pin.Pull(), pull)
		}
	}
}

// refusingPin is a line the kernel will not give us.
type refusingPin struct {
	gpiotest.Pin
	err      error
	consumer string
}

func (p *refusingPin) In(gpio.Pull, gpio.Edge) error { return p.err }
func (p *refusingPin) Out(gpio.Level) error          { return p.err }
func (p *refusingPin) Consumer() string              { return p.consumer }

func TestALineTakenByAnotherProcessIsNamed(t *testing.T) {
	// periph flattens the errno to this text.
	busy := fmt.Errorf("line_request ioctl: %s", "device or resource busy")
	pin := &refusingPin{Pin: gpiotest.Pin{N: "GPIO17"}, err: busy, consumer: "gpiomon"}
	_, err := NewButton(pin, ButtonOptions{Line: "gpiochip0:17"})
	if err == nil || !strings.Contains(err.Error(), "gpiochip0:17 is taken by another process (gpiomon)") {
		t.Errorf("NewButton on a busy line: %v, want it to say the line is taken and by whom", err)
	}
	_, err = NewLED(pin, LEDOptions{Line: "STATUS_LED"})
	if err == nil || !strings.Contains(err.Error(), "STATUS_LED is taken by another process") {
		t.Errorf("NewLED on a busy line: %v, want it to say the line is taken", err)
	}
}
