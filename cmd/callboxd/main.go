// Command callboxd is the Callbox daemon: it loads the settings, opens the
// camera and microphone, and keeps the box in its call until it is stopped.
//
// It starts in one of two modes (flags.go): -data DIR, the box as it
// ships, which serves the setup page and runs the call it sets up
// (provisioning.go); or -config FILE, a call with fixed settings, for
// development. Both share one start (run): the log, the signals, systemd's
// notifications and watchdog, and the local API.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
)

func main() {
	if err := lightenMemory(); err != nil { // memory.go
		// A kernel without the setting: the box works, a little heavier.
		slog.Warn("callboxd's memory settings", "err", err)
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

// Exit codes: 0 after a clean stop, 2 for settings that cannot work.
const (
	exitOK        = 0
	exitBadConfig = 2
	exitFailed    = 1
)

func run(args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var m mode
	if err == nil {
		m, err = openMode(o)
	}
	if err != nil {
		slog.New(slog.NewTextHandler(stderr, nil)).Error("callboxd cannot start", "err", oneLine(err))
		return exitBadConfig
	}
	log := newLogger(m.logLevel(), m.logTo(stderr))
	slog.SetDefault(log)
	call.UseLogger(log.With("part", "livekit"))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := runMode(ctx, m, o.control, log); err != nil {
		log.Error("callboxd stopped", "err", err)
		return exitFailed
	}
	return exitOK
}

// A mode is what callboxd runs, read from its files before the log starts.
type mode interface {
	logLevel() string
	// logTo is where the log is written: stderr, and with -data the
	// setup page's copy too.
	logTo(stderr io.Writer) io.Writer
	// metrics says whether and where the metrics are served (metrics.go),
	// as the settings say once start has returned.
	metrics() config.Metrics
	// start makes what the mode runs with the shared parts; the local API
	// answers from the box it returns until run returns.
	start(log *slog.Logger, beats *heartbeat) (box *localBox, run func(context.Context) error)
}

// openMode reads what o's mode needs: the settings file (-config) or the
// data directory (-data).
func openMode(o options) (mode, error) {
	if o.dataDir == "" {
		cfg, err := loadConfig(o)
		return configMode{cfg: cfg}, err
	}
	return openDataDir(o) // provisioning.go
}

// runMode runs m with what both modes share, until ctx ends or m stops:
// systemd is told, and its watchdog fed from the heartbeat of the call's
// loops (heartbeat.go); the local API serves at controlSocket. It returns
// once everything it started has ended.
func runMode(ctx context.Context, m mode, controlSocket string, log *slog.Logger) error {
	beats := newHeartbeat()
	defer notifySystemd(ctx, log, beats)() // systemd.go: READY=1 now, STOPPING=1 at the end
	box, runIt := m.start(log, beats)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // the local API ends with the mode
	wg.Go(func() { serveLocalAPI(ctx, controlSocket, box, log) })
	wg.Go(func() { serveMetrics(ctx, m.metrics(), box, log) })
	return runIt(ctx)
}

// configMode is callboxd -config FILE: one call with fixed settings.
type configMode struct {
	cfg config.Config
	// prepare, in tests, changes the daemon before it runs (a fake encoder).
	prepare func(*daemon)
}

func (m configMode) logLevel() string                 { return m.cfg.Log.Level }
func (m configMode) logTo(stderr io.Writer) io.Writer { return stderr }
func (m configMode) metrics() config.Metrics          { return m.cfg.Metrics }

func (m configMode) start(log *slog.Logger, beats *heartbeat) (*localBox, func(context.Context) error) {
	var running atomic.Pointer[daemon]
	keyStore := &boxKeyStore{} // no data directory: the identity and invites of this run
	status := func() provisioning.CallStatus {
		st := provisioning.CallStatus{State: call.Idle.String()}
		if d := running.Load(); d != nil {
			d.callStatus(&st) // provisioning.go
		}
		return st
	}
	return &localBox{current: running.Load, status: status}, func(ctx context.Context) error {
		d, err := newDaemon(m.cfg, log, beats, keyStore) // daemon.go
		if err != nil {
			return err
		}
		if m.prepare != nil {
			m.prepare(d)
		}
		running.Store(d)
		return d.run(ctx)
	}
}

// isValidationOnly reports whether a load error is only about values, which
// flags may still correct.
func isValidationOnly(err error) bool {
	var fe *config.FieldError
	return errors.As(err, &fe)
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated already
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// oneLine folds errors.Join's lines so a bad config is one log line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
