package main

// The figures of end-to-end encryption with a key per member, from a real
// call: callboxd (end-to-end, its keys its own) in the bench's namespace
// with a LiveKit server, and members that join with invite links the
// running box makes, decode its pictures and read their stamps.

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

const (
	joinRounds     = 3 // e2ee_join_to_first_picture_ms is their median
	rotationRounds = 3 // e2ee_rotation_gap_ms is the longest of their gaps
)

func e2eeFigures() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, daemonPath, err := serverAndDaemon(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "callbox-bench-e2ee-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "control.sock")
	daemon := exec.Command(daemonPath, "-url", srv.URL, "-room", "bench-e2ee", "-identity", "box",
		"-api-key", srv.APIKey, "-api-secret", srv.APISecret, "-control", socket, "-log-level", cmp.Or(os.Getenv("CALLBOX_BENCH_DAEMON_LOG"), "warn"),
		"-width", "640", "-height", "360", "-fps", "30")
	daemon.Stderr = os.Stderr
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		// It may have exited already; its exit status is no figure.
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	box := provisioning.LocalClient{Socket: socket}
	// join makes a member with an invite; leave makes it leave.
	join := func(name string) (v *viewer.Viewer, started time.Time, leave func(), err error) {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if c, err := net.Dial("unix", socket); err == nil {
				c.Close()
				break
			} else if time.Now().After(deadline) {
				return nil, time.Time{}, nil, fmt.Errorf("callboxd's local API: %w", err)
			}
		}
		resp, err := box.Invite(ctx, provisioning.InviteRequest{Name: name, Page: "https://bench/guest/", Unshown: true})
		if err != nil {
			return nil, time.Time{}, nil, err
		}
		opts, err := guest.MemberOptions(resp.Link)
		if err != nil {
			return nil, time.Time{}, nil, err
		}
		started = time.Now()
		if v, err = viewer.Start(opts, viewer.ReadStamp); err != nil {
			return nil, time.Time{}, nil, err
		}
		return v, started, v.Leave, nil
	}

	// e2ee_join_to_first_picture_ms: from joining (with an invite) to the
	// first of the box's pictures decoded: admission, the keys, a keyframe.
	var joins []float64
	for i := range joinRounds {
		v, started, leave, err := join(fmt.Sprintf("Joiner %d", i))
		if err != nil {
			return err
		}
		err = v.WaitPictures(ctx, 1)
		leave()
		if err != nil {
			return fmt.Errorf("a member's first picture: %w", err)
		}
		joins = append(joins, float64(v.Pictures()[0].Decoded.Sub(started).Milliseconds()))
		time.Sleep(time.Second) // its leave is done with
	}
	slices.Sort(joins)
	fmt.Printf("e2ee_join_to_first_picture_ms: %.0f ms\n", joins[len(joins)/2])

	// e2ee_rotation_gap_ms: a member watches while another joins and
	// leaves; the longest gap between its decoded pictures from a second
	// before each leave to the end of the switch deadline after it.
	watcher, _, leaveWatcher, err := join("Watcher")
	if err != nil {
		return err
	}
	defer leaveWatcher()
	if err := watcher.WaitPictures(ctx, 30); err != nil {
		return err
	}
	worst := 0.0
	for i := range rotationRounds {
		other, _, leave, err := join(fmt.Sprintf("Leaver %d", i))
		if err != nil {
			return err
		}
		if err := other.WaitPictures(ctx, 10); err != nil {
			leave()
			return err
		}
		time.Sleep(time.Second)
		left := time.Now()
		leave()
		time.Sleep(5 * time.Second) // past the switch deadline (4 s)
		gap := longestGap(watcher.Pictures(), left.Add(-time.Second), time.Now())
		worst = max(worst, gap)
	}
	fmt.Printf("e2ee_rotation_gap_ms: %.0f ms\n", worst)
	return nil
}

// longestGap is the longest time between two pictures decoded in [from, to).
func longestGap(pictures []viewer.Picture, from, to time.Time) float64 {
	var longest time.Duration
	last := from
	for _, p := range pictures {
		if p.Decoded.Before(from) || !p.Decoded.Before(to) {
			continue
		}
		longest = max(longest, p.Decoded.Sub(last))
		last = p.Decoded
	}
	return float64(max(longest, to.Sub(last)).Milliseconds())
}
