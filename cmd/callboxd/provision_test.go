package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
)

// The secrets of the provisioning files below; none may be in the log.
const (
	fleetAdminPassword = "fleet-admin-password-4711"
	fleetRoomKey       = "fleet-room-key-0815"
)

// writeFleetFile writes a provisioning file as an admin does, with the
// real callboxctl provision-file, for a box that sends 320x180 pictures
// with no screen.
func writeFleetFile(t *testing.T, srv *lkserver.Server, args ...string) string {
	t.Helper()
	return writeFleetFileWith(t, srv, "", args...)
}

// writeFleetFileWith is writeFleetFile with more settings (TOML tables).
func writeFleetFileWith(t *testing.T, srv *lkserver.Server, more string, args ...string) string {
	t.Helper()
	base := filepath.Join(t.TempDir(), "base.toml")
	if err := os.WriteFile(base, []byte("[video]\nwidth = 320\nheight = 180\n[display]\noutput = \"none\"\n"+more), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "callbox-provision.toml")
	args = append([]string{"provision-file", "-o", path, "-settings", base, "-admin-password", fleetAdminPassword,
		"-name", "Room 3", "-url", srv.URL, "-api-key", srv.APIKey, "-api-secret", srv.APISecret}, args...)
	out, err := exec.Command(daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxctl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("callboxctl provision-file: %v\n%s", err, out)
	}
	return path
}

// checkLogHasNoSecret fails if the daemon's log holds any secret given it.
func checkLogHasNoSecret(t *testing.T, d *runningDaemon, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(d.output(), secret) {
			t.Errorf("callboxd's log holds a secret (%q)", secret)
		}
	}
}

// TestProvisionFileStartsTheCall: a box that has never been set up, with
// a provisioning file, is in the call by itself (a viewer decodes its
// pictures), with nobody at its setup page; the file is gone.
func TestProvisionFileStartsTheCall(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	v := startViewer(t, srv, "fleet")
	// With the metrics on, as a fleet's admin would have them.
	metricsAddr := net.JoinHostPort(netns.Addr, strconv.Itoa(freePort(t, netns.Addr)))
	path := writeFleetFileWith(t, srv, fmt.Sprintf("[metrics]\nlisten = %q\ntoken = %q\n", metricsAddr, metricsToken),
		"-room", "fleet", "-encryption", "none")
	dir := filepath.Join(t.TempDir(), "data")
	d := startDaemon(t, "-data", dir, "-listen", netns.Addr+":0", "-provision", path)
	d.waitLog(t, "in the call", 30*time.Second)
	if err := v.WaitPictures(ctx, 30); err != nil {
		t.Fatal(err)
	}
	checkPictures(t, v, 30)
	if m := scrape(t, metricsAddr); !strings.Contains(m, `callbox_call_state{state="in call"} 1`) {
		t.Errorf("the provisioned box's metrics do not say it is in the call:\n%.300s", m)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the provisioning file is still there (stat: %v)", err)
	}
	if strings.Contains(d.output(), "setup_code=") {
		t.Errorf("the box announced a setup code though it was set up from the file")
	}
	// Started twice, the call joined the room twice under one identity
	// within a millisecond, and the viewer once got no picture at all.
	if n := strings.Count(d.output(), "callboxd starting"); n != 1 {
		t.Errorf("the provisioned box started its call %d times, want once", n)
	}
	d.stop(t)
	checkLogHasNoSecret(t, d, fleetAdminPassword, srv.APISecret, metricsToken)
}

