package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// --- keys -------------------------------------------------------------------

// keysScenario: as buttons, with a uinput keyboard's keys read through
// evdev (lab/uinputkeys) in place of the gpio-sim lines.
func keysScenario(ctx context.Context, l *lab) error {
	return controlsScenario(ctx, l, "callbox-keys", "key")
}

// controlsScenario is the host side of the buttons and keys scenarios:
// callboxd starts idle (controls.start_in_call = false); the guest presses
// its call, mute and hang-up controls one by one, each when told
// (press-call, press-mute, press-hang-up; it answers pressed-…), and the
// host checks what a person in the room would see: nothing before the call
// control, pictures after it, no sound after mute, no pictures after hang
// up. control names the kind ("button", "key") in what it reports.
func controlsScenario(ctx context.Context, l *lab, identity, control string) error {
	if err := l.startCall(ctx); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "controls-ready", 120*time.Second); err != nil {
		return err
	}
	// Idle means not in the room: nothing arrives while no one pressed call.
	if err := l.view.waitQuiet(identity, "video", 4*time.Second, 5*time.Second); err != nil {
		return fmt.Errorf("before the call %s: %w", control, err)
	}
	if n := len(l.view.since(identity, time.Time{})); n > 0 {
		return fmt.Errorf("%d pictures arrived before the call %s was pressed: callboxd did not start idle", n, control)
	}
	press := func(action string) error {
		if err := l.tell("press-" + action); err != nil {
			return err
		}
		return l.waitEvent(ctx, "pressed-"+action, 30*time.Second)
	}
	if err := press("call"); err != nil {
		return err
	}
	if _, err := l.view.waitAdvancing(ctx, identity, l.lastEventSeen, advancing/2, 120*time.Second); err != nil {
		return fmt.Errorf("after the call %s: %w", control, err)
	}
	slog.Info("in the call after the call "+control, "after_s", time.Since(l.lastEventSeen).Seconds())
	if err := press("mute"); err != nil {
		return err
	}
	if err := l.view.waitQuiet(identity, "audio", 2*time.Second, 20*time.Second); err != nil {
		return fmt.Errorf("after the mute %s: %w", control, err)
	}
	slog.Info("no sound after the mute " + control)
	if err := press("hang-up"); err != nil {
		return err
	}
	if err := l.view.waitQuiet(identity, "video", 3*time.Second, 20*time.Second); err != nil {
		return fmt.Errorf("after the hang-up %s: %w", control, err)
	}
	slog.Info("no pictures after the hang-up " + control)
	return l.tell("done")
}
