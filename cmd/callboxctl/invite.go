package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

// invite prints an invite link for one guest: the box's guest page, and in
// the link's fragment (never sent to a server) a time-limited token and,
// with per-member keys, the invite's id and secret and the box's key (the
// running box makes these: -socket), or with shared-key encryption the room
// key. Whoever has the link can join until it expires or is revoked: send
// it only to the guest.
func invite(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	configPath := fs.String("config", "", "the box's settings file")
	page := fs.String("page", "https://callbox.local/guest/", "the guest page's address, as the guest's browser reaches the box")
	server := fs.String("server", "", "the call server's address as the guest's browser reaches it (default: call.url)")
	name := fs.String("name", "Guest", "the guest's name, shown to the others")
	validFor := fs.Duration("valid-for", 24*time.Hour, "how long the link admits the guest")
	socket := fs.String("socket", "", "ask the running callboxd (its local API socket, callboxd -control) to make the link and show it on the screen as a QR code (default without -config: the box on this machine)")
	once := fs.Bool("once", false, "for one visit: the invite is spent when the guest leaves")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *socket == "" && *configPath == "" {
		*socket = defaultSocket() // the running box on this machine
	}
	if *socket != "" {
		pageGiven := false
		fs.Visit(func(f *flag.Flag) { pageGiven = pageGiven || f.Name == "page" })
		req := provisioning.InviteRequest{Name: *name, ValidFor: validFor.String(), Server: *server, Once: *once}
		if pageGiven { // otherwise the box's own setup page address
			req.Page = *page
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := provisioning.LocalClient{Socket: *socket}.Invite(ctx, req)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s\n\nValid for %v", resp.Link, *validFor)
		if resp.Name != "" {
			fmt.Fprintf(out, " (invite %s: callboxctl revoke %s ends it)", resp.Name, resp.Name)
		}
		fmt.Fprintf(out, ". Once in, the guest's page shows the members' check %s (%s), as the box's screen does.\nThe box's screen shows the link as a QR code until %s.\n",
			resp.Fingerprint, resp.FingerprintWords, resp.ShownUntil.Format("15:04"))
		return nil
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if cfg.Call.Encryption != config.EncryptionSharedKey {
		return errors.New("invite -config makes links for shared-key encryption only: with end-to-end encryption the running box makes them (invite -socket)")
	}
	if *server == "" {
		*server = cfg.Call.URL.First()
	}
	inv, err := guest.NewInvite(guest.InviteOptions{
		ServerURL: *server, APIKey: cfg.Call.APIKey, APISecret: cfg.Call.APISecret,
		Room: cfg.Call.Room, RoomKey: cfg.Call.RoomKey, Name: *name, ValidFor: *validFor,
	})
	if err != nil {
		return err
	}
	link, err := guest.Link(*page, inv)
	if err != nil {
		return err
	}
	fingerprint, err := call.Fingerprint(cfg.Call.RoomKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n\nValid for %v. The guest's page shows %s (%s), as the box does.\n", link, *validFor, fingerprint, call.FingerprintWords(fingerprint))
	return nil
}

// roomKey is the box's room key for a participant that joins as the box's
// helper (view), or nil when the room has none.
func roomKey(cfg config.Config) (*call.RoomKey, error) {
	if cfg.Call.Encryption != config.EncryptionSharedKey {
		return nil, nil
	}
	return call.NewRoomKey(cfg.Call.RoomKey)
}

// invites lists the running box's invites.
func invites(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("invites", flag.ContinueOnError)
	socket := fs.String("socket", defaultSocket(), "the running callboxd's local API socket")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := provisioning.LocalClient{Socket: *socket}.Invites(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "no invites")
	}
	for _, inv := range list {
		once := ""
		if inv.Once {
			once = ", one visit"
		}
		fmt.Fprintf(out, "%s  %-8s  %s (%s)%s, until %s\n", inv.Name, inv.State, inv.Guest, inv.Identity, once, inv.Expires.Format("Mon 2 Jan 15:04"))
	}
	return nil
}

// boxKey prints the box's key, for call.boxes of the room's other boxes.
func boxKey(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("box-key", flag.ContinueOnError)
	socket := fs.String("socket", defaultSocket(), "the running callboxd's local API socket")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key, err := provisioning.LocalClient{Socket: *socket}.BoxKey(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, key)
	return nil
}

// revoke ends an invite: its guest gets no more keys, is put out of the
// room, and the others change keys.
func revoke(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
	socket := fs.String("socket", defaultSocket(), "the running callboxd's local API socket")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("revoke needs the invite's name (callboxctl invites lists them)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := (provisioning.LocalClient{Socket: *socket}).Revoke(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(out, "invite %s revoked: its guest gets no more keys and is put out of the call\n", fs.Arg(0))
	return nil
}
