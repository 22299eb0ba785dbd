package main

// share: the guest's callboxd shares vivid's HDMI input (video.content_camera)
// into the call; the host decodes it as content (the box's SCREEN_SHARE,
// apart from its camera) at the input's timing, follows a timing change
// made mid-share (the guest selects 1920x1080p60 on vivid), and sees the
// share end when the cable is pulled (vivid's "No Signal").

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/viewer"
)

// shareIdentity is the guest's callboxd in the share scenario.
const shareIdentity = "callbox-share"

func shareScenario(ctx context.Context, l *lab) error {
	if err := l.startCall(ctx); err != nil {
		return err
	}
	// vivid's HDMI input starts at 1280x720p60; the guest then selects
	// 1920x1080p60. Either layer of the content's simulcast is the
	// input's size or its half, as the call server chooses.
	for _, timing := range []struct {
		name          string
		width, height int
	}{{"720p", 1280, 720}, {"1080p", 1920, 1080}} {
		got, err := l.view.waitContent(ctx, shareIdentity, time.Now(), timing.width, timing.height, 3, 240*time.Second)
		if err != nil {
			return fmt.Errorf("vivid's HDMI input at %s: %w", timing.name, err)
		}
		last := got[len(got)-1]
		slog.Info("vivid's HDMI input shared, advancing", "timing", timing.name, "pictures", len(got),
			"size", fmt.Sprintf("%dx%d", last.Width, last.Height))
		if err := l.view.SavePNG(viewer.ContentKey(shareIdentity), filepath.Join(l.out, "share-"+timing.name+".png")); err != nil {
			slog.Warn("no picture saved", "err", err)
		}
		if err := l.tell("seen content " + timing.name); err != nil {
			return err
		}
	}
	// The cable pulled: the guest saw callboxd say so; no more content.
	if err := l.waitEvent(ctx, "hdmi-unplugged", 120*time.Second); err != nil {
		return err
	}
	if err := daemontest.Poll(30*time.Second, 200*time.Millisecond, func() error {
		if n := len(l.view.content(shareIdentity, time.Now().Add(-5*time.Second))); n > 0 {
			return fmt.Errorf("%d pictures of content in the last 5 s after the cable was pulled, want none", n)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := l.tell("content gone"); err != nil {
		return err
	}
	return l.waitEvent(ctx, "share-done", 60*time.Second)
}

// content returns the content pictures from identity decoded after t.
func (v *view) content(identity string, t time.Time) []viewer.Picture {
	var out []viewer.Picture
	for _, p := range v.Pictures() {
		if p.From == identity && p.Content && p.Decoded.After(t) {
			out = append(out, p)
		}
	}
	return out
}

// waitContent waits for n content pictures from identity decoded after
// since, each vivid's colour bars at width x height (or its half: the low
// layer), of one size, each different from the one before; a picture of
// another size starts the count again (the encoders starting again at a
// new timing, the server moving between the layers).
func (v *view) waitContent(ctx context.Context, identity string, since time.Time, width, height, n int, timeout time.Duration) ([]viewer.Picture, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var got []viewer.Picture
	err := v.Wait(ctx, func() (bool, error) {
		got = got[:0]
		for _, p := range v.content(identity, since) {
			if !(p.Width == width && p.Height == height) && !(p.Width == width/2 && p.Height == height/2) {
				got = got[:0]
				continue
			}
			if p.Err != nil {
				return false, fmt.Errorf("content picture from %s: %w", identity, p.Err)
			}
			// The server may move between the layers: a run is of one size.
			if len(got) > 0 && (p.Width != got[0].Width || p.Height != got[0].Height) {
				got = got[:0]
			}
			if len(got) > 0 && p.Changed < minChanged {
				return false, fmt.Errorf("content from %s shows the same picture twice (%d pixels of vivid's time and frame count changed): it does not advance", identity, p.Changed)
			}
			got = append(got, p)
		}
		return len(got) >= n, nil
	})
	if err != nil && ctx.Err() != nil {
		sizes := map[string]int{}
		for _, p := range v.content(identity, since) {
			sizes[fmt.Sprintf("%dx%d", p.Width, p.Height)]++
		}
		return nil, fmt.Errorf("%d of %d content pictures of %dx%d from %s arrived in %s (content sizes seen: %v; decoding errors: %v)",
			len(got), n, width, height, identity, timeout, sizes, v.Errors())
	}
	return got, err
}
