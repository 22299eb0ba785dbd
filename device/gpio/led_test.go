package gpio

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
)

// lit says whether the LED on pin is lit, for its wiring.
func lit(pin *gpiotest.Pin, activeLow bool) bool {
	return bool(pin.Read()) != activeLow
}

func TestLEDPlaysPatterns(t *testing.T) {
	type sample struct {
		at  time.Duration
		lit bool
	}
	tests := []struct {
		name      string
		activeLow bool
		pattern   Pattern
		want      []sample
	}{
		{"off", false, Off, []sample{{10 * time.Millisecond, false}, {5 * time.Second, false}}},
		{"steady", false, Steady, []sample{{10 * time.Millisecond, true}, {5 * time.Second, true}}},
		{"steady, active low", true, Steady, []sample{{10 * time.Millisecond, true}, {5 * time.Second, true}}},
		{"slow blink", false, Blink(time.Second, time.Second), []sample{
			{500 * time.Millisecond, true}, {1500 * time.Millisecond, false}, {2500 * time.Millisecond, true}, {3500 * time.Millisecond, false}}},
		{"short flash, active low", true, Blink(100*time.Millisecond, 900*time.Millisecond), []sample{
			{50 * time.Millisecond, true}, {150 * time.Millisecond, false}, {950 * time.Millisecond, false}, {1050 * time.Millisecond, true}, {1150 * time.Millisecond, false}}},
		{"double flash", false, Pattern{{1, 100 * time.Millisecond}, {0, 100 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, 700 * time.Millisecond}}, []sample{
			{50 * time.Millisecond, true}, {150 * time.Millisecond, false}, {250 * time.Millisecond, true}, {350 * time.Millisecond, false}, {950 * time.Millisecond, false}, {1050 * time.Millisecond, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pin := &gpiotest.Pin{N: "LED"}
				led, err := NewLED(pin, LEDOptions{ActiveLow: tt.activeLow})
				if err != nil {
					t.Fatal(err)
				}
				if lit(pin, tt.activeLow) {
					t.Errorf("a new LED is lit")
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() { defer close(done); runLED(t, ctx, led) }()
				start := time.Now()
				led.Show(tt.pattern)
				for _, s := range tt.want {
					time.Sleep(time.Until(start.Add(s.at)))
					synctest.Wait()
					if got := lit(pin, tt.activeLow); got != s.lit {
						t.Errorf("at %v the LED is lit=%v, want %v", s.at, got, s.lit)
					}
				}
				cancel()
				<-done
				if lit(pin, tt.activeLow) {
					t.Errorf("the LED stays lit after Run ended")
				}
			})
		})
	}
}

// runLED runs led until ctx ends, failing the test if the LED fails. The
// tests run it in a synctest bubble, which waits for it.
func runLED(t *testing.T, ctx context.Context, led *LED) {
	t.Helper()
	if err := led.Run(ctx); err != nil {
		t.Errorf("LED: %v", err)
	}
}

func TestLEDChangesPatternAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pin := &gpiotest.Pin{N: "LED"}
		led, _ := NewLED(pin, LEDOptions{})
		go runLED(t, t.Context(), led)
		led.Show(Blink(time.Second, time.Second))
		time.Sleep(1500 * time.Millisecond) // in the off half of the blink
		synctest.Wait()
		led.Show(Steady)
		synctest.Wait()
		if !lit(pin, false) {
			t.Errorf("the LED did not light at once for a steady pattern")
		}
		led.Show(Off)
		synctest.Wait()
		if lit(pin, false) {
			t.Errorf("the LED did not go out at once")
		}
	})
}

func TestLEDDimsWithPWM(t *testing.T) {
	tests := []struct {
		name      string
		activeLow bool
		want      gpio.Duty
	}{
		{"active high", false, gpio.DutyMax * 3 / 10},
		{"active low", true, gpio.DutyMax - gpio.DutyMax*3/10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pin := &gpiotest.Pin{N: "LED"}
				led, _ := NewLED(pin, LEDOptions{ActiveLow: tt.activeLow, Brightness: 0.3})
				go runLED(t, t.Context(), led)
				led.Show(Steady)
				synctest.Wait()
				pin.Lock()
				duty, freq := pin.D, pin.F
				pin.Unlock()
				if diff := duty - tt.want; diff < -2 || diff > 2 {
					t.Errorf("PWM duty %v, want %v", duty, tt.want)
				}
				if freq != physic.KiloHertz {
					t.Errorf("PWM at %v, want 1kHz (no visible flicker)", freq)
				}
			})
		})
	}
}

// noPWMPin is a line that cannot do PWM, like the GPIO character device.
type noPWMPin struct{ gpiotest.Pin }

func (p *noPWMPin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("PWM() not implemented") }

func TestLEDWithoutPWMIsOnWhenDimmed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pin := &noPWMPin{gpiotest.Pin{N: "LED"}}
		led, _ := NewLED(pin, LEDOptions{Brightness: 0.3})
		go runLED(t, t.Context(), led)
		led.Show(Steady)
		synctest.Wait()
		if !pin.Read() {
			t.Errorf("a dimmed LED on a line without PWM is off, want on")
		}
	})
}
