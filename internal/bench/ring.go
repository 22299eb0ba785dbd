package main

// ring_to_answer_media_ms: how soon a caller sees the box it called once
// the box answers.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
)

const ringRounds = 5

// ringFigures prints ring_to_answer_media_ms: callboxd waits in its line
// (ring.enabled, 720p30 test pattern, software H.264); a caller that
// decodes what it receives (the viewer) joins the line and the box rings;
// the box answers through its local API (as callboxctl answer does). The
// figure is from the answer to the caller's first decoded picture of the
// box, the median of ringRounds calls, each caller leaving before the next.
func ringFigures() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, daemonPath, err := serverAndDaemon(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()

	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity = config.ServerURLs{srv.URL}, "bench-line", "box"
	cfg.Call.APIKey, cfg.Call.APISecret, cfg.Call.Encryption = srv.APIKey, srv.APISecret, config.EncryptionNone
	cfg.Video.Width, cfg.Video.Height, cfg.Video.FPS, cfg.Video.Encoder = benchWidth, benchHeight, benchFPS, config.EncoderSoftware
	cfg.Display.Output, cfg.Speaker.Device = "none", "none"
	cfg.Controls.StartInCall, cfg.Ring.Enabled = false, true
	daemon, err := startBox(daemonPath, cfg)
	if err != nil {
		return err
	}
	defer daemon.stop()
	box, log := daemon.api, daemon.log
	waiting := func(st provisioning.RingStatus) bool { return st.State == call.Idle.String() }
	if err := waitRing(ctx, box, waiting); err != nil {
		return fmt.Errorf("the box in its line: %w\n%s", err, log.String())
	}

	var took []float64
	for i := range ringRounds {
		ms, err := ringOnce(ctx, srv, box, fmt.Sprintf("caller-%d", i))
		if err != nil {
			return fmt.Errorf("call %d: %w\n%s", i+1, err, log.String())
		}
		took = append(took, ms)
		if err := waitRing(ctx, box, waiting); err != nil { // back in its line
			return fmt.Errorf("the box back in its line after call %d: %w", i+1, err)
		}
	}
	slices.Sort(took)
	fmt.Printf("ring_to_answer_media_ms: %.0f ms\n", took[len(took)/2])
	return nil
}

// ringOnce calls the box as identity, answers, and returns how long the
// caller waited for the box's first picture after the answer.
func ringOnce(ctx context.Context, srv *lkserver.Server, box provisioning.LocalClient, identity string) (float64, error) {
	v, err := viewer.Start(call.Options{URL: srv.URL, Room: "bench-line", Identity: identity,
		APIKey: srv.APIKey, APISecret: srv.APISecret}, viewer.ReadStamp)
	if err != nil {
		return 0, err
	}
	defer v.Leave()
	if err := waitRing(ctx, box, func(st provisioning.RingStatus) bool { return st.State == call.Ringing.String() }); err != nil {
		return 0, fmt.Errorf("the box to ring: %w", err)
	}
	answered := time.Now()
	if did, err := box.Act(ctx, string(call.ActionAnswer)); err != nil {
		return 0, err
	} else if !strings.HasPrefix(did, "answering") {
		return 0, fmt.Errorf("answer did %q", did)
	}
	if err := v.WaitPictures(ctx, 1); err != nil {
		return 0, fmt.Errorf("the caller's first picture: %w", err)
	}
	return float64(v.Pictures()[0].Decoded.Sub(answered).Microseconds()) / 1000, nil
}

// waitRing polls the box's call until ok says it stands so.
func waitRing(ctx context.Context, box provisioning.LocalClient, ok func(provisioning.RingStatus) bool) error {
	var last provisioning.RingStatus
	for ctx.Err() == nil {
		st, err := box.Ring(ctx)
		if err == nil && ok(st) {
			return nil
		}
		last = st
		time.Sleep(20 * time.Millisecond)
	}
	return errors.Join(ctx.Err(), fmt.Errorf("the box's call stands %+v", last))
}
