package netem

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Profile is a network a participant can be on: what happens to the
// packets it sends (Up, toward the call server) and to those it receives
// (Down). The zero Profile is a perfect cable.
type Profile struct {
	Name     string
	Up, Down Shape
}

// Shape is what one direction of a link does to its packets.
type Shape struct {
	// Delay holds every packet this long; Jitter adds to it a uniform
	// random amount from -Jitter to +Jitter (never overtaking the packet
	// before: a queue's jitter, not a reordering).
	Delay, Jitter time.Duration
	// Loss is the chance that a packet is lost, at random.
	Loss float64
	// Burst loses packets in bursts.
	Burst Burst
	// Rate, in bits per second, limits the link (0: no limit); packets
	// wait in a drop-tail queue that holds Queue of sending time (0: 250 ms).
	Rate  int
	Queue time.Duration
	// Trace, when set, takes the place of Rate and adds its loss to Loss,
	// step by step over time.
	Trace Trace
	// Blackouts drop every packet.
	Blackouts []Blackout
}

// Burst is the Gilbert-Elliott model of loss in bursts: after each packet
// a burst starts with probability Start, and one under way ends with
// probability End (so bursts last 1/End packets on average, and a share
// Start/(Start+End) of packets fall in one); in a burst packets are lost
// with probability Loss. The zero Burst has no bursts.
type Burst struct {
	Start, End, Loss float64
}

// Blackout is a time when nothing gets through, from At after the profile
// is Set, for For.
type Blackout struct {
	At, For time.Duration
}

// Over is when the last blackout ends, after the profile is Set: when
// the network is back.
func (s Shape) Over() time.Duration {
	var end time.Duration
	for _, b := range s.Blackouts {
		end = max(end, b.At+b.For)
	}
	return end
}

func (s Shape) blackedOut(t time.Duration) bool {
	for _, b := range s.Blackouts {
		if t >= b.At && t < b.At+b.For {
			return true
		}
	}
	return false
}

// defaultQueue is the rate limit's queue when Shape.Queue is 0: about
// what a home router holds.
const defaultQueue = 250 * time.Millisecond

func (s Shape) queue() time.Duration {
	if s.Queue > 0 {
		return s.Queue
	}
	return defaultQueue
}

// ThinRate is the uplink of the "thin" profile, in bits per second.
const ThinRate = 800_000

// Blackout of the "drop" profile: the network is gone from DropAt after
// the profile is Set, for DropFor.
const (
	DropAt  = 5 * time.Second
	DropFor = 10 * time.Second
)

//go:embed testdata/wifi.trace
var wifiTrace string

// Profiles are the networks the tests and the bench put a participant on,
// in the bench's order. Delays are one way, so 20 ms is a 40 ms round trip.
func Profiles() []Profile {
	both := func(name string, s Shape) Profile { return Profile{Name: name, Up: s, Down: s} }
	wifi, err := ParseTrace(strings.NewReader(wifiTrace))
	if err != nil {
		panic("netem: testdata/wifi.trace: " + err.Error()) // embedded: a build that cannot happen
	}
	return []Profile{
		both("loss3", Shape{Delay: 20 * time.Millisecond, Loss: 0.03}),
		// About 5 % of packets, in bursts of 5 on average.
		both("burst", Shape{Delay: 20 * time.Millisecond, Burst: Burst{Start: 0.01, End: 0.2, Loss: 1}}),
		both("jitter", Shape{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 0.01}),
		{Name: "thin", Up: Shape{Delay: 20 * time.Millisecond, Rate: ThinRate}, Down: Shape{Delay: 20 * time.Millisecond}},
		both("drop", Shape{Delay: 20 * time.Millisecond, Blackouts: []Blackout{{At: DropAt, For: DropFor}}}),
		both("wifi", Shape{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Trace: wifi}),
	}
}

// ByName returns the profile called name.
func ByName(name string) (Profile, error) {
	var names []string
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("netem: no profile %q (there are %s)", name, strings.Join(names, ", "))
}

// Trace is a link's rate and loss over time: each step lasts For, and
// after the last the first comes again.
type Trace []TraceStep

// TraceStep is one stretch of a Trace.
type TraceStep struct {
	For  time.Duration
	Rate int     // bits per second
	Loss float64 // 0 to 1
}

// Length is how long the trace takes before it repeats.
func (tr Trace) Length() time.Duration {
	var d time.Duration
	for _, s := range tr {
		d += s.For
	}
	return d
}

func (tr Trace) at(t time.Duration) TraceStep {
	t %= tr.Length()
	for _, s := range tr {
		if t < s.For {
			return s
		}
		t -= s.For
	}
	return tr[len(tr)-1]
}

// ParseTrace reads a trace, one step a line: how long it lasts in
// seconds, the rate in kbit/s and the loss in percent, separated by
// spaces. Empty lines and those starting with # are skipped.
func ParseTrace(r io.Reader) (Trace, error) {
	var tr Trace
	lines := bufio.NewScanner(r)
	for n := 1; lines.Scan(); n++ {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, fmt.Errorf("trace line %d: %d fields, want 3 (seconds, kbit/s, loss %%)", n, len(fields))
		}
		var v [3]float64
		for i, f := range fields {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil || x < 0 || x != x {
				return nil, fmt.Errorf("trace line %d: field %d, %q, is not a number of 0 or more", n, i+1, f)
			}
			v[i] = x
		}
		switch {
		case v[0] <= 0 || v[0] > 3600:
			return nil, fmt.Errorf("trace line %d: a step of %g s, want more than 0 and at most 3600", n, v[0])
		case v[1] < 8 || v[1] > 10_000_000:
			return nil, fmt.Errorf("trace line %d: a rate of %g kbit/s, want 8 to 10000000", n, v[1])
		case v[2] > 100:
			return nil, fmt.Errorf("trace line %d: a loss of %g %%, want at most 100", n, v[2])
		}
		tr = append(tr, TraceStep{For: time.Duration(v[0] * float64(time.Second)), Rate: int(v[1] * 1000), Loss: v[2] / 100})
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if len(tr) == 0 {
		return nil, fmt.Errorf("trace: no steps")
	}
	return tr, nil
}
