package gpio

import (
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in   string
		want Line
		err  string
	}{
		{"GPIO17", Line{Name: "GPIO17"}, ""},
		{"gpiochip0:17", Line{Chip: "gpiochip0", Offset: 17}, ""},
		{"/dev/gpiochip2:0", Line{Chip: "/dev/gpiochip2", Offset: 0}, ""},
		{" call ", Line{Name: "call"}, ""},
		{"gpiochip0:x", Line{}, `"gpiochip0:x": the offset`},
		{"gpiochip0:-1", Line{}, "number from 0"},
		{":3", Line{}, "name the chip"},
		{"", Line{}, "empty GPIO line"},
	}
	for _, tt := range tests {
		got, err := ParseLine(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseLine(%q) = %v, want an error saying %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// A line on a chip this machine does not have is an error that names the
// line as the settings wrote it (here: no chip at all, or not that one).
func TestOpenMissingLineNamesIt(t *testing.T) {
	for _, l := range []Line{{Chip: "gpiochip99", Offset: 3}, {Name: "NO_SUCH_LINE"}} {
		pin, err := Open(l)
		if err == nil {
			t.Fatalf("Open(%v) found %v, want an error", l, pin)
		}
		if !strings.Contains(err.Error(), "GPIO line "+l.String()+":") {
			t.Errorf("Open(%v) = %q, want it to name the line", l, err)
		}
	}
}
