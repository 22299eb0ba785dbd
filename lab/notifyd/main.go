// Command lab-notifyd is a stand-in for systemd in the lab VM (busybox, no
// systemd): it reads callboxd's real service file and supervises the
// daemon with that unit's semantics, so the lab can check them on the real
// callboxd. It owns the notify socket and the daemon's life (start, watch,
// kill, restart, stop); it must not touch the call or the devices, and it
// is no service manager for anything but one Type=notify unit.
//
// What it does, as systemd would (systemd.service(5), sd_notify(3)):
//   - makes a unixgram NOTIFY_SOCKET and starts ExecStart with
//     NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the daemon's own pid,
//     set through sh's `exec`, which keeps the pid) and the unit's
//     Environment=; with NotifyAccess=main it takes messages only from the
//     daemon's pid (SCM_CREDENTIALS);
//   - waits TimeoutStartSec for READY=1;
//   - after WatchdogSec without WATCHDOG=1 sends WatchdogSignal (SIGABRT)
//     and SIGCONT, and SIGKILL after TimeoutStopSec;
//   - on exit decides by RestartPreventExitStatus and Restart= and starts
//     the daemon again after RestartSec;
//   - on its own SIGTERM (systemctl stop) sends SIGTERM, waits
//     TimeoutStopSec, then SIGKILL, and does not restart.
//
// Everything that happens is one line in the -events file (and on stderr,
// prefixed "notifyd:"), for the lab scenario to wait on and check:
//
//	start N pid=P                  run N of the daemon began
//	ready N after=1.2s             READY=1 arrived
//	watchdog N count=K gap=2.0s    WATCHDOG=1 (events file only)
//	watchdog-late N gap=3.4s       a WATCHDOG=1 came later than WatchdogSec/2 + -margin
//	stopping N                     STOPPING=1 arrived
//	watchdog-timeout N silent=4.0s signal=SIGABRT
//	exit N code=C|signal=S result=R pings=K longest_gap=2.0s
//	restart N in=3s reason=...     run N+1 follows after RestartSec
//	no-restart N reason=...        the unit would stay dead; lab-notifyd exits 1
//	stopped N code=C|signal=S      after lab-notifyd's SIGTERM; exits 0 if clean
//
// Usage: lab-notifyd -unit callboxd.service [-watchdog-sec 4s] [-bin-dir /usr/local/bin] [-events FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type options struct {
	unitPath    string
	watchdog    time.Duration // overrides WatchdogSec when > 0
	margin      time.Duration
	binDir      string
	eventsPath  string
	socketDir   string
	maxRestarts int
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("lab-notifyd", flag.ContinueOnError)
	fs.StringVar(&o.unitPath, "unit", "", "the systemd service file to follow (required)")
	fs.DurationVar(&o.watchdog, "watchdog-sec", 0, "use this WatchdogSec instead of the unit's (a short one keeps the lab quick)")
	fs.DurationVar(&o.margin, "margin", time.Second, "how much later than WatchdogSec/2 a WATCHDOG=1 may come before it counts as late")
	fs.StringVar(&o.binDir, "bin-dir", "", "run ExecStart's program from this directory (the lab's /usr/local/bin) instead of its own")
	fs.StringVar(&o.eventsPath, "events", "", "append event lines to this file")
	fs.StringVar(&o.socketDir, "socket-dir", "/run/lab-notifyd", "where the notify socket is made")
	fs.IntVar(&o.maxRestarts, "max-restarts", 20, "give up after this many restarts (the lab has a time limit anyway)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.unitPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "lab-notifyd: usage: lab-notifyd -unit FILE [-watchdog-sec D] [-bin-dir DIR] [-events FILE]")
		return 2
	}
	f, err := os.Open(o.unitPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab-notifyd:", err)
		return 2
	}
	u, err := parseUnit(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab-notifyd: %s: %v\n", o.unitPath, err)
		return 2
	}
	if o.watchdog > 0 {
		u.Watchdog = o.watchdog
	}
	s, err := newSupervisor(u, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab-notifyd:", err)
		return 1
	}
	defer s.close()
	s.logf("unit %s: Type=%s NotifyAccess=%s WatchdogSec=%s (unit's, or -watchdog-sec) Restart=%s RestartSec=%s TimeoutStopSec=%s RestartPreventExitStatus=%v%v ExecStart=%q",
		o.unitPath, u.Type, u.NotifyAccess, u.Watchdog, u.Restart, u.RestartSec, u.TimeoutStop,
		u.RestartPreventCodes, u.RestartPreventSignals, s.argv)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return s.supervise(ctx)
}

