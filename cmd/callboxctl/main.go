// Command callboxctl is the operator's tool. For now it has one command,
// view: join the box's room as a watcher and save what arrives as pictures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

const usage = `usage: callboxctl view -config FILE [-socket SOCKET] [-out DIR]
       callboxctl invite -config FILE [-page URL] [-valid-for 24h] [-name NAME]
       callboxctl invite [-socket SOCKET] [-page URL] [-valid-for 24h] [-name NAME]
       callboxctl invites [-socket SOCKET]
       callboxctl revoke [-socket SOCKET] NAME
       callboxctl box-key [-socket SOCKET]
       callboxctl screenshot [-socket SOCKET] [-o screen.png]
       callboxctl answer|hang-up|call [N]|do-not-disturb [-socket SOCKET]
       callboxctl share start|stop|other [-socket SOCKET]
       callboxctl calls [-socket SOCKET]
       callboxctl provision-file -admin-password PW -url URL -room ROOM ... [-o FILE]

  view   join the room of the box set up in FILE, decode what it sends,
         save the newest picture as DIR/latest.png every second and
         print what arrives.
  invite print a link with which a guest joins the call from a browser,
         end-to-end encrypted (invite.go). With -socket the running
         box makes it and shows it on its screen as a QR code; -once
         for one visit. -config makes shared-key links only.
  invites list the box's invites: name, state, guest, until when.
  revoke end an invite: its guest gets no more keys, is put out of the
         call, and everyone changes keys.
  box-key  print the box's key (end-to-end encryption), to list in
         call.boxes of the room's other boxes: boxes that list each
         other share one call.
  screenshot  save what the box's screen shows as a PNG file
         (screenshot.go).
  answer answer the call that rings; hang-up declines it, stops calling
         out, or leaves the call; call joins the box's room, call N
         calls contact N (speed dial); do-not-disturb turns it on or off.
  share  start or stop sharing the box's content input
         (video.content_camera, an HDMI input) in the call; other
         shows the other of two shares large on the box's screen.
  calls  say what rings or whom the box calls, and the calls it missed.
  provision-file  write a provisioning file (callbox-provision.toml), which
         sets up a box without a phone on its first start: the settings
         and admin password from the flags (-h lists them), checked as the
         box checks them (provision.go).

  SOCKET is the running callboxd's local API (callboxd -control;
  DIR/control.sock with -data DIR). The default is the box on this
  machine: /var/lib/callbox/control.sock as the Debian package runs it,
  /data/callbox/control.sock in the image; reading it takes root.
`

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "invite" {
		if err := invite(os.Args[2:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "callboxctl:", err)
			os.Exit(1)
		}
		return
	}
	for _, name := range []string{"answer", "hang-up", "call", "do-not-disturb", "share"} {
		if len(os.Args) >= 2 && os.Args[1] == name {
			if err := act(context.Background(), name, os.Args[2:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "callboxctl:", err)
				os.Exit(1)
			}
			return
		}
	}
	for name, cmd := range map[string]func([]string, io.Writer) error{"provision-file": provisionFile, "invites": invites, "revoke": revoke, "box-key": boxKey, "calls": calls} {
		if len(os.Args) >= 2 && os.Args[1] == name {
			if err := cmd(os.Args[2:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "callboxctl:", err)
				os.Exit(1)
			}
			return
		}
	}
	if len(os.Args) >= 2 && os.Args[1] == "screenshot" {
		if err := screenshot(context.Background(), os.Args[2:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "callboxctl:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "view" {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := view(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "callboxctl:", err)
		os.Exit(1)
	}
}

func view(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("view", flag.ContinueOnError)
	configPath := fs.String("config", "", "the box's settings file")
	out := fs.String("out", filepath.Join(os.TempDir(), "callbox-view"), "folder for latest.png")
	identity := fs.String("identity", "viewer", "identity to join as")
	socket := fs.String("socket", "", "the running callboxd's local API socket: with end-to-end encryption, view joins with an invite from it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" {
		return errors.New("view needs -config: the settings file of the box to watch")
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if cfg.Call.APIKey == "" {
		return errors.New("view makes its own token and needs call.api_key and call.api_secret in the config")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	call.UseLogger(slog.Default())
	key, err := roomKey(cfg) // invite.go
	if err != nil {
		return err
	}
	opts := call.Options{
		URL: cfg.Call.URL.First(), Room: cfg.Call.Room, Identity: *identity, Name: "Viewer",
		APIKey: cfg.Call.APIKey, APISecret: cfg.Call.APISecret, RoomKey: key,
	}
	switch {
	case cfg.Call.Encryption == config.EncryptionEndToEnd && *socket != "":
		if opts, err = member(ctx, *socket); err != nil {
			return err
		}
	case cfg.Call.Encryption == config.EncryptionEndToEnd:
		fmt.Fprintln(os.Stderr, "callboxctl: the box's calls are end-to-end encrypted: without -socket (an invite from the running box) view gets no keys and decodes nothing")
	}
	v, err := viewer.Start(opts, viewer.ReadStamp)
	if err != nil {
		return err
	}
	defer v.Leave()
	fmt.Printf("watching room %q at %s; pictures go to %s\n", cfg.Call.Room, cfg.Call.URL.First(), filepath.Join(*out, "latest.png"))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		pictures := v.Pictures()
		if len(pictures) == seen {
			fmt.Println("waiting for pictures…")
			continue
		}
		last := pictures[len(pictures)-1]
		line := fmt.Sprintf("%d pictures from %s (%d in the last second)", len(pictures), last.From, len(pictures)-seen)
		if last.Err == nil {
			line += fmt.Sprintf(", frame %d, %d ms from camera to here", last.Stamp.Frame, last.Decoded.Sub(last.Stamp.Time).Milliseconds())
		}
		if sound := v.Audio(last.From); len(sound) > 0 {
			n := min(len(sound), audio.SampleRate)
			line += fmt.Sprintf(", sound peaks at %.0f Hz", audio.DominantFrequency(sound[len(sound)-n:], audio.SampleRate))
		}
		fmt.Println(line)
		seen = len(pictures)
		if err := v.SavePNG(last.From, filepath.Join(*out, "latest.png")); err != nil {
			fmt.Fprintln(os.Stderr, "callboxctl:", err)
		}
	}
}

// member is how view joins a call with a key per member: with an invite
// that the running box makes for it (not shown on the box's screen).
func member(ctx context.Context, socket string) (call.Options, error) {
	askCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := provisioning.LocalClient{Socket: socket}.Invite(askCtx, provisioning.InviteRequest{
		Name: "Viewer", ValidFor: "12h", Page: "https://callbox.local/guest/", Unshown: true})
	if err != nil {
		return call.Options{}, err
	}
	return guest.MemberOptions(resp.Link)
}