// TestBrokenProvisionFileKeepsSetup: a file the box cannot take in full
// (broken TOML, a setting it does not know, a short room key) leaves it in
// first-boot setup with the reason on its screen and its setup page, the
// file where it was, and nothing saved.
func TestBrokenProvisionFileKeepsSetup(t *testing.T) {
	srv := startServer(t)
	for _, tt := range []struct {
		name   string
		change func(string) string
		says   string
	}{
		{"bad TOML", func(f string) string {
			return strings.Replace(f, `room_key = "`+fleetRoomKey+`"`, `room_key = "`+fleetRoomKey, 1)
		},
			"call.room_key: is not valid TOML"},
		{"unknown setting", func(f string) string { return strings.Replace(f, "[video]\n", "[video]\n  colour = \"red\"\n", 1) },
			"video.colour: is not a setting the box knows"},
		{"short room key", func(f string) string { return strings.Replace(f, fleetRoomKey, "fleet-key", 1) },
			"call.room_key: is 9 characters long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			good := writeFleetFile(t, srv, "-room", "fleet-broken", "-room-key", fleetRoomKey)
			data, err := os.ReadFile(good)
			if err != nil {
				t.Fatal(err)
			}
			broken := tt.change(string(data))
			if err := os.WriteFile(good, []byte(broken), 0o600); err != nil {
				t.Fatal(err)
			}
			// Settings with an offscreen screen, for the test to read, but no
			// admin password yet: the box needs setting up.
			dir := t.TempDir()
			screenOnly := fmt.Sprintf("[call]\nurl = %q\nroom = \"elsewhere\"\napi_key = %q\napi_secret = %q\n"+
				"[display]\noutput = \"offscreen\"\nwidth = 1280\nheight = 720\n", srv.URL, srv.APIKey, srv.APISecret)
			if err := os.WriteFile(filepath.Join(dir, provisioning.ConfigFile), []byte(screenOnly), 0o600); err != nil {
				t.Fatal(err)
			}
			d := startDaemon(t, "-data", dir, "-listen", netns.Addr+":0", "-provision", good)
			d.waitLog(t, "setup_code=", 20*time.Second)

			// The card wraps its lines at spaces: the setting's name is
			// one word of the reason.
			setting := strings.Fields(tt.says)[0]
			f, png := waitText(t, provisioning.LocalClient{Socket: filepath.Join(dir, "control.sock")}, setting)
			keepScreenshot(t, "provision-"+strings.ReplaceAll(tt.name, " ", "-")+".png", png)
			if _, ok := compose.FindText(f, f.Bounds(), "provisioning"); !ok {
				t.Errorf("the setup screen names %s but not the provisioning file", setting)
			}
			if notice := setupPageNotice(t, d); !strings.Contains(notice, "was not used: ") || !strings.Contains(notice, tt.says) {
				t.Errorf("the setup page says %q, want the reason %q", notice, tt.says)
			}
			if kept, err := os.ReadFile(good); err != nil || string(kept) != broken {
				t.Errorf("the provisioning file was not left as it was (%v)", err)
			}
			if saved, err := os.ReadFile(filepath.Join(dir, provisioning.ConfigFile)); err != nil || string(saved) != screenOnly {
				t.Errorf("the box's settings changed (%v):\n%s", err, saved)
			}
			for _, name := range []string{provisioning.AdminFile, provisioning.GoodConfigFile} {
				if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
					t.Errorf("%s was saved (stat: %v)", name, err)
				}
			}
			d.stop(t)
			checkLogHasNoSecret(t, d, fleetAdminPassword, fleetRoomKey, "fleet-key", srv.APISecret)
		})
	}
}

// setupPageNotice is what the box's setup page says first, to a phone
// that has not entered the setup code.
func setupPageNotice(t *testing.T, d *runningDaemon) string {
	t.Helper()
	port := regexp.MustCompile(`url=https://\S+:(\d+)/`).FindStringSubmatch(d.output())
	if port == nil {
		t.Fatalf("no setup page address in the log:\n%s", d.output())
	}
	// The box's certificate is its own, self-signed: a phone is asked to
	// accept it, as this client does.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec G402 -- the test's own box in its namespace
	res, err := client.Get(fmt.Sprintf("https://%s:%s/api/state", netns.Addr, port[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var state struct {
		SetupNeeded bool   `json:"setup_needed"`
		Notice      string `json:"notice"`
	}
	if err := json.NewDecoder(res.Body).Decode(&state); err != nil {
		t.Fatal(err)
	}
	if !state.SetupNeeded {
		t.Errorf("the setup page says the box needs no setting up")
	}
	return state.Notice
}
