package main

// Quiet hours (ring.quiet_hours): the box goes into do not disturb by
// itself at each range's start and out of it at its end, as phones do.
// Only those moments change it: the do_not_disturb action (a button, the
// page, callboxctl) in between holds until the next one.

import (
	"context"
	"log/slog"
	"time"

	"github.com/callbox/callbox/config"
)

// quietCheckEvery is how often the wall clock is read for a start or an
// end: a timer would miss one when the clock is set (NTP at boot).
const quietCheckEvery = 10 * time.Second

// quietHours are cfg's ring.quiet_hours (validated with the settings).
func quietHours(cfg config.Config) config.QuietHours {
	q, _ := config.ParseQuietHours(cfg.Ring.QuietHours)
	return q
}

// doNotDisturbAtStart is do not disturb as the box starts at now: on with
// ring.do_not_disturb, or in quiet hours.
func doNotDisturbAtStart(cfg config.Config, now time.Time) bool {
	quiet, _ := quietHours(cfg).At(now)
	return cfg.Ring.DoNotDisturb || quiet
}

// followQuietHours calls set at each start (true) and end (false) of q's
// ranges, reading the clock at each tick, until ctx ends.
func followQuietHours(ctx context.Context, q config.QuietHours, clock func() time.Time, tick <-chan time.Time,
	set func(on bool), log *slog.Logger) {
	_, next := q.At(clock())
	for !next.IsZero() {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		now := clock()
		if now.Before(next) {
			continue
		}
		var quiet bool
		quiet, next = q.At(now)
		if quiet {
			log.Info("quiet hours: do not disturb", "until", next.Format("15:04"))
		} else {
			log.Info("quiet hours over: calls ring")
		}
		set(quiet)
	}
}

// doNotDisturbUntil is when do not disturb, on at now, ends by itself:
// the end of the quiet hours under way, or of the next ones; zero when
// only the person turns it off.
func doNotDisturbUntil(q config.QuietHours, now time.Time) time.Time {
	quiet, next := q.At(now)
	if !quiet && !next.IsZero() {
		_, next = q.At(next)
	}
	return next
}
