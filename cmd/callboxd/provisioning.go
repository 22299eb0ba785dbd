package main

// callboxd -data DIR: the box as it ships. The settings live in
// DIR/callbox.toml, written by the setup page (package provisioning), which
// callboxd serves over HTTPS. With no settings yet (first boot, or after a
// factory reset) the daemon does not exit: it serves the page, logs the
// setup code, and starts the call once setup is done. Saved settings restart
// the call with them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/provisioning/wifi"
)

// dataMode is callboxd -data DIR.
type dataMode struct {
	o     options
	store *provisioning.Store
	boot  provisioning.Boot
	logs  *provisioning.LogBuffer // the log as the setup page shows it
}

func openDataDir(o options) (*dataMode, error) {
	store, err := provisioning.OpenStore(o.dataDir)
	if err != nil {
		return nil, err
	}
	return &dataMode{o: o, store: store, boot: store.Boot(), logs: provisioning.NewLogBuffer(500)}, nil
}

func (m *dataMode) logLevel() string {
	if m.o.logLevel != "" {
		return m.o.logLevel
	}
	return m.boot.Config.Log.Level
}

func (m *dataMode) logTo(stderr io.Writer) io.Writer { return io.MultiWriter(stderr, m.logs) }

// metrics are the settings' once the mode has started (a provisioning
// file taken): a later change takes a restart.
func (m *dataMode) metrics() config.Metrics { return m.store.Boot().Config.Metrics }

// start makes the supervisor of the call, the setup page and the Wi-Fi;
// run serves the page and keeps the call going as the page says. A page
// that cannot be served stops callboxd.
func (m *dataMode) start(log *slog.Logger, beats *heartbeat) (*localBox, func(context.Context) error) {
	sup := newSupervisor(log, m.boot)
	sup.beats = beats
	sup.keys = &boxKeyStore{dir: m.o.dataDir}
	network := wifi.NewSetup(wifi.SetupOptions{Socket: m.o.wpaSocket, Listen: m.o.listen, Logger: log}) // scan, join, the access point
	page := provisioning.NewServer(provisioning.Options{Store: m.store, Controller: sup, Logs: m.logs, Logger: log,
		WiFi: network.Chooser(), Network: network.Status, Invites: sup})
	sup.setup = &setupScreen{page: page, log: log} // screen.go
	sup.factoryReset = page.FactoryReset
	// Before anything reads the settings (the metrics, the call) or the
	// page announces a setup code it would spend. Its Wi-Fi is chosen
	// before the access point can open (after a grace period).
	provisionCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	page.Provision(provisionCtx, m.o.provision)
	cancel()
	return &localBox{current: sup.current, status: sup.Status, setup: sup.setup, invites: sup}, func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { network.Run(ctx) })
		var pageErr error
		wg.Go(func() {
			pageErr = page.ListenAndServe(ctx, m.o.listen, func(addr net.Addr) {
				sup.setup.setListen(addr)
				log.Info("setup page", "url", "https://"+addr.String()+"/", "tls_fingerprint", page.Fingerprint())
				page.AnnounceSetup()
			})
			cancel() // without its page the box cannot be set up: stop, and be started again
		})
		sup.run(ctx)
		cancel()
		wg.Wait()
		if pageErr != nil {
			return fmt.Errorf("the setup page cannot be served: %w", pageErr)
		}
		return nil
	}
}

// supervisor runs the call with the settings of the moment: it implements
// provisioning.Controller. It starts the call when the box is set up and a
// call is wanted, and starts it again after settings change or a restart.
type supervisor struct {
	log   *slog.Logger
	beats *heartbeat    // what each call's loops beat (heartbeat.go)
	wake  chan struct{} // something changed: look again

	mu     sync.Mutex
	boot   provisioning.Boot
	hungUp bool
	daemon *daemon // the running call's, nil when none runs
	since  time.Time
	setup  *setupScreen // the setup card on the screen (screen.go); nil: none
	// factoryReset is the page's, given to each call's factory-reset button.
	factoryReset func() error
	// keys are the box's identity and invites, in the data directory.
	keys *boxKeyStore
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
		st.Share = &provisioning.ShareStatus{Input: cfg.Video.ContentCamera, Summary: "not sharing: " + noCallRuns}
		if cfg.Video.ContentCamera == "" {
			st.Share.Summary = "not sharing: " + noContentInput
		}
	default:
		s.daemon.callStatus(&st)
	}
	return st
}

