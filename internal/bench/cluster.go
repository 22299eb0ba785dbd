package main

// node_failover_s (CALLBOX_BENCH=cluster): a real cluster (Redis, two
// LiveKit nodes, each on its own address), callboxd knowing both (call.url
// lists them), end-to-end encrypted, and a Go participant with an invite
// that sends and receives and knows both nodes too
// (viewer.StartParticipant). The node that holds the room is killed
// (SIGKILL); the figure is the time from the kill to the first picture
// the box captured after it decoded at the participant: both back in the
// room, which the cluster made again on the other node, and the keys
// handed again. The median of failoverRounds, a new cluster each.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

const failoverRounds = 3

func clusterFigures() error {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	call.UseLogger(quiet)
	daemonPath, err := daemontest.Binary("github.com/callbox/callbox/cmd/callboxd")
	if err != nil {
		return err
	}
	var took []float64
	for round := range failoverRounds {
		s, err := failoverOnce(daemonPath, quiet)
		if err != nil {
			return fmt.Errorf("node_failover_s, round %d: %w", round+1, err)
		}
		took = append(took, s)
	}
	slices.Sort(took)
	fmt.Printf("node_failover_s: %.1f s\n", took[len(took)/2])
	return nil
}

// failoverOnce kills the room's node once and says how long until the
// box's pictures came back at the participant.
func failoverOnce(daemonPath string, log *slog.Logger) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logDir, err := os.MkdirTemp("", "callbox-bench-cluster-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(logDir)
	cluster, err := lkserver.StartClusterInNamespace(ctx, 2, logDir)
	if err != nil {
		return 0, err
	}
	defer cluster.Close()
	nodes := cluster.Nodes
	const room = "bench-cluster"
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity = cluster.URLs(), room, "box"
	cfg.Call.APIKey, cfg.Call.APISecret = nodes[0].APIKey, nodes[0].APISecret
	cfg.Video.Width, cfg.Video.Height, cfg.Video.Encoder = 320, 180, config.EncoderSoftware
	cfg.Display.Output, cfg.Speaker.Device = "none", "none"
	daemon, err := startBox(daemonPath, cfg)
	if err != nil {
		return 0, err
	}
	defer daemon.stop()
	fail := func(err error) (float64, error) {
		return 0, fmt.Errorf("%w\ncallboxd said:\n%s", err, daemon.log.String())
	}

	var resp provisioning.InviteResponse
	err = daemontest.Poll(20*time.Second, 100*time.Millisecond, func() (err error) {
		resp, err = daemon.api.Invite(ctx, provisioning.InviteRequest{Name: "Anna", Page: "https://bench/guest/", Unshown: true})
		return err
	})
	if err != nil {
		return fail(err)
	}
	opts, err := guest.MemberOptions(resp.Link)
	if err != nil {
		return fail(err)
	}
	opts.URL, opts.OtherURLs = nodes[1].URL, []string{nodes[0].URL}
	opts.Width, opts.Height, opts.Logger = 320, 180, log
	v, err := viewer.StartParticipant(opts, viewer.ReadStamp)
	if err != nil {
		return fail(err)
	}
	defer v.Leave()
	if err := v.WaitPictures(ctx, 30); err != nil {
		return fail(fmt.Errorf("the participant before the kill: %w", err))
	}
	holder, err := cluster.RoomNode(ctx, room)
	if err != nil {
		return fail(err)
	}
	if err := holder.Kill(); err != nil {
		return fail(err)
	}
	killed := time.Now()
	var back time.Time
	seen := 0
	err = v.Wait(ctx, func() (bool, error) {
		pictures := v.Pictures()
		for _, p := range pictures[seen:] {
			if p.From == "box" && p.Err == nil && p.Stamp.Time.After(killed) {
				back = p.Decoded
				return true, nil
			}
		}
		seen = len(pictures)
		return false, nil
	})
	if err != nil {
		return fail(fmt.Errorf("no picture of the box after the kill: %w", err))
	}
	return back.Sub(killed).Seconds(), nil
}
