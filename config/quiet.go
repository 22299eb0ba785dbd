package config

// Quiet hours (ring.quiet_hours): ranges of the day, in the box's local
// time, during which the box is in do not disturb by itself.

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// QuietHours are ring.quiet_hours parsed: ranges of the day in local time.
type QuietHours []DayRange

// DayRange is one range of the day, from From until To, each the time
// since midnight; To at or before From crosses midnight ("22:00-07:00").
type DayRange struct{ From, To time.Duration }

// ParseQuietHours reads ranges as "HH:MM-HH:MM", 24-hour clock.
func ParseQuietHours(ranges []string) (QuietHours, error) {
	var q QuietHours
	for _, s := range ranges {
		from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
		r := DayRange{}
		var err error
		if !ok {
			return nil, fmt.Errorf("%q is not a range like \"22:00-07:00\"", s)
		}
		if r.From, err = parseClock(from); err == nil {
			r.To, err = parseClock(to)
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		if r.From == r.To {
			return nil, fmt.Errorf("%q starts and ends at the same time", s)
		}
		q = append(q, r)
	}
	return q, nil
}

// parseClock reads "HH:MM" as the time since midnight.
func parseClock(s string) (time.Duration, error) {
	var h, m int
	if n, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || n != 2 ||
		len(strings.TrimSpace(s)) != 5 || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, fmt.Errorf("%q is not a time like 07:00 (00:00 to 23:59)", strings.TrimSpace(s))
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// At says whether t is in quiet hours, and the next time after t at
// which that changes (zero without quiet hours).
func (q QuietHours) At(t time.Time) (quiet bool, next time.Time) {
	if len(q) == 0 {
		return false, time.Time{}
	}
	quiet = q.quiet(t)
	for _, b := range q.boundaries(t) {
		if b.After(t) && q.quiet(b) != quiet {
			return quiet, b
		}
	}
	return quiet, time.Time{} // quiet all day: ranges that cover it
}

// quiet says whether t is in one of the ranges.
func (q QuietHours) quiet(t time.Time) bool {
	for _, r := range q {
		for day := -1; day <= 0; day++ {
			from, to := r.on(t, day)
			if !t.Before(from) && t.Before(to) {
				return true
			}
		}
	}
	return false
}

// boundaries are the ranges' starts and ends from the day before t to
// two days after, in order.
func (q QuietHours) boundaries(t time.Time) []time.Time {
	var out []time.Time
	for _, r := range q {
		for day := -1; day <= 2; day++ {
			from, to := r.on(t, day)
			out = append(out, from, to)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// on is the range as it starts day days after t's, in t's time zone.
func (r DayRange) on(t time.Time, day int) (from, to time.Time) {
	y, m, d := t.Date()
	at := func(day int, since time.Duration) time.Time {
		return time.Date(y, m, d+day, int(since/time.Hour), int(since%time.Hour/time.Minute), 0, 0, t.Location())
	}
	from, to = at(day, r.From), at(day, r.To)
	if r.To <= r.From {
		to = at(day+1, r.To)
	}
	return from, to
}
