package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/callbox/callbox/web/guest"
)

// The deb scenario's waits. The guest is a whole Debian system under TCG:
// it boots systemd, installs the package with apt and encodes vivid's
// pictures with x264 on an emulated CPU, each many times slower than on a
// Pi.
const (
	debInstalledWithin = 900 * time.Second // boot and apt install
	debPicturesWithin  = 600 * time.Second // setup to advancing pictures
	debUpgradedWithin  = 600 * time.Second
	debInviteWithin    = 120 * time.Second // callboxctl invite in the guest
)

// debToneHz is the box's test tone (config's default audio.tone_hz): the
// microphone chosen at setup.
const debToneHz = 440

// debScenario is the host side of lab/scenarios/deb.sh: the Debian
// package installed with apt on Debian arm64. The host does what a person
// with a phone does: reads the setup code and the certificate's
// fingerprint where the box shows them (its log on the console), opens the
// setup page over HTTPS at the box's address, enters the code, an admin
// password, the call server and room, and picks the camera (vivid) and
// microphone (the test tone) from the box's lists, and leaves the
// encryption as the page offers it: end-to-end. The host's viewer joins as
// a member with an invite the box makes (callboxctl invite on the box, as
// its owner would for a guest). Then it checks the box is in the call
// (vivid's pictures advancing, the tone at its pitch), that
// after the package's upgrade it is back in the call with its settings and
// needs no setup, and that after apt remove it has left.
func debScenario(ctx context.Context, l *lab) error {
	guestIP := os.Getenv("LAB_GUEST_IP")
	if guestIP == "" {
		return errors.New("LAB_GUEST_IP is not set: run through lab/run.sh")
	}
	if err := l.startServer(ctx); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "installed", debInstalledWithin); err != nil {
		return err
	}
	code, fingerprint, err := setupAnnouncement(ctx, l.console, 60*time.Second)
	if err != nil {
		return err
	}
	b, err := newBox(guestIP, fingerprint)
	if err != nil {
		return err
	}
	var page string
	if err := b.do(ctx, http.MethodGet, "/", nil, &page); err != nil {
		return fmt.Errorf("the setup page: %w", err)
	}
	if !strings.Contains(page, "Set up this box") {
		return fmt.Errorf("https://%s/ is not the setup page (no \"Set up this box\")", guestIP)
	}
	st, err := b.state(ctx)
	if err != nil {
		return err
	}
	if !st.SetupNeeded {
		return errors.New("a freshly installed box says it needs no setup")
	}
	slog.Info("the setup page answers over HTTPS", "addr", guestIP)

	password := rand.Text()
	// The page lists devices only to a session: the setup code opens one.
	if err := b.session(ctx, "/api/setup/code", map[string]string{"code": code}); err != nil {
		return fmt.Errorf("setup code: %w", err)
	}
	cameras, microphones, err := b.devices(ctx)
	if err != nil {
		return err
	}
	camera, err := pickDevice(cameras, "vivid")
	if err != nil {
		return fmt.Errorf("camera: %w", err)
	}
	// The test tone: the box's noise suppression would take a steady tone
	// through a microphone for noise and remove it.
	microphone, err := pickDevice(microphones, "Test tone")
	if err != nil {
		return fmt.Errorf("microphone: %w", err)
	}
	settings := boxSettings{Name: "Arm64 box", URL: l.srv.URL, Auth: "key", APIKey: l.srv.APIKey,
		APISecret: l.srv.APISecret, Room: room, Camera: camera, Microphone: microphone, Codec: "h264",
		Encryption: "end-to-end"}
	if err := b.session(ctx, "/api/setup", map[string]any{"password": password, "settings": settings}); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	setUp := time.Now()
	slog.Info("first-boot setup done through the API", "camera", camera, "microphone", microphone)

	// The box's calls are end-to-end encrypted: the viewer gets keys only
	// as a member the box admits.
	link, err := l.ask("invite", "invite-link", debInviteWithin)
	if err != nil {
		return fmt.Errorf("an invite from the box: %w", err)
	}
	member, err := guest.MemberOptions(link)
	if err != nil {
		return fmt.Errorf("the box's invite: %w", err)
	}
	// The link names the server as the box has it (call.url); the viewer
	// goes to the one the host started, so that a box that cannot reach it
	// shows as a box without pictures.
	member.URL = l.srv.URL
	if l.view, err = startView(member); err != nil {
		return fmt.Errorf("viewer: %w", err)
	}

	identity, err := l.view.waitIdentity(ctx, "callbox-", debPicturesWithin)
	if err != nil {
		return fmt.Errorf("after setup: %w; %s", err, boxSays(ctx, b))
	}
	got, err := l.view.waitAdvancing(ctx, identity, time.Time{}, advancing, debPicturesWithin)
	if err != nil {
		return fmt.Errorf("after setup: %w", err)
	}
	first, last := got[0], got[len(got)-1]
	boot := first.Decoded.Sub(l.started).Seconds()
	slog.Info("first picture from the arm64 box", "after_s", fmt.Sprintf("%.1f", boot),
		"after_setup_s", fmt.Sprintf("%.1f", first.Decoded.Sub(setUp).Seconds()),
		"fps", fmt.Sprintf("%.1f", float64(len(got)-1)/last.Decoded.Sub(first.Decoded).Seconds()))
	// The figure make bench reports; see internal/bench.
	fmt.Printf("arm64_boot_to_in_call_s: %.1f s\n", boot)
	_ = os.WriteFile(filepath.Join(l.out, "arm64_boot_to_in_call_s"), fmt.Appendf(nil, "%.1f\n", boot), 0o644)
	if err := l.view.SavePNG(identity, filepath.Join(l.out, "deb-installed.png")); err != nil {
		slog.Warn("no picture saved", "err", err)
	}
	hz, err := l.view.waitTone(ctx, identity, debToneHz, 5, 180*time.Second)
	if err != nil {
		return fmt.Errorf("after setup: %w", err)
	}
	slog.Info("the box's tone arrived", "want_hz", debToneHz, "got_hz", fmt.Sprintf("%.1f", hz))

	// Upgraded in place: back in the call as before, without setup.
	if err := l.tell("upgrade"); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "upgraded", debUpgradedWithin); err != nil {
		return err
	}
	upgraded := l.lastEventSeen
	if _, _, err := l.view.waitBackInCall(ctx, identity, upgraded, advancing/2, debPicturesWithin); err != nil {
		return fmt.Errorf("after the upgrade: %w", err)
	}
	slog.Info("the box is back in the call after the upgrade", "after_s", fmt.Sprintf("%.1f", time.Since(upgraded).Seconds()))
	if err := checkKeptSettings(ctx, guestIP, fingerprint, password, settings); err != nil {
		return fmt.Errorf("after the upgrade: %w", err)
	}
	if err := l.view.SavePNG(identity, filepath.Join(l.out, "deb-upgraded.png")); err != nil {
		slog.Warn("no picture saved", "err", err)
	}

	// Removed: the box leaves the call.
	if err := l.tell("remove"); err != nil {
		return err
	}
	if err := l.waitEvent(ctx, "removed", 300*time.Second); err != nil {
		return err
	}
	if err := l.view.waitQuiet(identity, "video", 3*time.Second, 60*time.Second); err != nil {
		return fmt.Errorf("after apt remove: %w", err)
	}
	if err := l.tell("purge"); err != nil {
		return err
	}
	return l.waitEvent(ctx, "purged", 300*time.Second)
}

