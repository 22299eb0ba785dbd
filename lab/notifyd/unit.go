package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// unit is what lab-notifyd takes from a systemd service file: the settings
// of the [Service] section that decide how the daemon is started, watched,
// stopped and restarted. Sandboxing (ProtectSystem, PrivateTmp, …) and
// ordering ([Unit], [Install]) have no meaning here and are skipped.
type unit struct {
	Type         string        // only "notify" is supported
	NotifyAccess string        // "main" (the default here, as for Type=notify), "all" or "none"
	ExecStart    []string      // the program and its arguments
	Environment  []string      // NAME=VALUE pairs
	Watchdog     time.Duration // WatchdogSec; 0: off
	WatchdogSig  syscall.Signal
	Restart      string // no, always, on-success, on-failure, on-abnormal, on-abort, on-watchdog
	RestartSec   time.Duration
	TimeoutStart time.Duration
	TimeoutStop  time.Duration
	// RestartPrevent lists exit codes and signals that are never restarted.
	RestartPreventCodes   []int
	RestartPreventSignals []syscall.Signal
}

// parseUnit reads a service file. Keys it does not need are ignored; a key
// it needs with a value it does not understand is an error naming the key.
func parseUnit(r io.Reader) (unit, error) {
	u := unit{Type: "simple", NotifyAccess: "main", Restart: "no", RestartSec: 100 * time.Millisecond,
		TimeoutStart: 90 * time.Second, TimeoutStop: 90 * time.Second, WatchdogSig: syscall.SIGABRT}
	sc := bufio.NewScanner(r)
	section := ""
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		for strings.HasSuffix(line, "\\") && sc.Scan() { // continuation lines
			lineNo++
			line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(sc.Text())
		}
		switch {
		case line == "", line[0] == '#', line[0] == ';':
			continue
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			continue
		case section != "Service":
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return u, fmt.Errorf("line %d: %q is not KEY=VALUE", lineNo, line)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		var err error
		switch key {
		case "Type":
			u.Type = value
		case "NotifyAccess":
			u.NotifyAccess = value
		case "ExecStart":
			u.ExecStart, err = splitCommand(value)
		case "Environment":
			var words []string
			if words, err = splitCommand(value); err == nil {
				u.Environment = append(u.Environment, words...)
			}
		case "WatchdogSec":
			u.Watchdog, err = parseTimeSpan(value)
		case "WatchdogSignal":
			u.WatchdogSig, err = parseSignal(value)
		case "Restart":
			u.Restart = value
		case "RestartSec":
			u.RestartSec, err = parseTimeSpan(value)
		case "TimeoutStartSec":
			u.TimeoutStart, err = parseTimeSpan(value)
		case "TimeoutStopSec":
			u.TimeoutStop, err = parseTimeSpan(value)
		case "TimeoutSec":
			u.TimeoutStart, err = parseTimeSpan(value)
			u.TimeoutStop = u.TimeoutStart
		case "RestartPreventExitStatus":
			for _, f := range strings.Fields(value) {
				if n, nerr := strconv.Atoi(f); nerr == nil && n >= 0 && n <= 255 {
					u.RestartPreventCodes = append(u.RestartPreventCodes, n)
				} else if sig, serr := parseSignal(f); serr == nil {
					u.RestartPreventSignals = append(u.RestartPreventSignals, sig)
				} else {
					err = fmt.Errorf("%q is neither an exit code nor a signal", f)
				}
			}
		}
		if err != nil {
			return u, fmt.Errorf("line %d: %s: %w", lineNo, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return u, err
	}
	switch {
	case len(u.ExecStart) == 0:
		return u, fmt.Errorf("no ExecStart in [Service]")
	case u.Type != "notify":
		return u, fmt.Errorf("Type=%s: lab-notifyd supervises Type=notify services only", u.Type)
	}
	switch u.Restart {
	case "no", "always", "on-success", "on-failure", "on-abnormal", "on-abort", "on-watchdog":
	default:
		return u, fmt.Errorf("Restart=%s: not a restart setting systemd knows", u.Restart)
	}
	return u, nil
}

// splitCommand splits a command line as systemd does for the common cases:
// words separated by spaces, double or single quotes grouping. A leading
// '-', '@', '+' or '!' prefix on the program is dropped.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) > 0 {
		words[0] = strings.TrimLeft(words[0], "-@+!:")
	}
	return words, nil
}

