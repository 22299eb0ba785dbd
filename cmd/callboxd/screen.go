package main

// What the screen says besides the call itself: the setup card on first
// boot, an invite's QR code, and (receive.go) the status line with the
// key's fingerprint. And the local API that callboxctl talks to
// (screenshot, invite), on a Unix socket only root opens.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

// inviteShownFor is how long an invite's QR code stays on the screen.
const inviteShownFor = 5 * time.Minute

// encryptionStatus is what the status line says of encryption: "end-to-end
// encrypted, check" and the members' verification string in words,
// "shared-key encryption", or "NOT end-to-end encrypted".
func encryptionStatus(s *call.Session) string { return s.Encryption().String() }

// inviteCard is an invite link to scan.
func inviteCard(name, link string, expires time.Time) *compose.Card {
	return &compose.Card{
		Title: "Join this call from a phone",
		QR:    link,
		Lines: []string{
			fmt.Sprintf("Scan the code with a phone's camera to join as %s.", name),
			"Once in, the phone's page shows the same check as this screen's status line.",
			"The link works until " + expires.Format("Mon 2 Jan 15:04") + ".",
		},
	}
}

// setupCard says how to set the box up, and why a provisioning file was
// not taken (problem; "" for none).
func setupCard(links []string, code, certFingerprint, problem string) *compose.Card {
	c := &compose.Card{Title: "Set up this Callbox"}
	if problem != "" {
		c.Lines = append(c.Lines, "The provisioning file was not used: "+problem)
	}
	if len(links) == 0 {
		c.Lines = append(c.Lines, "The box has no network address yet: plug in Ethernet, or wait for Wi-Fi setup.")
	} else {
		c.QR = links[0]
		c.Lines = append(c.Lines, "On a phone or laptop on the same network, scan the code or open:")
		c.Lines = append(c.Lines, links...)
	}
	c.Lines = append(c.Lines, "Setup code: "+code)
	if certFingerprint != "" {
		c.Lines = append(c.Lines, "The browser will warn about the page's certificate. Accept it only if its SHA-256 fingerprint is "+certFingerprint)
	}
	return c
}

// setupScreen shows the setup card while the box needs setting up.
type setupScreen struct {
	page   *provisioning.Server
	log    *slog.Logger
	listen atomic.Pointer[net.Addr]
	screen atomic.Pointer[compose.Screen] // while shown
}

func (ss *setupScreen) setListen(a net.Addr) { ss.listen.Store(&a) }

// links is the setup page's address on each of the box's addresses.
func (ss *setupScreen) links() []string {
	a := ss.listen.Load()
	if a == nil {
		return nil
	}
	return provisioning.SetupLinks(*a)
}

// show draws the setup card on the screen until ctx ends. A screen that
// does not open is logged once: the log says the same.
func (ss *setupScreen) show(ctx context.Context, dc config.Display) {
	if ss == nil || dc.Output == config.DisplayNone {
		return
	}
	r, err := display.Open(display.Options{Output: dc.Output, Width: dc.Width, Height: dc.Height})
	if err != nil {
		ss.log.Warn("the setup screen cannot be shown; the log has the same", "err", err)
		return
	}
	defer r.Close()
	// Two frames a second: the card changes only when the code does.
	screen := compose.NewScreen(r, compose.ScreenOptions{FPS: 2, Logger: ss.log,
		NewDecoder: func(_ string, c media.Codec) (media.VideoDecoder, error) { return softwareDecoder(c) }})
	defer screen.Close()
	update := func() {
		screen.ShowCard(setupCard(ss.links(), ss.page.SetupCode(), ss.page.Fingerprint(), ss.page.ProvisionProblem()), time.Time{})
		screen.SetStatus("waiting for setup")
	}
	update()
	ss.screen.Store(screen)
	defer ss.screen.Store(nil)
	// The card is updated until the screen stops, also when it fails:
	// then before the screen is closed.
	ctx, stop := context.WithCancel(ctx)
	var updating sync.WaitGroup
	defer updating.Wait()
	defer stop()
	updating.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				update()
			}
		}
	})
	if err := screen.Run(ctx); err != nil {
		ss.log.Warn("the setup screen stopped", "err", err)
	}
}

// localBox answers the local API for callboxd.
type localBox struct {
	current func() *daemon // the call running now, nil when none
	// status is what the status page says of the call (metrics.go reads it).
	status func() provisioning.CallStatus
	setup  *setupScreen // nil without -data
	// invites answers for the invites when set (the supervisor, which
	// outlives each call); else the running call's.
	invites provisioning.Invites
}

func (b *localBox) screen() *compose.Screen {
	if d := b.current(); d != nil {
		if s := d.rx.screen.Load(); s != nil {
			return s
		}
	}
	if b.setup != nil {
		return b.setup.screen.Load()
	}
	return nil
}

