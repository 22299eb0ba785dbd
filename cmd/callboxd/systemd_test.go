package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// notifySocket is systemd's end of NOTIFY_SOCKET, as fakeSystemd plays it.
type notifySocket struct {
	t    *testing.T
	conn *net.UnixConn
}

// fakeSystemd listens where systemd's NOTIFY_SOCKET would be.
func fakeSystemd(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return &notifySocket{t: t, conn: conn}
}

// next is the next message, one datagram a message; the test fails when
// none comes. Generous: the machine is shared.
func (s *notifySocket) next() string {
	s.t.Helper()
	msg, ok := s.within(10 * time.Second)
	if !ok {
		s.t.Fatal("no message from callboxd in 10 s")
	}
	return msg
}

// within is the next message if one comes within d.
func (s *notifySocket) within(d time.Duration) (string, bool) {
	buf := make([]byte, 4096)
	if err := s.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return "", false
	}
	n, err := s.conn.Read(buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func TestNotifySystemdReadyWatchdogStopping(t *testing.T) {
	next := fakeSystemd(t).next
	t.Setenv("WATCHDOG_USEC", "100000") // 100 ms: fed every 50 ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := time.Now()
	done := notifySystemd(ctx, slog.New(slog.DiscardHandler), nil)

	if got := next(); got != "READY=1" {
		t.Fatalf("first message %q, want READY=1", got)
	}
	for i := range 3 {
		if got := next(); got != "WATCHDOG=1" {
			t.Fatalf("message %d after READY %q, want WATCHDOG=1", i+1, got)
		}
	}
	// Three feeds at 50 ms take at least 150 ms; a feed at the full
	// interval (systemd would already have killed us) would take 300 ms.
	if elapsed := time.Since(started); elapsed < 150*time.Millisecond {
		t.Errorf("3 watchdog feeds came in %v: faster than half of WatchdogSec", elapsed)
	}
	cancel()
	for {
		got := next()
		if got == "STOPPING=1" {
			break
		}
		if got != "WATCHDOG=1" {
			t.Fatalf("after cancel got %q, want STOPPING=1", got)
		}
	}
	done()
}

func TestNotifySystemdWithoutWatchdogSendsOnlyReadyAndStopping(t *testing.T) {
	next := fakeSystemd(t).next
	t.Setenv("WATCHDOG_USEC", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := notifySystemd(ctx, slog.New(slog.DiscardHandler), nil)
	if got := next(); got != "READY=1" {
		t.Fatalf("first message %q, want READY=1", got)
	}
	cancel()
	if got := next(); got != "STOPPING=1" {
		t.Fatalf("second message %q, want STOPPING=1 (no watchdog asked for)", got)
	}
	done()
}

func TestNotifySystemdOutsideSystemdDoesNothing(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	var logs bytes.Buffer
	done := notifySystemd(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)), nil)
	done()
	if logs.Len() != 0 {
		t.Errorf("logged outside systemd: %s", logs.String())
	}
}

func TestNotifySystemdMissingSocketIsLoggedNotFatal(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone"))
	var logs bytes.Buffer
	done := notifySystemd(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)), nil)
	done()
	if !strings.Contains(logs.String(), "cannot talk to systemd") || !strings.Contains(logs.String(), "gone") {
		t.Errorf("log %q does not say the notify socket is missing", logs.String())
	}
}

func TestWatchdogInterval(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	tests := []struct {
		name, usec, pid string
		want            time.Duration
		wantErr         bool
	}{
		{name: "off", usec: "", want: 0},
		{name: "half of WatchdogSec=30s", usec: "30000000", want: 15 * time.Second},
		{name: "for this process", usec: "2000000", pid: self, want: time.Second},
		{name: "for another process", usec: "2000000", pid: "1", want: 0},
		{name: "not a number", usec: "30s", wantErr: true},
		{name: "zero", usec: "0", wantErr: true},
		{name: "negative", usec: "-5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			got, err := watchdogInterval()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "WATCHDOG_USEC") {
				t.Errorf("error %q does not name WATCHDOG_USEC", err)
			}
			if got != tt.want {
				t.Errorf("interval = %v, want %v", got, tt.want)
			}
		})
	}
}