// callStatus fills in what the status page (and the metrics) say of the
// running call.
func (d *daemon) callStatus(st *provisioning.CallStatus) {
	if choice := d.video.Choice(); choice.Reason != "" {
		st.CodecReason = choice.String()
	}
	st.BrokenCameraFrames = d.video.BrokenFrames()
	cs := d.session.Status()
	st.State, st.Summary = cs.State.String(), cs.Summary(time.Now())
	if cs.State == call.InCall {
		st.Path = cs.Path.String()
	}
	st.Server = cs.Server
	e := d.session.Encryption()
	st.Encryption, st.Encrypted = string(e.Mode), e.Mode != call.EncryptionNone
	st.KeyFingerprint, st.KeyWords, st.Outsiders = e.Verification, e.Words, e.Outsiders
	if d.boxKey != nil {
		st.BoxKey = keys.EncodeBytes(d.boxKey)
	}
	st.Participants = participantsOf(d.session.Members(), d.rx.shown, d.rx.decoderOf) // participants.go
	if d.cfg.Ring.Enabled {
		ring := d.ringStatus() // ring.go
		st.Ring = &ring
	}
	if d.meetings != nil {
		st.Meetings = d.meetings.status(time.Now()) // meetings.go
	}
	st.Share = d.shareStatus() // content.go
	if cs.Err != nil {
		st.Error = cs.Err.Error()
	}
}

// Call is the page's "call now", or "answer" when a call rings: a box
// that rings does it as its call button would (ring.go).
func (s *supervisor) Call() {
	if d := s.ringing(); d != nil {
		s.log.Info("the page's call button", "did", d.controller.Do(call.ActionCall))
		return
	}
	s.mu.Lock()
	s.hungUp = false
	s.mu.Unlock()
	s.poke()
}

// HangUp is the page's "hang up": a box that rings declines, stops calling
// or leaves the call and stays reachable in its line; another box stops
// its call until Call.
func (s *supervisor) HangUp() {
	if d := s.ringing(); d != nil {
		s.log.Info("the page's hang-up button", "did", d.controller.Do(call.ActionHangUp))
		return
	}
	s.mu.Lock()
	s.hungUp = true
	s.mu.Unlock()
	s.poke()
}

// DoNotDisturb is the page's do-not-disturb button, on a box that rings.
func (s *supervisor) DoNotDisturb(on bool) error {
	d := s.ringing()
	if d == nil {
		return errors.New("the box has no line to ring (ring.enabled): there is no call to decline")
	}
	d.session.SetDoNotDisturb(on)
	s.log.Info("the page's do-not-disturb button", "on", on)
	return nil
}

// noCallRuns is why the content input is not open while no call runs.
const noCallRuns = "no call runs (hung up, or starting): the content input is open only then"

// Share is the page's share button: the content input's share starts or
// stops, as with callboxctl share start|stop (content.go).
func (s *supervisor) Share(ctx context.Context, on bool) error {
	d := s.current()
	if d == nil {
		return &provisioning.LocalError{Status: http.StatusConflict, Message: noCallRuns}
	}
	action := actionShareStop
	if on {
		action = actionShareStart
	}
	did, err := d.contentAction(ctx, action)
	if err != nil {
		return err
	}
	s.log.Info("the page's share button", "did", did)
	return nil
}

// ringing is the running daemon when its calls ring (ring.enabled), else nil.
func (s *supervisor) ringing() *daemon {
	if d := s.current(); d != nil && d.cfg.Ring.Enabled {
		return d
	}
	return nil
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
		// Whatever woke the loop (a provisioning file taken before run,
		// settings saved twice) is in the state read below: a wake left in
		// the channel would restart the call it is about to start.
		select {
		case <-s.wake:
		default:
		}
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
		d, err := newDaemon(boot.Config, s.log, s.beats, s.keys) // daemon.go
		if err != nil {
			done <- err
		} else {
			d.factoryReset = s.factoryReset
			s.mu.Lock()
			s.daemon, s.since = d, time.Now()
			s.mu.Unlock()
			go func() { done <- d.run(callCtx) }() // waited for below, whichever way the call ends
		}
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

// ListInvites and RevokeInvite answer for the running call's invites.
func (s *supervisor) ListInvites() []keys.InviteInfo {
	if d := s.current(); d != nil && d.invites != nil {
		return d.ListInvites()
	}
	return nil
}

func (s *supervisor) RevokeInvite(ctx context.Context, name string) error {
	d := s.current()
	if d == nil || d.invites == nil {
		return &provisioning.LocalError{Status: http.StatusConflict, Message: "no call with end-to-end encryption runs: no invites to revoke"}
	}
	return d.RevokeInvite(ctx, name)
}
