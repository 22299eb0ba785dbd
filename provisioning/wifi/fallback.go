package wifi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Station is the box's Wi-Fi client as Fallback uses it; *Client is the
// real one (wpa_supplicant).
type Station interface {
	Status(ctx context.Context) (Status, error)
	Scan(ctx context.Context) ([]Network, error)
	Connect(ctx context.Context, ssid, passphrase string) error
	Disconnect(ctx context.Context) error
	Reconnect(ctx context.Context) error
	KnownNetworks(ctx context.Context) (int, error)
}

// Hotspot is the box's own network with its captive portal: Run keeps it
// open until ctx ends, or returns the error of the part that stopped
// (AccessPoint.Run plus a portal server, in callboxd).
type Hotspot interface {
	Run(ctx context.Context) error
}

// Modes of a Fallback.
const (
	ModeStation     = "station"      // on a network, or waiting for one to come within the grace period
	ModeAccessPoint = "access point" // the box's own network is open for setup
	ModeJoining     = "joining"      // the access point is closed while the box tries a network
)

// FallbackOptions configure a Fallback; zero durations take the defaults.
type FallbackOptions struct {
	Station Station
	Hotspot Hotspot
	// SSID is the access point's network name, for the log and the page.
	SSID string
	// Wired reports whether the box has another way onto a network
	// (Ethernet with an address): then no access point is needed. nil: never.
	Wired func() bool
	// Grace is how long the box may be without a network before the
	// access point opens (30 s): wpa_supplicant needs some seconds at boot.
	Grace time.Duration
	// Poll is how often the link is looked at (2 s).
	Poll time.Duration
	// JoinTimeout is how long a join may take before the access point
	// opens again (45 s).
	JoinTimeout time.Duration
	// Handover is how long the access point stays after a network was
	// chosen, so the page's answer reaches the phone (2 s).
	Handover time.Duration
	// RetryKnown is how often, while the access point is open, the box
	// closes it to try the networks it knows (5 min): a router that came
	// up after the box must not leave it in setup for good.
	RetryKnown time.Duration
	Logger     *slog.Logger
}

// Fallback keeps the box reachable over Wi-Fi: while wpa_supplicant has a
// network (or the box is wired) it only watches; after Grace without one
// it opens the access point, and it closes it when a network chosen on
// the page (or a known one) is joined. Run drives it; the page uses its
// Scan and Connect, which work in every mode.
type Fallback struct {
	opts  FallbackOptions
	log   *slog.Logger
	joins chan joinRequest

	mu        sync.Mutex
	mode      string
	joining   string    // the network being tried
	scanned   []Network // the last scan before the access point opened
	scanErr   error
	joinError string // why the last join failed, "" after a good one
}

type joinRequest struct {
	ssid, passphrase string
	known            bool // no new network: try those wpa_supplicant knows
}

// FallbackState is what the page shows about Wi-Fi.
type FallbackState struct {
	Mode string `json:"mode"`
	// AccessPoint is the box's own network's name while it is open.
	AccessPoint string `json:"access_point,omitempty"`
	Joining     string `json:"joining,omitempty"`
	// JoinError says why the last network chosen could not be joined.
	JoinError string `json:"join_error,omitempty"`
}

const (
	firstRetry = time.Second
	lastRetry  = time.Minute
)

// NewFallback makes a Fallback; Run starts it.
func NewFallback(opts FallbackOptions) *Fallback {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.Grace, 30*time.Second)
	def(&opts.Poll, 2*time.Second)
	def(&opts.JoinTimeout, 45*time.Second)
	def(&opts.Handover, 2*time.Second)
	def(&opts.RetryKnown, 5*time.Minute)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Fallback{opts: opts, log: opts.Logger.With("part", "wifi"), joins: make(chan joinRequest, 1), mode: ModeStation}
}

// State says what the Wi-Fi is doing.
func (f *Fallback) State() FallbackState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := FallbackState{Mode: f.mode, JoinError: f.joinError}
	switch f.mode {
	case ModeAccessPoint:
		st.AccessPoint = f.opts.SSID
	case ModeJoining:
		st.Joining = f.joining
	}
	return st
}

func (f *Fallback) setMode(mode, joining string) {
	f.mu.Lock()
	f.mode, f.joining = mode, joining
	f.mu.Unlock()
}

