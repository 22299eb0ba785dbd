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
// the link's fragment (never sent to a server) a time-limited token and the
// room key. Whoever has the link can join until it expires: send it only
// to the guest.
func invite(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	configPath := fs.String("config", "", "the box's settings file")
	page := fs.String("page", "https://callbox.local/guest/", "the guest page's address, as the guest's browser reaches the box")
	server := fs.String("server", "", "the call server's address as the guest's browser reaches it (default: call.url)")
	name := fs.String("name", "Guest", "the guest's name, shown to the others")
	validFor := fs.Duration("valid-for", 24*time.Hour, "how long the link admits the guest")
	socket := fs.String("socket", "", "ask the running callboxd (its local API socket, callboxd -control) to make the link and show it on the screen as a QR code")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *socket != "" {
		pageGiven := false
		fs.Visit(func(f *flag.Flag) { pageGiven = pageGiven || f.Name == "page" })
		req := provisioning.InviteRequest{Name: *name, ValidFor: validFor.String(), Server: *server}
		if pageGiven { // otherwise the box's own setup page address
			req.Page = *page
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := provisioning.LocalClient{Socket: *socket}.Invite(ctx, req)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s\n\nValid for %v. The guest's page shows %s (%s), as the box does.\nThe box's screen shows it as a QR code until %s.\n",
			resp.Link, *validFor, resp.Fingerprint, resp.FingerprintWords, resp.ShownUntil.Format("15:04"))
		return nil
	}
	if *configPath == "" {
		return errors.New("invite needs -config (the settings file of the box) or -socket (the running box's local API)")
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if cfg.Call.RoomKey == "" {
		return errors.New("invite: call.room_key is not set: guests join only end-to-end encrypted calls")
	}
	if *server == "" {
		*server = cfg.Call.URL
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
// helper (view), or nil when the room is not encrypted.
func roomKey(cfg config.Config) (*call.RoomKey, error) {
	if cfg.Call.RoomKey == "" {
		return nil, nil
	}
	return call.NewRoomKey(cfg.Call.RoomKey)
}
