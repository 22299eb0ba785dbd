package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/callbox/callbox/internal/viewer"
)

// systemdRuns are the runs of callboxd the systemd scenario starts, in
// order: the first start, then after the watchdog killed a hung one, after
// a crash (SIGSEGV) and after SIGKILL. The guest says "running-NAME" when
// lab-notifyd has started that run; the host answers "seen-NAME" once its
// pictures arrive.
var systemdRuns = []string{"first", "after-watchdog", "after-segv", "after-kill"}

// systemdScenario: the guest's lab-notifyd supervises callboxd with the
// committed unit's settings ($LAB_UNIT, sent to the guest here); after every
// (re)start the box must be back in the call, its pictures arriving again.
func systemdScenario(ctx context.Context, l *lab) error {
	const identity = "callbox"
	path := os.Getenv("LAB_UNIT")
	if path == "" {
		return fmt.Errorf("LAB_UNIT is not set: systemd.host.sh names the unit file")
	}
	unitText, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("the unit for the guest: %w", err)
	}
	if err := l.startCall(ctx); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "want-unit", 120*time.Second); err != nil {
		return err
	}
	if err := l.tell("unit " + base64.StdEncoding.EncodeToString(unitText)); err != nil {
		return err
	}
	for _, name := range systemdRuns {
		if err := l.waitEvent(ctx, "running-"+name, 180*time.Second); err != nil {
			return err
		}
		since := l.lastEventSeen
		got, skipped, err := l.view.waitBackInCall(ctx, identity, since, advancing/2, 180*time.Second)
		if err != nil {
			return fmt.Errorf("callboxd's run %s: %w", name, err)
		}
		slog.Info("the box is in the call", "run", name, "pictures_after_s", fmt.Sprintf("%.1f", got[0].Decoded.Sub(since).Seconds()),
			"wrong_pictures_first", skipped)
		if err := l.tell("seen-" + name); err != nil {
			return err
		}
	}
	return l.waitEvent(ctx, "systemd-done", 120*time.Second)
}

// waitBackInCall waits for n pictures in a row from identity, decoded after
// since, each vivid's colour bars at videoWidth x videoHeight and each
// different from the one before, and returns them and how many pictures
// before them were not. Unlike waitAdvancing it lets wrong pictures pass
// first: around a restart the viewer's decoder, one per identity, may see
// the end of the dead run's stream before the new run's keyframe (a 2x2
// picture was seen once after SIGSEGV).
func (v *view) waitBackInCall(ctx context.Context, identity string, since time.Time, n int, timeout time.Duration) ([]viewer.Picture, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var got []viewer.Picture
	var start int
	var lastWrong error
	err := v.Wait(ctx, func() (bool, error) {
		got, start = v.since(identity, since), 0
		for i, p := range got {
			var wrong error
			switch {
			case p.Width != videoWidth || p.Height != videoHeight:
				wrong = fmt.Errorf("a %dx%d picture, want %dx%d", p.Width, p.Height, videoWidth, videoHeight)
			case p.Err != nil:
				wrong = p.Err
			case i > start && p.Changed < minChanged:
				wrong = fmt.Errorf("a picture the same as the one before (%d pixels of vivid's time and frame count changed)", p.Changed)
			}
			if wrong != nil {
				lastWrong, start = wrong, i+1
				continue
			}
			if i+1-start >= n {
				got = got[start : i+1]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		if lastWrong != nil {
			err = fmt.Errorf("the last wrong one: %w", lastWrong)
		}
		return nil, start, fmt.Errorf("no %d good pictures in a row from %s in %s (%d pictures came): %w", n, identity, timeout, len(got), err)
	}
	return got, start, nil
}