// Scan lists the networks around. While the access point has the radio it
// cannot scan: the list is the one made just before it opened.
func (f *Fallback) Scan(ctx context.Context) ([]Network, error) {
	f.mu.Lock()
	mode, nets, err := f.mode, slices.Clone(f.scanned), f.scanErr
	f.mu.Unlock()
	if mode == ModeStation {
		return f.opts.Station.Scan(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("no list of networks from before the access point opened: %w", err)
	}
	return nets, nil
}

// Connect joins a network. On a working link it is wpa_supplicant's
// Connect; while the access point is open it only checks the name and
// passphrase and returns: the access point closes a moment later (the
// phone loses the page) and the box tries the network, opening the access
// point again if it cannot join (State().JoinError says why).
func (f *Fallback) Connect(ctx context.Context, ssid, passphrase string) error {
	f.mu.Lock()
	mode := f.mode
	f.mu.Unlock()
	switch mode {
	case ModeStation:
		return f.opts.Station.Connect(ctx, ssid, passphrase)
	case ModeJoining:
		return errors.New("wifi: the box is trying a network now; try again in a minute")
	}
	if err := CheckNetwork(ssid, passphrase); err != nil {
		return err
	}
	select {
	case f.joins <- joinRequest{ssid: ssid, passphrase: passphrase}:
		return nil
	default:
		return errors.New("wifi: the box is about to try another network")
	}
}

// Run watches the link and opens the access point when needed, until ctx ends.
func (f *Fallback) Run(ctx context.Context) {
	for f.waitForNoNetwork(ctx) {
		f.log.Warn(fmt.Sprintf("no network for %v: the box opens its own Wi-Fi network for setup", f.opts.Grace), "ssid", f.opts.SSID)
		f.accessPoint(ctx)
	}
}

func (f *Fallback) online(ctx context.Context) bool {
	if f.opts.Wired != nil && f.opts.Wired() {
		return true
	}
	st, err := f.opts.Station.Status(ctx)
	if err != nil {
		f.log.Debug("no Wi-Fi status", "err", err)
	}
	return err == nil && st.Connected()
}

// waitForNoNetwork returns true once the box has been without a network
// for Grace, false when ctx ends.
func (f *Fallback) waitForNoNetwork(ctx context.Context) bool {
	f.setMode(ModeStation, "")
	var offlineSince time.Time
	for {
		switch {
		case f.online(ctx):
			offlineSince = time.Time{}
		case offlineSince.IsZero():
			offlineSince = time.Now()
		case time.Since(offlineSince) >= f.opts.Grace:
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(f.opts.Poll):
		}
	}
}

// scan keeps a list of networks for the page while the radio is the access point's.
func (f *Fallback) scan(ctx context.Context) {
	nets, err := f.opts.Station.Scan(ctx)
	if err != nil {
		f.log.Warn("no scan of the networks around before opening the access point", "err", err)
	}
	f.mu.Lock()
	f.scanned, f.scanErr = nets, err
	f.mu.Unlock()
}

// accessPoint keeps the access point open, opening it again when it
// stops, until the box is on a network again or ctx ends.
func (f *Fallback) accessPoint(ctx context.Context) {
	retry := firstRetry
	for ctx.Err() == nil {
		f.scan(ctx)
		if err := f.opts.Station.Disconnect(ctx); err != nil {
			f.log.Debug("wpa_supplicant did not let go of the radio", "err", err)
		}
		f.setMode(ModeAccessPoint, "")
		apCtx, closeAP := context.WithCancel(ctx)
		stopped := make(chan error, 1)
		opened := time.Now()
		go func() { stopped <- f.opts.Hotspot.Run(apCtx) }()
		f.log.Info("opening the box's own Wi-Fi network: join it and open the setup page", "ssid", f.opts.SSID)
		closeIt := func() {
			closeAP()
			if err := <-stopped; err != nil && !errors.Is(err, context.Canceled) {
				f.log.Debug("the setup access point closed", "err", err)
			}
		}

		reopen := false
		poll := time.NewTicker(f.opts.Poll)
		retryKnown := time.NewTimer(f.opts.RetryKnown)
		for !reopen {
			select {
			case <-ctx.Done():
				closeIt()
				poll.Stop()
				return
			case err := <-stopped:
				closeAP()
				if err == nil {
					err = errors.New("stopped")
				}
				if time.Since(opened) >= lastRetry {
					retry = firstRetry // it ran a good while: a new problem
				}
				f.log.Error("the setup access point stopped; opening it again", "err", err, "retry_in", retry)
				select {
				case <-ctx.Done():
					poll.Stop()
					return
				case <-time.After(retry):
				}
				retry = min(2*retry, lastRetry)
				reopen = true
			case <-poll.C:
				if f.online(ctx) {
					closeIt()
					poll.Stop()
					f.log.Info("the box has a network again: its own Wi-Fi network is closed")
					if err := f.opts.Station.Reconnect(ctx); err != nil {
						f.log.Debug("wpa_supplicant reconnect", "err", err)
					}
					return
				}
			case req := <-f.joins:
				if f.join(ctx, closeIt, req) {
					poll.Stop()
					return
				}
				reopen = true
			case <-retryKnown.C:
				if n, err := f.opts.Station.KnownNetworks(ctx); err != nil || n == 0 {
					retryKnown.Reset(f.opts.RetryKnown)
					continue
				}
				if f.join(ctx, closeIt, joinRequest{known: true}) {
					poll.Stop()
					return
				}
				reopen = true
			}
		}
		poll.Stop()
		retryKnown.Stop()
	}
}

// join closes the access point and tries a network; true when joined.
func (f *Fallback) join(ctx context.Context, closeAP func(), req joinRequest) bool {
	what := req.ssid
	if req.known {
		what = "a known network"
		f.log.Info("the box closes its own network for a while to try the networks it knows")
	} else {
		select { // the page's answer goes out before the phone loses the network
		case <-ctx.Done():
		case <-time.After(f.opts.Handover):
		}
	}
	closeAP()
	f.setMode(ModeJoining, req.ssid)
	var err error
	if req.known {
		err = f.opts.Station.Reconnect(ctx)
	} else {
		err = f.opts.Station.Connect(ctx, req.ssid, req.passphrase)
	}
	if err == nil {
		err = f.waitConnected(ctx)
	}
	if ctx.Err() != nil {
		return true
	}
	f.mu.Lock()
	if !req.known {
		f.joinError = ""
		if err != nil {
			f.joinError = fmt.Sprintf("the box could not join %s: %v", req.ssid, err)
		}
	}
	f.mu.Unlock()
	if err != nil {
		f.log.Warn("the box could not join "+what+"; it opens its own network again", "err", err)
		return false
	}
	f.log.Info("joined the Wi-Fi network: the box's own network is closed", "ssid", req.ssid)
	return true
}

func (f *Fallback) waitConnected(ctx context.Context) error {
	deadline := time.Now().Add(f.opts.JoinTimeout)
	for {
		if f.online(ctx) {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("not connected after %v (a wrong password, or the network is out of reach)", f.opts.JoinTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.opts.Poll):
		}
	}
}