// parseTimeSpan reads systemd's time spans: "30", "30s", "1min 30s", "500ms".
// A bare number is seconds; "infinity" is 0 (off).
func parseTimeSpan(s string) (time.Duration, error) {
	if s == "infinity" {
		return 0, nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%q: negative", s)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	units := map[string]time.Duration{
		"us": time.Microsecond, "usec": time.Microsecond, "ms": time.Millisecond, "msec": time.Millisecond,
		"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
		"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
		"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
	}
	var total time.Duration
	rest := strings.ReplaceAll(s, " ", "")
	if rest == "" {
		return 0, fmt.Errorf("empty time span")
	}
	for rest != "" {
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, fmt.Errorf("%q is not a time span (e.g. 30s, 1min 30s)", s)
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a time span: %w", s, err)
		}
		rest = rest[i:]
		j := strings.IndexFunc(rest, func(r rune) bool { return r >= '0' && r <= '9' })
		if j < 0 {
			j = len(rest)
		}
		u, ok := units[rest[:j]]
		if !ok {
			return 0, fmt.Errorf("%q: unknown unit %q", s, rest[:j])
		}
		total += time.Duration(num * float64(u))
		rest = rest[j:]
	}
	return total, nil
}

var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "ILL": syscall.SIGILL,
	"TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT, "BUS": syscall.SIGBUS, "FPE": syscall.SIGFPE,
	"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "SEGV": syscall.SIGSEGV, "USR2": syscall.SIGUSR2,
	"PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM, "TERM": syscall.SIGTERM, "SYS": syscall.SIGSYS,
}

func parseSignal(s string) (syscall.Signal, error) {
	if sig, ok := signalNames[strings.TrimPrefix(s, "SIG")]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("%q is not a signal name", s)
}

func signalName(sig syscall.Signal) string {
	for name, s := range signalNames {
		if s == sig {
			return "SIG" + name
		}
	}
	return strconv.Itoa(int(sig))
}

// exitResult is how one run of the daemon ended, in systemd's terms.
type exitResult struct {
	code     int            // exit code when signal is 0
	signal   syscall.Signal // the signal that killed it, 0 if it exited
	watchdog bool           // killed because its watchdog ran out
	timeout  bool           // killed because READY=1 or the stop took too long
}

// clean is systemd's "clean exit": code 0, or death by SIGHUP, SIGINT,
// SIGTERM or SIGPIPE (systemd.service(5), SuccessExitStatus=).
func (r exitResult) clean() bool {
	if r.watchdog || r.timeout {
		return false
	}
	switch r.signal {
	case 0:
		return r.code == 0
	case syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE:
		return true
	}
	return false
}

// shallRestart decides as systemd's service_shall_restart does: a
// RestartPreventExitStatus match first, then the Restart= table of
// systemd.service(5). A manual stop never restarts and is not asked here.
func (u unit) shallRestart(r exitResult) (bool, string) {
	if r.signal == 0 {
		for _, c := range u.RestartPreventCodes {
			if c == r.code {
				return false, fmt.Sprintf("exit code %d is in RestartPreventExitStatus", c)
			}
		}
	} else {
		for _, s := range u.RestartPreventSignals {
			if s == r.signal {
				return false, fmt.Sprintf("signal %s is in RestartPreventExitStatus", signalName(s))
			}
		}
	}
	uncleanSignal := r.signal != 0 && !r.clean()
	var restart bool
	switch u.Restart {
	case "always":
		restart = true
	case "on-success":
		restart = r.clean()
	case "on-failure":
		restart = !r.clean()
	case "on-abnormal":
		restart = uncleanSignal || r.watchdog || r.timeout
	case "on-abort":
		restart = uncleanSignal && !r.watchdog && !r.timeout
	case "on-watchdog":
		restart = r.watchdog
	}
	return restart, "Restart=" + u.Restart
}
