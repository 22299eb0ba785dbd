package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// --- cec --------------------------------------------------------------------

// cecScenario is the host side of the cec scenario: its viewer, in the
// box's line, is the caller. While the box rings (and wakes the guest's
// emulated TV) nothing may arrive from it; after the TV remote's Select,
// vivid's pictures; after Back, none.
func cecScenario(ctx context.Context, l *lab) error {
	const identity = "callbox-cec"
	if err := l.startCall(ctx); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "tv-woken", 240*time.Second); err != nil {
		return err
	}
	if n := len(l.view.since(identity, time.Time{})); n > 0 {
		return fmt.Errorf("%d pictures arrived while the box rang: it sent before anyone answered", n)
	}
	press := func(action string) error {
		if err := l.tell("press-" + action); err != nil {
			return err
		}
		return l.waitEvent(ctx, "pressed-"+action, 30*time.Second)
	}
	if err := press("answer"); err != nil {
		return err
	}
	if _, err := l.view.waitAdvancing(ctx, identity, l.lastEventSeen, advancing/2, 120*time.Second); err != nil {
		return fmt.Errorf("after the TV remote's Select: %w", err)
	}
	slog.Info("in the call after the TV remote's Select", "after_s", time.Since(l.lastEventSeen).Seconds())
	if err := press("hang-up"); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "tv-given-back", 60*time.Second); err != nil {
		return err
	}
	if err := l.view.waitQuiet(identity, "video", 3*time.Second, 20*time.Second); err != nil {
		return fmt.Errorf("after the TV remote's Back: %w", err)
	}
	slog.Info("no pictures after the TV remote's Back")
	return l.tell("done")
}