// message is one datagram on the notify socket.
type message struct {
	pid   int32
	lines []string
	at    time.Time
}

type supervisor struct {
	u        unit
	o        options
	argv     []string
	sock     *net.UnixConn
	path     string
	msgs     chan message
	closing  chan struct{} // closed by close: receive stops handing over
	received chan struct{} // closed when receive has returned
	events   io.Writer
	mu       sync.Mutex
}

func newSupervisor(u unit, o options) (*supervisor, error) {
	s := &supervisor{u: u, o: o, msgs: make(chan message, 64), events: io.Discard,
		closing: make(chan struct{}), received: make(chan struct{})}
	s.argv = append([]string(nil), u.ExecStart...)
	if o.binDir != "" {
		s.argv[0] = filepath.Join(o.binDir, filepath.Base(s.argv[0]))
	}
	if o.eventsPath != "" {
		f, err := os.OpenFile(o.eventsPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("events file: %w", err)
		}
		s.events = f
	}
	if err := os.MkdirAll(o.socketDir, 0o755); err != nil {
		return nil, fmt.Errorf("notify socket directory: %w", err)
	}
	s.path = filepath.Join(o.socketDir, "notify")
	_ = os.Remove(s.path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket %s: %w", s.path, err)
	}
	s.sock = conn
	// The sender's pid comes with each datagram, for NotifyAccess=main.
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("notify socket %s: %w", s.path, err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1)
	}); err != nil || serr != nil {
		return nil, fmt.Errorf("notify socket %s: SO_PASSCRED: %w", s.path, errors.Join(err, serr))
	}
	go s.receive()
	return s, nil
}

func (s *supervisor) close() {
	close(s.closing)
	s.sock.Close()
	<-s.received
	_ = os.Remove(s.path)
	if c, ok := s.events.(io.Closer); ok {
		c.Close()
	}
}

// receive hands each datagram on the socket to msgs until close.
func (s *supervisor) receive() {
	defer close(s.received)
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(syscall.SizeofUcred))
	for {
		n, oobn, _, _, err := s.sock.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		m := message{pid: -1, at: time.Now()}
		if cmsgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, c := range cmsgs {
				if cred, err := syscall.ParseUnixCredentials(&c); err == nil {
					m.pid = cred.Pid
				}
			}
		}
		m.lines = strings.Split(strings.TrimSpace(string(buf[:n])), "\n")
		select {
		case s.msgs <- m:
		case <-s.closing:
			return
		}
	}
}

// logf writes a line to stderr (the console, the journal's stand-in).
func (s *supervisor) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "notifyd: "+format+"\n", args...)
}

// event records one event line; quiet ones stay out of the console.
func (s *supervisor) event(quiet bool, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.mu.Lock()
	fmt.Fprintln(s.events, line)
	s.mu.Unlock()
	if !quiet {
		s.logf("%s", line)
	}
}

// supervise runs the daemon until lab-notifyd is stopped or the unit's
// settings say not to restart it.
func (s *supervisor) supervise(ctx context.Context) int {
	for n := 1; ; n++ {
		res, stopped, err := s.runOnce(ctx, n)
		if err != nil {
			s.event(false, "no-restart %d reason=%q", n, err.Error())
			return 1
		}
		if stopped {
			s.event(false, "stopped %d %s", n, describe(res))
			if res.clean() {
				return 0
			}
			return 1
		}
		restart, why := s.u.shallRestart(res)
		if !restart {
			s.event(false, "no-restart %d reason=%q", n, why)
			return 1
		}
		if n > s.o.maxRestarts {
			s.event(false, "no-restart %d reason=%q", n, "more than -max-restarts restarts")
			return 1
		}
		s.event(false, "restart %d in=%s reason=%q", n, s.u.RestartSec, why)
		select {
		case <-ctx.Done():
			s.event(false, "stopped %d while waiting to restart", n)
			return 0
		case <-time.After(s.u.RestartSec):
		}
	}
}

func describe(r exitResult) string {
	if r.signal != 0 {
		return "signal=" + signalName(r.signal)
	}
	return "code=" + strconv.Itoa(r.code)
}

func resultName(r exitResult) string {
	switch {
	case r.watchdog:
		return "watchdog"
	case r.timeout:
		return "timeout"
	case r.clean():
		return "success"
	case r.signal != 0:
		return "signal"
	}
	return "exit-code"
}