func (b *localBox) Screenshot(ctx context.Context) ([]byte, error) {
	s := b.screen()
	if s == nil {
		return nil, &provisioning.LocalError{Status: http.StatusConflict,
			Message: "nothing is on the screen: display.output is none, or the display does not work (see the log)"}
	}
	f, err := s.Capture(ctx)
	if err != nil {
		return nil, err
	}
	return encodePNG(f)
}

func encodePNG(f *display.Frame) ([]byte, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, f.RGBA()); err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return buf.Bytes(), nil
}

func (b *localBox) Invite(ctx context.Context, req provisioning.InviteRequest) (provisioning.InviteResponse, error) {
	bad := func(msg string) error { return &provisioning.LocalError{Status: http.StatusBadRequest, Message: msg} }
	d := b.current()
	if d == nil {
		return provisioning.InviteResponse{}, &provisioning.LocalError{Status: http.StatusConflict, Message: "no call is set up: nothing to invite to"}
	}
	cfg := d.cfg
	validFor := 24 * time.Hour
	if req.ValidFor != "" {
		v, err := time.ParseDuration(req.ValidFor)
		if err != nil {
			return provisioning.InviteResponse{}, bad(fmt.Sprintf("valid_for %q is not a duration such as 24h", req.ValidFor))
		}
		validFor = v
	}
	if req.Name == "" {
		req.Name = "Guest"
	}
	page := req.Page
	if page == "" && b.setup != nil {
		if links := b.setup.links(); len(links) > 0 {
			page = links[0] + "guest/"
		}
	}
	if page == "" {
		return provisioning.InviteResponse{}, bad("the guest page's address is not known: give it (callboxctl invite -page https://BOX/guest/)")
	}
	server := req.Server
	if server == "" {
		server = cfg.Call.URL.First()
	}
	opts := guest.InviteOptions{ServerURL: server, APIKey: cfg.Call.APIKey, APISecret: cfg.Call.APISecret,
		Room: cfg.Call.Room, Name: req.Name, ValidFor: validFor, Once: req.Once}
	if d.invites != nil {
		opts.Invites, opts.BoxKey = d.invites, d.boxKey
	} else {
		opts.RoomKey = cfg.Call.RoomKey
	}
	inv, err := guest.NewInvite(opts)
	if err != nil {
		return provisioning.InviteResponse{}, bad(err.Error())
	}
	link, err := guest.Link(page, inv)
	if err != nil {
		return provisioning.InviteResponse{}, bad(err.Error())
	}
	e := d.session.Encryption()
	now := time.Now()
	resp := provisioning.InviteResponse{Link: link, Name: inv.Name(), Fingerprint: e.Verification, FingerprintWords: e.Words,
		Expires: now.Add(validFor), ShownUntil: now.Add(inviteShownFor)}
	if req.Unshown {
		resp.ShownUntil = now
		return resp, nil
	}
	d.rx.showCard(inviteCard(req.Name, link, resp.Expires), resp.ShownUntil, inv.Identity)
	return resp, nil
}

// Invites are the running call's invites, nil when it makes none.
func (b *localBox) Invites() provisioning.Invites {
	if b.invites != nil {
		return b.invites
	}
	if d := b.current(); d != nil && d.invites != nil {
		return d
	}
	return nil
}

func (b *localBox) BoxKey() string {
	if d := b.current(); d != nil && d.boxKey != nil {
		return keys.EncodeBytes(d.boxKey)
	}
	return ""
}

// ListInvites and RevokeInvite are the daemon's provisioning.Invites.
func (d *daemon) ListInvites() []keys.InviteInfo { return d.invites.List() }

// RevokeInvite revokes an invite, makes the members change keys without its
// guest, and asks the call server to put the guest out of the room.
func (d *daemon) RevokeInvite(ctx context.Context, name string) error {
	id, err := keys.ParseInviteName(name)
	if err != nil {
		return &provisioning.LocalError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	identity, err := d.invites.Revoke(id)
	if err != nil {
		return &provisioning.LocalError{Status: http.StatusNotFound, Message: err.Error()}
	}
	d.session.InvitesChanged()
	if err := d.session.RemoveParticipant(ctx, identity); err != nil {
		d.log.Warn("the invite is revoked and its guest gets no keys, but stays in the room", "invite", name, "err", err)
	}
	return nil
}

// serveLocalAPI serves the local API at path (-control; "": nowhere)
// until ctx ends; a failure is logged, and the box goes on without it.
func serveLocalAPI(ctx context.Context, path string, box *localBox, log *slog.Logger) {
	if path == "" {
		return
	}
	if err := provisioning.ServeLocal(ctx, path, box, log); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("the local API (callboxctl screenshot, invite) does not work", "err", oneLine(err))
	}
}
