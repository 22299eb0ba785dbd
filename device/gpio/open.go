package gpio

import (
	"fmt"
	"strings"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/gpioioctl"
)

var (
	initOnce sync.Once
	initErr  error
)

// chips loads periph's GPIO character-device driver once (and only it: no
// memory-mapped register drivers) and returns the chips it found.
func chips() ([]*gpioioctl.GPIOChip, error) {
	initOnce.Do(func() { _, initErr = driverreg.Init() })
	if initErr != nil {
		return nil, fmt.Errorf("GPIO: %w", initErr)
	}
	return gpioioctl.Chips, nil
}

// Open finds a line on this machine's GPIO chips. It does not claim the
// line: NewButton and NewLED do, and say so when another process holds it.
// Errors name the line as the settings wrote it.
func Open(l Line) (gpio.PinIO, error) {
	all, err := chips()
	if err != nil {
		return nil, fmt.Errorf("GPIO line %s: %w", l, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("GPIO line %s: this machine has no GPIO chips (no /dev/gpiochip*)", l)
	}
	if l.Name != "" {
		for _, c := range all {
			if line := c.ByName(l.Name); line != nil {
				return line, nil
			}
		}
		return nil, fmt.Errorf("GPIO line %s: no line of that name on %s (gpioinfo lists the names)", l, chipNames(all))
	}
	for _, c := range all {
		if l.Chip == c.Name() || l.Chip == c.Path() || l.Chip == c.Label() {
			if l.Offset >= c.LineCount() {
				return nil, fmt.Errorf("GPIO line %s: %s has %d lines, 0 to %d", l, c.Name(), c.LineCount(), c.LineCount()-1)
			}
			return c.ByNumber(l.Offset), nil
		}
	}
	return nil, fmt.Errorf("GPIO line %s: no GPIO chip %s; this machine has %s", l, l.Chip, chipNames(all))
}

func chipNames(all []*gpioioctl.GPIOChip) string {
	var names []string
	for _, c := range all {
		names = append(names, fmt.Sprintf("%s (%s)", c.Name(), c.Label()))
	}
	return strings.Join(names, ", ")
}
