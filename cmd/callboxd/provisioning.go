package main

// callboxd -data DIR: the box as it ships. The settings live in
// DIR/callbox.toml, written by the setup page (package provisioning), which
// callboxd serves over HTTPS. With no settings yet (first boot, or after a
// factory reset) the daemon does not exit: it serves the page, logs the
// setup code, and starts the call once setup is done. Saved settings restart
// the call with them.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/provisioning/wifi"
)

// usesDataDir reports whether callboxd was started with -data.
func usesDataDir(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "data" {
			return true
		}
	}
	return false
}

func runFromDataDir(args []string) int {
	fs := flag.NewFlagSet("callboxd", flag.ContinueOnError)
	dataDir := fs.String("data", "", "data directory: settings, admin password, TLS key; the setup page writes it")
	listen := fs.String("listen", ":443", "address of the setup page (HTTPS)")
	wpaSocket := fs.String("wpa-socket", "", "wpa_supplicant's control socket (e.g. /var/run/wpa_supplicant/wlan0) for Wi-Fi setup; empty: no Wi-Fi")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default: log.level of the settings)")
	fs.StringVar(&controlSocket, "control", "", "Unix socket of the local API for callboxctl screenshot and invite (default DIR/control.sock)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		slog.Error("callboxd cannot start", "err", oneLine(err))
		return exitBadConfig
	}
	if *dataDir == "" || fs.NArg() > 0 {
		slog.Error("callboxd cannot start: -data needs a directory, and no other arguments")
		return exitBadConfig
	}
	store, err := provisioning.OpenStore(*dataDir)
	if err != nil {
		slog.Error("callboxd cannot start", "err", oneLine(err))
		return exitBadConfig
	}
	boot := store.Boot()
	level := boot.Config.Log.Level
	if *logLevel != "" {
		level = *logLevel
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		slog.Error("callboxd cannot start: -log-level " + level + " is not one of debug, info, warn, error")
		return exitBadConfig
	}
	logs := provisioning.NewLogBuffer(500)
	log := slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, logs), &slog.HandlerOptions{Level: l}))
	slog.SetDefault(log)
	call.UseLogger(log.With("part", "livekit"))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	defer notifySystemd(ctx, log)() // systemd.go: READY=1 now, the watchdog fed, STOPPING=1 at the end

	sup := newSupervisor(log, boot)
	network := wifi.NewSetup(wifi.SetupOptions{Socket: *wpaSocket, Listen: *listen, Logger: log}) // scan, join, the access point
	var wg sync.WaitGroup
	wifiCtx, stopWiFi := context.WithCancel(ctx)
	defer func() { stopWiFi(); wg.Wait() }()
	wg.Go(func() { network.Run(wifiCtx) })
	page := provisioning.NewServer(provisioning.Options{Store: store, Controller: sup, Logs: logs, Logger: log,
		WiFi: network.Chooser(), Network: network.Status})
	sup.setup = &setupScreen{page: page, log: log} // screen.go
	sup.factoryReset = page.FactoryReset
	if controlSocket == "" {
		controlSocket = filepath.Join(*dataDir, "control.sock")
	}
	go serveLocalAPI(ctx, controlSocket, &localBox{current: sup.current, setup: sup.setup}, log)
	served := make(chan error, 1)
	go func() {
		served <- page.ListenAndServe(ctx, *listen, func(addr net.Addr) {
			sup.setup.setListen(addr)
			log.Info("setup page", "url", "https://"+addr.String()+"/", "tls_fingerprint", page.Fingerprint())
			page.AnnounceSetup()
		})
	}()
	sup.run(ctx)
	if err := <-served; err != nil {
		log.Error("callboxd stopped: the setup page cannot be served", "err", err)
		return exitFailed
	}
	return exitOK
}