// runOnce starts run n of the daemon and watches it until it ends. stopped
// says lab-notifyd's own SIGTERM ended it.
func (s *supervisor) runOnce(ctx context.Context, n int) (res exitResult, stopped bool, err error) {
	env := append(os.Environ(), s.u.Environment...)
	env = append(env, "NOTIFY_SOCKET="+s.path)
	if s.u.Watchdog > 0 {
		env = append(env, "WATCHDOG_USEC="+strconv.FormatInt(s.u.Watchdog.Microseconds(), 10))
	}
	// systemd sets WATCHDOG_PID to the daemon's pid between fork and exec;
	// sh's exec keeps its pid, so $$ is that pid.
	cmd := exec.Command("/bin/sh", append([]string{"-c", `export WATCHDOG_PID=$$; exec "$0" "$@"`}, s.argv...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return res, false, fmt.Errorf("start %s: %w", s.argv[0], err)
	}
	pid := cmd.Process.Pid
	s.event(false, "start %d pid=%d", n, pid)
	exited := make(chan exitResult, 1)
	go func() {
		_ = cmd.Wait()
		var r exitResult
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signal = ws.Signal()
		} else {
			r.code = cmd.ProcessState.ExitCode()
		}
		exited <- r
	}()

	var (
		ready      bool
		pings      int
		lastFed    = started // the watchdog's clock, reset by READY=1 and WATCHDOG=1
		lastPing   time.Time
		longestGap time.Duration
		killing    bool // a watchdog or start timeout, or our stop, is ending it
		killedAt   time.Time
	)
	kill := func(sig syscall.Signal) {
		_ = syscall.Kill(pid, sig)
		if sig != syscall.SIGKILL && sig != syscall.SIGCONT {
			_ = syscall.Kill(pid, syscall.SIGCONT) // as systemd does: a stopped process must run to die
		}
		if !killing {
			killing, killedAt = true, time.Now()
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	stopRequested := ctx.Done()
	for {
		select {
		case r := <-exited:
			r.watchdog, r.timeout = res.watchdog, res.timeout
			s.event(false, "exit %d %s result=%s pings=%d longest_gap=%.1fs", n, describe(r), resultName(r), pings, longestGap.Seconds())
			return r, stopped, nil
		case <-stopRequested:
			stopRequested = nil
			stopped = true
			s.logf("stopping run %d: SIGTERM", n)
			kill(syscall.SIGTERM)
		case m := <-s.msgs:
			if s.u.NotifyAccess == "none" || (s.u.NotifyAccess == "main" && m.pid != int32(pid)) {
				s.logf("ignored a notify message from pid %d (NotifyAccess=%s, main pid %d): %q", m.pid, s.u.NotifyAccess, pid, m.lines)
				continue
			}
			for _, l := range m.lines {
				switch {
				case l == "READY=1" && !ready:
					ready = true
					lastFed = m.at
					s.event(false, "ready %d after=%.1fs", n, m.at.Sub(started).Seconds())
				case l == "WATCHDOG=1" && !killing:
					pings++
					from := lastPing
					if from.IsZero() {
						from = lastFed
					}
					gap := m.at.Sub(from)
					longestGap = max(longestGap, gap)
					lastPing, lastFed = m.at, m.at
					s.event(true, "watchdog %d count=%d gap=%.1fs", n, pings, gap.Seconds())
					if s.u.Watchdog > 0 && gap > s.u.Watchdog/2+s.o.margin {
						s.event(false, "watchdog-late %d gap=%.1fs want<=%.1fs", n, gap.Seconds(), (s.u.Watchdog/2 + s.o.margin).Seconds())
					}
				case l == "STOPPING=1":
					s.event(false, "stopping %d", n)
				}
			}
		case now := <-tick.C:
			switch {
			case killing:
				if now.Sub(killedAt) > s.u.TimeoutStop && s.u.TimeoutStop > 0 {
					s.logf("run %d did not end %s after the signal: SIGKILL", n, s.u.TimeoutStop)
					_ = syscall.Kill(pid, syscall.SIGKILL)
					killedAt = now // once per TimeoutStopSec at most
				}
			case !ready && s.u.TimeoutStart > 0 && now.Sub(started) > s.u.TimeoutStart:
				s.logf("run %d sent no READY=1 within TimeoutStartSec=%s: SIGTERM", n, s.u.TimeoutStart)
				res.timeout = true
				kill(syscall.SIGTERM)
			case ready && s.u.Watchdog > 0 && now.Sub(lastFed) > s.u.Watchdog:
				res.watchdog = true
				s.event(false, "watchdog-timeout %d silent=%.1fs signal=%s", n, now.Sub(lastFed).Seconds(), signalName(s.u.WatchdogSig))
				kill(s.u.WatchdogSig)
			}
		}
	}
}
