package main

import (
	"context"
	"fmt"
	"image"
	"strings"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/viewer"
)

// view is the lab's viewer: internal/viewer looking for vivid's colour
// bars (vividCheck) rather than the test pattern's stamps, and the waits
// the scenarios need.
type view struct{ *viewer.Viewer }

func startView(opts call.Options) (*view, error) {
	v, err := viewer.Start(opts, vividCheck)
	if err != nil {
		return nil, err
	}
	return &view{v}, nil
}

// vividCheck is the viewer's check for vivid's pictures: are they its
// colour bars, and how many pixels of its time and frame count changed
// since the picture before.
func vividCheck(pic, previous *image.YCbCr) viewer.Mark {
	m := viewer.Mark{Changed: -1}
	w, h := pic.Rect.Dx(), pic.Rect.Dy()
	if w >= 64 && h >= 32 {
		m.Err = checkColourBars(pic.Y, pic.YStride, w, h)
	} else {
		m.Err = fmt.Errorf("a %dx%d picture is too small for colour bars", w, h)
	}
	if previous != nil && previous.Rect == pic.Rect {
		m.Changed = changedPixels(previous, pic)
	}
	return m
}

// since returns the pictures from identity decoded after t.
func (v *view) since(identity string, t time.Time) []viewer.Picture {
	var out []viewer.Picture
	for _, p := range v.Pictures() {
		if p.From == identity && p.Decoded.After(t) {
			out = append(out, p)
		}
	}
	return out
}

// waitAdvancing waits for n pictures from identity decoded after since, each
// vivid's colour bars at videoWidth x videoHeight and each different from
// the one before. A wrong picture fails at once; too few in time fails
// saying how many came.
func (v *view) waitAdvancing(ctx context.Context, identity string, since time.Time, n int, timeout time.Duration) ([]viewer.Picture, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var got []viewer.Picture
	err := v.Wait(ctx, func() (bool, error) {
		got = v.since(identity, since)
		for i, p := range got {
			if p.Width != videoWidth || p.Height != videoHeight {
				return false, fmt.Errorf("picture %d from %s is %dx%d, want %dx%d", i, identity, p.Width, p.Height, videoWidth, videoHeight)
			}
			if p.Err != nil {
				return false, fmt.Errorf("picture %d from %s: %w", i, identity, p.Err)
			}
			// The first one after since may follow a picture from before.
			if i > 0 && p.Changed < minChanged {
				return false, fmt.Errorf("picture %d from %s shows the same as the one before (%d pixels of vivid's time and frame count changed): the pictures do not advance", i, identity, p.Changed)
			}
		}
		return len(got) >= n, nil
	})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%d of %d pictures from %s arrived in %s (decoding errors: %v)", len(got), n, identity, timeout, v.Errors())
	}
	if err != nil {
		return nil, err
	}
	return got[:n], nil
}

// waitIdentity waits for a picture from a participant whose identity
// starts with prefix, and returns that identity.
func (v *view) waitIdentity(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var identity string
	err := v.Wait(ctx, func() (bool, error) {
		for _, p := range v.Pictures() {
			if strings.HasPrefix(p.From, prefix) {
				identity = p.From
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil && ctx.Err() != nil {
		return "", fmt.Errorf("no picture arrived from a participant %s… in %s", prefix, timeout)
	}
	return identity, err
}

// waitTone waits until identity's newest second of sound is a tone of want
// Hz (within Hz), and returns the frequency found.
func (v *view) waitTone(ctx context.Context, identity string, want, within float64, timeout time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return v.WaitTone(ctx, identity, want, within)
}

// waitQuiet waits until nothing of kind ("video" or "audio") has arrived
// from identity for quiet, counting from the call; it fails if that does
// not happen within timeout. Silence has no event to wait for, so it looks
// every 100 ms.
func (v *view) waitQuiet(identity, kind string, quiet, timeout time.Duration) error {
	from := time.Now()
	return daemontest.Poll(timeout, 100*time.Millisecond, func() error {
		video, sound := v.LastArrived(identity)
		last := from
		if t := map[string]time.Time{"video": video, "audio": sound}[kind]; t.After(last) {
			last = t
		}
		if time.Since(last) < quiet {
			return fmt.Errorf("%s from %s kept coming (the last %s ago), want none for %s",
				kind, identity, time.Since(last).Round(time.Millisecond), quiet)
		}
		return nil
	})
}