// supervisor runs the call with the settings of the moment: it implements
// provisioning.Controller. It starts the call when the box is set up and a
// call is wanted, and starts it again after settings change or a restart.
type supervisor struct {
	log  *slog.Logger
	wake chan struct{} // something changed: look again

	mu     sync.Mutex
	boot   provisioning.Boot
	hungUp bool
	daemon *daemon // the running call's, nil when none runs
	since  time.Time
	setup  *setupScreen // the setup card on the screen (screen.go); nil: none
	// factoryReset is the page's, given to each call's factory-reset button.
	factoryReset func() error
}

// current is the running call's daemon, nil when none runs.
func (s *supervisor) current() *daemon {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.daemon
}

func newSupervisor(log *slog.Logger, boot provisioning.Boot) *supervisor {
	return &supervisor{log: log, boot: boot, wake: make(chan struct{}, 1), since: time.Now()}
}

func (s *supervisor) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *supervisor) Status() provisioning.CallStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.boot.Config
	st := provisioning.CallStatus{Room: cfg.Call.Room, Codec: cfg.Video.Codec,
		CodecReason: "chosen in the settings", Participants: []provisioning.Participant{}, Since: s.since}
	switch {
	case s.boot.SetupNeeded:
		st.State, st.Room, st.Codec = "setup needed", "", ""
	case s.boot.SettingsNeeded:
		st.State, st.Room, st.Codec = "settings needed", "", ""
	case s.daemon == nil:
		st.State = call.Idle.String()
	default:
		if choice := s.daemon.video.Choice(); choice.Reason != "" {
			st.CodecReason = choice.String()
		}
		cs := s.daemon.session.Status()
		st.State = cs.State.String()
		if encrypted, fingerprint := s.daemon.session.Encryption(); encrypted {
			st.Encrypted, st.KeyFingerprint, st.KeyWords = true, fingerprint, call.FingerprintWords(fingerprint)
		}
		st.Participants = participantsOf(s.daemon.session.Members()) // participants.go
		if cs.Err != nil {
			st.Error = cs.Err.Error()
		}
	}
	return st
}

func (s *supervisor) Call() {
	s.mu.Lock()
	s.hungUp = false
	s.mu.Unlock()
	s.poke()
}

func (s *supervisor) HangUp() {
	s.mu.Lock()
	s.hungUp = true
	s.mu.Unlock()
	s.poke()
}

func (s *supervisor) Restart() { s.poke() }

func (s *supervisor) Apply(boot provisioning.Boot) {
	s.mu.Lock()
	s.boot = boot
	s.mu.Unlock()
	s.poke()
}

// run keeps the call going as wanted until ctx ends.
func (s *supervisor) run(ctx context.Context) {
	for ctx.Err() == nil {
		s.mu.Lock()
		boot, hungUp := s.boot, s.hungUp
		s.mu.Unlock()
		if boot.SetupNeeded || boot.SettingsNeeded || hungUp {
			showCtx, hide := context.WithCancel(ctx)
			shown := make(chan struct{})
			if boot.SetupNeeded {
				s.log.Info("waiting for setup")
				go func() { defer close(shown); s.setup.show(showCtx, boot.Config.Display) }()
			} else {
				close(shown)
			}
			select {
			case <-ctx.Done():
			case <-s.wake:
			}
			hide()
			<-shown // the screen is free for the call
			continue
		}
		callCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- runDaemonWith(callCtx, boot.Config, s.log, func(d *daemon) {
				d.factoryReset = s.factoryReset
				s.mu.Lock()
				s.daemon, s.since = d, time.Now()
				s.mu.Unlock()
			})
		}()
		var err error
		select {
		case <-ctx.Done():
			cancel()
			err = <-done
		case <-s.wake:
			s.log.Info("restarting the call with the current settings")
			cancel()
			err = <-done
		case err = <-done:
			cancel()
			if err == nil {
				err = fmt.Errorf("the call stopped")
			}
			s.log.Error("the call stopped; starting it again", "err", err)
			select {
			case <-ctx.Done():
			case <-s.wake:
			case <-time.After(5 * time.Second):
			}
		}
		s.mu.Lock()
		s.daemon, s.since = nil, time.Now()
		s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Debug("call ended", "err", err)
		}
	}
}
