package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseQuietHoursRejects(t *testing.T) {
	for _, bad := range []string{"22:00", "22:00-", "25:00-07:00", "22:60-07:00", "7:00-08:00", "22:00-22:00", "ten-eleven", "22:00-07:00-08:00"} {
		if _, err := ParseQuietHours([]string{bad}); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	c := Default()
	c.Ring.QuietHours = []string{"22:00-7:00"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ring.quiet_hours") {
		t.Errorf("validating a bad range said %v, want an error naming ring.quiet_hours", err)
	}
}

func TestQuietHours(t *testing.T) {
	q, err := ParseQuietHours([]string{"22:00-07:00", " 13:00-14:30 "})
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("box", 2*3600)
	at := func(day, h, m int) time.Time { return time.Date(2026, 12, day, h, m, 0, 0, loc) }
	for _, c := range []struct {
		t     time.Time
		quiet bool
		next  time.Time
	}{
		{at(3, 12, 0), false, at(3, 13, 0)},
		{at(3, 13, 0), true, at(3, 14, 30)},  // a start is in
		{at(3, 14, 30), false, at(3, 22, 0)}, // an end is out
		{at(3, 21, 59), false, at(3, 22, 0)},
		{at(3, 22, 0), true, at(4, 7, 0)}, // across midnight
		{at(3, 23, 59), true, at(4, 7, 0)},
		{at(4, 0, 0), true, at(4, 7, 0)}, // after midnight
		{at(4, 6, 59), true, at(4, 7, 0)},
		{at(4, 7, 0), false, at(4, 13, 0)},
		{at(31, 23, 0), true, time.Date(2027, 1, 1, 7, 0, 0, 0, loc)}, // the year's end
	} {
		quiet, next := q.At(c.t)
		if quiet != c.quiet || !next.Equal(c.next) {
			t.Errorf("at %s: quiet %v until %s, want %v until %s", c.t.Format("Jan 2 15:04"), quiet, next.Format("Jan 2 15:04"), c.quiet, c.next.Format("Jan 2 15:04"))
		}
	}
	if quiet, next := QuietHours(nil).At(at(3, 23, 0)); quiet || !next.IsZero() {
		t.Errorf("no quiet hours: quiet %v until %v", quiet, next)
	}
	// Ranges that touch are one: the next change is the second's end.
	q, _ = ParseQuietHours([]string{"20:00-22:00", "22:00-06:00"})
	if quiet, next := q.At(at(3, 21, 0)); !quiet || !next.Equal(at(4, 6, 0)) {
		t.Errorf("touching ranges at 21:00: quiet %v until %s, want until 06:00", quiet, next)
	}
}
