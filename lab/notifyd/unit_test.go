package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real unit, as the image installs it: what the lab follows.
func TestParseCommittedUnit(t *testing.T) {
	f, err := os.Open("../../buildroot/package/callboxd/callboxd.service")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	u, err := parseUnit(f)
	if err != nil {
		t.Fatal(err)
	}
	if u.Type != "notify" || u.Watchdog <= 0 || u.Restart == "no" || len(u.ExecStart) == 0 {
		t.Errorf("the committed unit: Type=%s WatchdogSec=%s Restart=%s ExecStart=%q; the lab wants a Type=notify unit with a watchdog that restarts", u.Type, u.Watchdog, u.Restart, u.ExecStart)
	}
}

func TestParseUnit(t *testing.T) {
	const text = `[Unit]
Description=x
Restart=no

[Service]
Type=notify
ExecStart=-/usr/bin/callboxd -data "/data/call box" \
  -wpa-socket /run/x
Environment=GOTRACEBACK=crash "A=b c"
WatchdogSec=1min 30s
Restart=on-failure
RestartSec=500ms
TimeoutStopSec=15
RestartPreventExitStatus=2 SIGUSR1
`
	u, err := parseUnit(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/bin/callboxd", "-data", "/data/call box", "-wpa-socket", "/run/x"}
	if strings.Join(u.ExecStart, "|") != strings.Join(want, "|") {
		t.Errorf("ExecStart = %q, want %q", u.ExecStart, want)
	}
	if strings.Join(u.Environment, "|") != "GOTRACEBACK=crash|A=b c" {
		t.Errorf("Environment = %q", u.Environment)
	}
	if u.Watchdog != 90*time.Second || u.RestartSec != 500*time.Millisecond || u.TimeoutStop != 15*time.Second {
		t.Errorf("WatchdogSec=%s RestartSec=%s TimeoutStopSec=%s, want 1m30s 500ms 15s", u.Watchdog, u.RestartSec, u.TimeoutStop)
	}
	if u.Restart != "on-failure" {
		t.Errorf("Restart=%s, want on-failure (the [Unit] line must not count)", u.Restart)
	}
	if len(u.RestartPreventCodes) != 1 || u.RestartPreventCodes[0] != 2 || len(u.RestartPreventSignals) != 1 || u.RestartPreventSignals[0] != syscall.SIGUSR1 {
		t.Errorf("RestartPreventExitStatus = %v %v", u.RestartPreventCodes, u.RestartPreventSignals)
	}
}

func TestParseUnitErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[Service]\nType=simple\nExecStart=/bin/x\n", "Type=notify"},
		{"[Service]\nType=notify\n", "no ExecStart"},
		{"[Service]\nType=notify\nExecStart=/bin/x\nWatchdogSec=30 parsecs\n", "WatchdogSec"},
		{"[Service]\nType=notify\nExecStart=/bin/x\nRestart=sometimes\n", "Restart=sometimes"},
		{"[Service]\nType=notify\nExecStart=/bin/x\nRestartPreventExitStatus=SIGNOPE\n", "RestartPreventExitStatus"},
	} {
		_, err := parseUnit(strings.NewReader(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %q", tc.text, err, tc.want)
		}
	}
}

// systemd.service(5)'s table, with RestartPreventExitStatus first.
func TestShallRestart(t *testing.T) {
	always := unit{Restart: "always", RestartPreventCodes: []int{2}}
	onFailure := unit{Restart: "on-failure"}
	for _, tc := range []struct {
		name string
		u    unit
		r    exitResult
		want bool
	}{
		{"always, clean exit", always, exitResult{code: 0}, true},
		{"always, SIGKILL", always, exitResult{signal: syscall.SIGKILL}, true},
		{"always, exit 2 prevented", always, exitResult{code: 2}, false},
		{"always, watchdog then exit 2 (Go after SIGABRT) prevented", always, exitResult{code: 2, watchdog: true}, false},
		{"always, watchdog then SIGABRT", always, exitResult{signal: syscall.SIGABRT, watchdog: true}, true},
		{"on-failure, exit 0", onFailure, exitResult{code: 0}, false},
		{"on-failure, SIGTERM is clean", onFailure, exitResult{signal: syscall.SIGTERM}, false},
		{"on-failure, exit 1", onFailure, exitResult{code: 1}, true},
		{"on-watchdog, watchdog", unit{Restart: "on-watchdog"}, exitResult{signal: syscall.SIGABRT, watchdog: true}, true},
		{"on-watchdog, crash", unit{Restart: "on-watchdog"}, exitResult{signal: syscall.SIGSEGV}, false},
		{"on-abort, crash", unit{Restart: "on-abort"}, exitResult{signal: syscall.SIGSEGV}, true},
		{"no", unit{Restart: "no"}, exitResult{signal: syscall.SIGSEGV}, false},
	} {
		if got, why := tc.u.shallRestart(tc.r); got != tc.want {
			t.Errorf("%s: restart=%v (%s), want %v", tc.name, got, why, tc.want)
		}
	}
}