// boxSays is what the box's status page says of its call, for a failure
// seen from the call's side.
func boxSays(ctx context.Context, b *box) string {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := b.callStatus(ctx)
	switch {
	case err != nil:
		return fmt.Sprintf("the box's status page did not answer: %v", err)
	case st.Error != "":
		return fmt.Sprintf("the box's status page says the call is %q: %s", st.State, st.Error)
	}
	return fmt.Sprintf("the box's status page says the call is %q", st.State)
}

// checkKeptSettings signs in again, as the admin would after the upgrade:
// the box needs no setup, takes the password set before, and has the
// settings it was given.
func checkKeptSettings(ctx context.Context, addr, fingerprint, password string, want boxSettings) error {
	b, err := newBox(addr, fingerprint)
	if err != nil {
		return err
	}
	st, err := b.state(ctx)
	if err != nil {
		return err
	}
	if st.SetupNeeded {
		return errors.New("the box asks for setup again")
	}
	if err := b.login(ctx, password); err != nil {
		return fmt.Errorf("the admin password set before: %w", err)
	}
	got, err := b.settings(ctx)
	if err != nil {
		return err
	}
	want.APISecret = "" // never shown
	if got != want {
		return fmt.Errorf("the settings are %+v, want %+v", got, want)
	}
	return nil
}

// pickDevice returns the ID of the first device whose label holds name and
// whose ID ends with idSuffix, if given.
func pickDevice(list []boxDevice, name string, idSuffix ...string) (string, error) {
	for _, d := range list {
		if strings.Contains(d.Label, name) && (len(idSuffix) == 0 || strings.HasSuffix(d.ID, idSuffix[0])) {
			return d.ID, nil
		}
	}
	return "", fmt.Errorf("the box offers no %s%s device: %+v", name, strings.Join(idSuffix, ""), list)
}

// The box's log line that asks for setup (provisioning's AnnounceSetup).
var (
	setupCodeRE   = regexp.MustCompile(`setup_code=([A-Z0-9-]+)`)
	fingerprintRE = regexp.MustCompile(`tls_fingerprint=([0-9A-F:]{95})`)
)

// setupAnnouncement waits for the box's log to show the setup code and the
// certificate's fingerprint on the console, and returns the newest of each.
func setupAnnouncement(ctx context.Context, console string, timeout time.Duration) (code, fingerprint string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		data, err := os.ReadFile(console)
		if err != nil {
			return "", "", err
		}
		codes, prints := setupCodeRE.FindAllSubmatch(data, -1), fingerprintRE.FindAllSubmatch(data, -1)
		if len(codes) > 0 && len(prints) > 0 {
			return string(codes[len(codes)-1][1]), string(prints[len(prints)-1][1]), nil
		}
		select {
		case <-ctx.Done():
			return "", "", fmt.Errorf("the box's log on the console shows no setup code and certificate fingerprint within %s", timeout)
		case <-tick.C:
		}
	}
}
