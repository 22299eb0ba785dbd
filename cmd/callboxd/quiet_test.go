package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/config"
)

// TestQuietHoursFollowed: through a night's quiet hours (22:00-07:00) on
// a fake clock, do not disturb goes on at 22:00 and off at 07:00, and
// only then: the person's toggle at 23:00 (off) holds until 07:00, and
// one at 12:00 (on) until the next night's end.
func TestQuietHoursFollowed(t *testing.T) {
	q, err := config.ParseQuietHours([]string{"22:00-07:00"})
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("box", -5*3600)
	var mu sync.Mutex
	now := time.Date(2026, 12, 3, 21, 0, 0, 0, loc)
	dnd := doNotDisturbAtStart(config.Config{Ring: config.Ring{QuietHours: []string{"22:00-07:00"}}}, now)
	if dnd {
		t.Fatal("in do not disturb at 21:00, before the quiet hours")
	}
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	var sets []bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		followQuietHours(ctx, q, clock, tick, func(on bool) { mu.Lock(); defer mu.Unlock(); sets = append(sets, on); dnd = on },
			slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	// at moves the clock to h:m (on the day after from hour 24) and ticks;
	// the toggle, as the action does, sets dnd directly.
	at := func(h, m int) {
		mu.Lock()
		now = time.Date(2026, 12, 3, h, m, 0, 0, loc)
		mu.Unlock()
		tick <- now
		tick <- now // the second waits until the first was looked at
	}
	want := func(when string, on bool, n int) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if dnd != on || len(sets) != n {
			t.Errorf("at %s: do not disturb %v after %d changes by the schedule, want %v after %d", when, dnd, len(sets), on, n)
		}
	}
	at(21, 59)
	want("21:59", false, 0)
	at(22, 0)
	want("22:00", true, 1)
	mu.Lock()
	dnd = false // the person turns it off at 23:00
	mu.Unlock()
	at(23, 0)
	at(24+6, 59)
	want("06:59", false, 1)
	at(24+7, 0)
	want("07:00", false, 2)
	mu.Lock()
	dnd = true // the person turns it on at noon
	mu.Unlock()
	if until := doNotDisturbUntil(q, clock()); !until.Equal(time.Date(2026, 12, 5, 7, 0, 0, 0, loc)) {
		t.Errorf("on at noon, until %v; want the next night's end", until)
	}
	at(24+12, 1)
	at(24+22, 0)
	want("the next 22:00", true, 3)
	at(48+7, 0)
	want("the next 07:00", false, 4)
	cancel()
	<-done
}
