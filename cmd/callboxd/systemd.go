package main

// The service manager's side of callboxd: systemd's notify protocol
// (sd_notify(3)) spoken over $NOTIFY_SOCKET without a library. The unit in
// buildroot/package/callboxd/callboxd.service (the image's and the Debian
// package's) is Type=notify with WatchdogSec: systemd waits for READY=1 and
// restarts the daemon when WATCHDOG=1 stops coming, which it does when a
// loop of the call stops moving (heartbeat.go).

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// notifier sends state lines to the service manager. A nil *notifier (not
// started by systemd) accepts every call and does nothing.
type notifier struct {
	conn *net.UnixConn
}

// newNotifier connects to $NOTIFY_SOCKET; nil, nil when it is not set.
func newNotifier() (*notifier, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil, nil
	}
	// Go turns a leading '@' into the abstract namespace's NUL itself.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("systemd notify socket %s: %w", path, err)
	}
	return &notifier{conn: conn}, nil
}

func (n *notifier) send(state string) error {
	if n == nil {
		return nil
	}
	if _, err := n.conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("systemd notify %q: %w", state, err)
	}
	return nil
}

func (n *notifier) close() {
	if n != nil {
		n.conn.Close()
	}
}

// watchdogInterval is how often to send WATCHDOG=1: half the WatchdogSec
// that systemd passes as $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises.
// Zero when the watchdog is off or meant for another process.
func watchdogInterval() (time.Duration, error) {
	usec := os.Getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0, nil
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, nil
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("WATCHDOG_USEC=%q: not a positive number of microseconds", usec)
	}
	return time.Duration(n) * time.Microsecond / 2, nil
}

// notifySystemd tells systemd that callboxd is ready, feeds its watchdog
// until ctx ends while every loop of beats moves (heartbeat.go), and says
// STOPPING=1 then. The returned func waits for that and must be called
// before the daemon exits. Outside systemd it does nothing. Problems are
// logged, never fatal: the daemon works without them.
func notifySystemd(ctx context.Context, log *slog.Logger, beats *heartbeat) (done func()) {
	n, err := newNotifier()
	if err != nil {
		log.Warn("cannot talk to systemd", "err", err)
	}
	interval, err := watchdogInterval()
	if err != nil {
		log.Warn("systemd watchdog off", "err", err)
	}
	if n == nil {
		return func() {}
	}
	if err := n.send("READY=1"); err != nil {
		log.Warn("cannot tell systemd callboxd is ready", "err", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer n.close()
		var tick <-chan time.Time
		if interval > 0 {
			t := time.NewTicker(interval)
			defer t.Stop()
			tick = t.C
		}
		starving := false // a loop stalled: the watchdog is not fed
		for {
			select {
			case <-ctx.Done():
				_ = n.send("STOPPING=1")
				return
			case <-tick:
				// WatchdogSec (twice the interval) without a beat is what
				// systemd allows the whole daemon.
				if stalled := beats.stalled(2 * interval); len(stalled) > 0 {
					if !starving {
						log.Error("part of the call has stopped moving: the systemd watchdog is no longer fed, so systemd will restart callboxd",
							"stalled", strings.Join(stalled, ", "))
						starving = true
					}
					continue
				}
				if starving {
					log.Info("the call moves again: the systemd watchdog is fed again")
					starving = false
				}
				if err := n.send("WATCHDOG=1"); err != nil {
					log.Warn("cannot feed the systemd watchdog", "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}
