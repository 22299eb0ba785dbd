package main

// callboxctl provision-file: a provisioning file for boxes to be set up
// without a phone (package provisioning, provision.go), from flags, for an
// admin to copy onto many cards.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
)

func provisionFile(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("provision-file", flag.ContinueOnError)
	out := fs.String("o", "callbox-provision.toml", `file to write ("-": standard output)`)
	from := fs.String("settings", "", "a settings file (callbox.example.toml's format) to start from; the flags below win over it")
	password := fs.String("admin-password", "", "the setup page's admin password (8 characters or more); the box keeps only its hash")
	ssid := fs.String("wifi-ssid", "", "a Wi-Fi network for the box to join (a box with Wi-Fi)")
	passphrase := fs.String("wifi-passphrase", "", "its WPA passphrase; empty for an open network")
	cfg := config.Default()
	text := func(p *string) func(string) { return func(v string) { *p = v } }
	settings := []struct {
		name, setting, usage string
		set                  func(string)
	}{
		{"name", "call.name", "the box's name, as people see it", text(&cfg.Call.Name)},
		{"url", "call.url", "the call server, e.g. wss://calls.example.org; a cluster's servers separated by commas", func(v string) { cfg.Call.URL = config.ParseServerURLs(v) }},
		{"room", "call.room", "the room to join", text(&cfg.Call.Room)},
		{"api-key", "call.api_key", "the call server's API key", text(&cfg.Call.APIKey)},
		{"api-secret", "call.api_secret", "its API secret", text(&cfg.Call.APISecret)},
		{"token", "call.token", "an access token instead of key and secret", text(&cfg.Call.Token)},
		{"encryption", "call.encryption", "end-to-end, shared-key or none", text((*string)(&cfg.Call.Encryption))},
		{"room-key", "call.room_key", "the passphrase of shared-key encryption (12 characters or more)", text(&cfg.Call.RoomKey)},
		{"camera", "video.camera", `a camera device, card name, or "testpattern"`, text(&cfg.Video.Camera)},
		{"microphone", "audio.microphone", `an ALSA device, or "tone"`, text(&cfg.Audio.Microphone)},
		{"codec", "video.codec", "h264 or vp8", text(&cfg.Video.Codec)},
	}
	for _, s := range settings {
		fs.String(s.name, "", s.usage+" ("+s.setting+")")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("provision-file: unexpected argument %q", fs.Arg(0))
	}
	if *from != "" {
		loaded, err := config.Load(*from)
		var fieldErr *config.FieldError
		if err != nil && !errors.As(err, &fieldErr) {
			return err // not settings; values the flags may still set are checked below
		}
		cfg = loaded
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if given[s.name] {
			s.set(fs.Lookup(s.name).Value.String())
		}
	}
	if given["room-key"] && !given["encryption"] {
		cfg.Call.Encryption = config.EncryptionSharedKey
	}
	pf := provisioning.ProvisionFile{Config: cfg, AdminPassword: *password}
	if *ssid != "" || *passphrase != "" {
		pf.WiFi = &provisioning.WiFiChoice{SSID: *ssid, Passphrase: *passphrase}
	}
	data, err := provisioning.EncodeProvisionFile(pf) // checked as the box will check it
	if err != nil {
		return fmt.Errorf("provision-file: the box would refuse this file: %w", err)
	}
	if *out == "-" {
		_, err := stdout.Write(data)
		return err
	}
	// 0600: it holds the admin password and the call's secrets.
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("provision-file: %s exists already; remove it or choose another -o", *out)
	}
	if err != nil {
		return fmt.Errorf("provision-file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("provision-file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("provision-file: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: copy it to the boot partition of each card as callbox-provision.toml (or to /etc/callbox/provision.toml on Debian); each box takes it on its first start and deletes it\n", *out)
	return nil
}
