// Package browsertest drives a real browser through the box's first-boot
// setup: Debian's chromium, through playwright-core (npm, see package.json),
// against the real callboxd binary and a real LiveKit server, all inside a
// private network namespace the test makes (internal/netns). It has no code
// of its own outside its test.
package browsertest

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/provisioning/wifi/wifitest"
)

func TestMain(m *testing.M) { lkserver.RunInNamespace(m) }

// needBrowser skips the test without chromium or playwright-core, and
// returns chromium's path.
func needBrowser(t *testing.T) string {
	t.Helper()
	here, _ := os.Getwd()
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no /usr/bin/chromium: make test installs it (scripts/deps.sh)")
	}
	if _, err := os.Stat(filepath.Join(here, "node_modules", "playwright-core")); err != nil {
		t.Skip("no node_modules/playwright-core: make test runs npm ci in provisioning/browsertest")
	}
	return chromium
}

// shotsDir is where the browser's screenshots go: CALLBOX_SCREENSHOTS,
// else the test's artifacts.
func shotsDir(t *testing.T) string {
	t.Helper()
	shots := os.Getenv("CALLBOX_SCREENSHOTS")
	if shots == "" {
		shots = t.ArtifactDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

// startServer starts a LiveKit server in the test's namespace until the
// test ends.
func startServer(ctx context.Context, t *testing.T) *lkserver.Server {
	t.Helper()
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestFirstBootSetupInChromium(t *testing.T) {
	chromium := needBrowser(t)

	// The real daemon, built as the box runs it.
	bin := daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := startServer(ctx, t)

	// Wi-Fi: a fake wpa_supplicant control socket. Its interface is no
	// wireless one, so callboxd sets Wi-Fi through it and opens no access point.
	wpa := wifitest.Start(t, "wlan-test0", map[string]string{
		"SCAN_RESULTS": "bssid / frequency / signal level / flags / ssid\n" +
			"00:11:22:33:44:55\t2412\t-48\t[WPA2-PSK-CCMP][ESS]\tHome Wi-Fi\n" +
			"00:11:22:33:44:66\t2437\t-71\t[ESS]\tCafe\n",
		"ADD_NETWORK": "0\n",
		"STATUS":      "wpa_state=DISCONNECTED\n",
	})

	data := t.TempDir()
	log := daemontest.Start(t, "callboxd", exec.Command(bin, "-data", data, "-listen", netns.Addr+":0", "-wpa-socket", wpa.Path))
	pageURL := log.Wait(t, regexp.MustCompile(`msg="setup page" url=(https://\S+)`), 30*time.Second)[1]
	code := log.Wait(t, regexp.MustCompile(`setup_code=([A-Z2-9]{4}-[A-Z2-9]{4})`), 5*time.Second)[1]

	shots := shotsDir(t)
	const password = "a long admin password"
	const wifiPassphrase = "wifi passphrase 42"
	node := exec.CommandContext(ctx, "node", "setup.mjs")
	node.Env = append(os.Environ(), "BOX_URL="+pageURL, "SETUP_CODE="+code, "ADMIN_PASSWORD="+password,
		"LK_URL="+srv.URL, "LK_KEY="+srv.APIKey, "LK_SECRET="+srv.APISecret, "ROOM=kitchen-table",
		"WIFI_PASSPHRASE="+wifiPassphrase, "SHOTS="+shots, "CHROMIUM="+chromium)
	// Once the box is in the call, someone joins it, until the test ends:
	// the status page must list them.
	viewerDone := make(chan struct{})
	go func() {
		defer close(viewerDone)
		if log.Match(ctx, regexp.MustCompile(`msg="in the call"`)) == nil {
			return // the browser's part failed; it says why
		}
		call.UseLogger(slog.Default()) // the viewer's SDK: warnings only
		v, err := viewer.Start(call.Options{URL: srv.URL, Room: "kitchen-table", Identity: "viewer-ada",
			Name: "Ada on a laptop", APIKey: srv.APIKey, APISecret: srv.APISecret}, viewer.ReadStamp)
		if err != nil {
			t.Errorf("the viewer could not join: %v", err)
			return
		}
		<-ctx.Done()
		v.Leave()
	}()
	t.Cleanup(func() { <-viewerDone })
	out, err := node.CombinedOutput()
	t.Logf("the browser said:\n%s", out)
	if err != nil {
		t.Fatalf("first-boot setup in chromium failed: %v", err)
	}
	t.Logf("screenshots in %s", shots)

	// What the page did is what the box does: settings saved, password hashed, in the call.
	log.Wait(t, regexp.MustCompile(`msg="in the call"`), 10*time.Second)
	saved, err := config.Load(filepath.Join(data, provisioning.ConfigFile))
	if err != nil {
		t.Fatalf("the settings the page saved do not load: %v", err)
	}
	if saved.Call.Room != "kitchen-table" || saved.Call.Name != "Kitchen" || saved.Call.URL.String() != srv.URL {
		t.Errorf("saved %+v", saved.Call)
	}
	if !slices.Equal(saved.Controls.Contacts, []string{"grandma"}) || saved.Controls.ContactNames["grandma"] != "Grandma" {
		t.Errorf("saved contacts %q %q, want Grandma in room grandma", saved.Controls.Contacts, saved.Controls.ContactNames)
	}
	// The network chosen in the Wi-Fi step went to wpa_supplicant with the
	// key derived on the box, was selected and saved.
	psk, _ := pbkdf2.Key(sha1.New, wifiPassphrase, []byte("Home Wi-Fi"), 4096, 32)
	sent := wpa.Sent()
	for _, want := range []string{"SCAN", "SET_NETWORK 0 ssid " + hex.EncodeToString([]byte("Home Wi-Fi")),
		"SET_NETWORK 0 psk " + hex.EncodeToString(psk), "SELECT_NETWORK 0", "SAVE_CONFIG"} {
		if !slices.Contains(sent, want) {
			t.Errorf("wpa_supplicant was not sent %q; it got %q", want, sent)
		}
	}
	for _, cmd := range sent {
		if strings.Contains(cmd, wifiPassphrase) {
			t.Errorf("the Wi-Fi passphrase went to wpa_supplicant in clear")
		}
	}
	admin, _ := os.ReadFile(filepath.Join(data, provisioning.AdminFile))
	if !bytes.Contains(admin, []byte("$argon2id$")) || bytes.Contains(admin, []byte(password)) {
		t.Errorf("the admin file does not hold an argon2id hash only: %s", admin)
	}
	for _, secret := range []string{srv.APISecret, password, wifiPassphrase} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("callboxd logged a secret (%s…)", secret[:4])
		}
	}
	for _, want := range []string{"01-setup-code", "03-password", "05-camera", "06-wifi", "08-status-in-call", "09-participants"} {
		if _, err := os.Stat(filepath.Join(shots, want+".png")); err != nil {
			t.Errorf("no screenshot %s: %v", want, err)
		}
	}
	fmt.Fprintln(os.Stderr) // keep go test's own lines apart from node's
}

// TestDoNotDisturbButtonInChromium: a box whose calls ring (settings and
// an admin password already in its data directory); the admin signs in,
// turns do not disturb on with the status page's button, sees the page
// say so (after a reload too), and turns it off again. The box did each.
func TestDoNotDisturbButtonInChromium(t *testing.T) {
	chromium := needBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log, pageURL := startSetUpBox(t, startServer(ctx, t), func(cfg *config.Config) {
		cfg.Call.Room = "kitchen-line"
		cfg.Controls.StartInCall, cfg.Ring.Enabled = false, true
	})
	runBrowser(ctx, t, chromium, "dnd.mjs", pageURL)
	// The page's state was the box's: the box logged each change.
	log.Wait(t, regexp.MustCompile(`msg="the page's do-not-disturb button" on=true`), time.Second)
	log.Wait(t, regexp.MustCompile(`msg="the page's do-not-disturb button" on=false`), time.Second)
	fmt.Fprintln(os.Stderr)
}

// TestShareButtonInChromium: a box in a call whose content input is the
// test pattern; the admin sees the page say it shares and at what timing,
// stops the share with the status page's button, sees the page say so
// (after a reload too), and starts it again. The box did each: its track
// left the call and came back.
func TestShareButtonInChromium(t *testing.T) {
	chromium := needBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log, pageURL := startSetUpBox(t, startServer(ctx, t), func(cfg *config.Config) {
		cfg.Call.Room = "meeting-room"
		cfg.Video.ContentCamera = config.CameraTestPattern
	})
	runBrowser(ctx, t, chromium, "share.mjs", pageURL)
	for _, want := range []string{`msg="publishing the shared content"`, `msg="the page's share button" did="content share stopped"`,
		`msg="content share ended"`, `msg="the page's share button" did="sharing the content input, 1920x1080"`} {
		log.Wait(t, regexp.MustCompile(want), time.Second)
	}
	fmt.Fprintln(os.Stderr)
}

// adminPassword is the set-up boxes' (startSetUpBox).
const adminPassword = "a long admin password"

// startSetUpBox starts callboxd on a data directory that holds settings
// (the test pattern and a tone, the LiveKit server srv, no encryption;
// then as set changes them) and adminPassword; it returns the daemon's log
// and its page's address.
func startSetUpBox(t *testing.T, srv *lkserver.Server, set func(*config.Config)) (*daemontest.Log, string) {
	t.Helper()
	bin := daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd")
	data := t.TempDir()
	store, err := provisioning.OpenStore(data)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Name = config.ServerURLs{srv.URL}, "kitchen", "Kitchen"
	cfg.Call.APIKey, cfg.Call.APISecret, cfg.Call.Encryption = srv.APIKey, srv.APISecret, config.EncryptionNone
	cfg.Video.Camera, cfg.Audio.Microphone = "testpattern", "tone"
	set(&cfg)
	if err := store.SaveConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := store.SaveSecrets(provisioning.Secrets{PasswordHash: argon2idHash(adminPassword)}); err != nil {
		t.Fatal(err)
	}
	log := daemontest.Start(t, "callboxd", exec.Command(bin, "-data", data, "-listen", netns.Addr+":0"))
	pageURL := log.Wait(t, regexp.MustCompile(`msg="setup page" url=(https://\S+)`), 30*time.Second)[1]
	return log, pageURL
}

// runBrowser runs script (a .mjs beside this file) in chromium against
// the page at pageURL, signed in with adminPassword; the test fails with
// what the browser said if the script does.
func runBrowser(ctx context.Context, t *testing.T, chromium, script, pageURL string) {
	t.Helper()
	node := exec.CommandContext(ctx, "node", script)
	node.Env = append(os.Environ(), "BOX_URL="+pageURL, "ADMIN_PASSWORD="+adminPassword, "SHOTS="+shotsDir(t), "CHROMIUM="+chromium)
	out, err := node.CombinedOutput()
	t.Logf("the browser said:\n%s", out)
	if err != nil {
		t.Fatalf("%s in chromium failed: %v", script, err)
	}
}

// argon2idHash is password as the box stores an admin's (a PHC string),
// cheap to check.
func argon2idHash(password string) string {
	salt := []byte("a test's salt 16")
	key := argon2.IDKey([]byte(password), salt, 1, 64, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=64,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(key))
}
