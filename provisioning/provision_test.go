package provisioning

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/callbox/callbox/config"
)

// Secrets of the provisioning files below: none may reach a log line, an
// answer or the page.
const (
	provisionPassword  = "admin-pass-do-not-show-5150"
	provisionAPISecret = "api-secret-provision-do-not-show-42"
	provisionRoomKey   = "room-key-provision-do-not-show-77"
	provisionWiFiPass  = "wifi-pass-do-not-show"
)

func goodProvisionFile() string {
	return `[admin]
password = "` + provisionPassword + `"

[wifi]
ssid = "Office"
passphrase = "` + provisionWiFiPass + `"

[call]
url = "wss://calls.example.org"
room = "meeting-room-3"
name = "Room 3"
api_key = "fleetkey"
api_secret = "` + provisionAPISecret + `"
encryption = "shared-key"
room_key = "` + provisionRoomKey + `"
`
}

func writeProvisionFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "callbox-provision.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkNoProvisionSecret fails if any secret of the provisioning files is
// in text, or any part of one (a line quoted by a parser, a key cut short).
func checkNoProvisionSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, secret := range []string{provisionPassword, provisionAPISecret, provisionRoomKey, provisionWiFiPass, "short-key", "do-not-show"} {
		if strings.Contains(text, secret) {
			t.Errorf("%s holds a secret (%q):\n%s", what, secret, text)
		}
	}
}

func TestProvisionFileSetsTheBoxUp(t *testing.T) {
	b := newBoxIn(t, filepath.Join(t.TempDir(), "data")) // made by the box, as on first boot
	path := writeProvisionFile(t, goodProvisionFile())
	b.srv.Provision(t.Context(), path)

	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the provisioning file is still there after setup (stat: %v)", err)
	}
	saved, err := config.Load(filepath.Join(b.store.Dir(), ConfigFile))
	if err != nil {
		t.Fatalf("the settings saved from the file: %v", err)
	}
	c := saved.Call
	if c.URL.String() != "wss://calls.example.org" || c.Room != "meeting-room-3" || c.Name != "Room 3" || c.APISecret != provisionAPISecret ||
		c.Encryption != config.EncryptionSharedKey || c.RoomKey != provisionRoomKey || !strings.HasPrefix(c.Identity, "callbox-") {
		t.Errorf("saved call settings %+v, want the file's, with an identity of the box's own", c)
	}
	if got := b.ctl.calls(); len(got) != 1 || got[0] != "apply" || b.ctl.applied[0].SetupNeeded {
		t.Errorf("the daemon was asked %v, want one apply of a set-up box", got)
	}
	if b.srv.SetupCode() != "" {
		t.Errorf("the setup code still works after the box was set up from the file")
	}
	if got := b.srv.opts.WiFi.(*fakeWiFi).connected; len(got) != 1 || got[0] != "Office" {
		t.Errorf("Wi-Fi networks joined: %v, want the file's Office", got)
	}
	// As the page stores it: the password's hash, with which the admin signs in.
	if hash := b.store.Secrets().PasswordHash; !strings.HasPrefix(hash, "$argon2id$") {
		t.Errorf("the admin password is stored as %q, want an argon2id hash", hash)
	}
	r := b.post("/api/login", map[string]string{"password": provisionPassword})
	b.expect(r, 200, "signing in with the file's admin password")
	// The modes the page's save gives: only the box's user reads them.
	for name, want := range map[string]os.FileMode{"": 0o700, ConfigFile: 0o600, AdminFile: 0o600} {
		fi, err := os.Stat(filepath.Join(b.store.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %o, want %o", filepath.Join(b.store.Dir(), name), fi.Mode().Perm(), want)
		}
	}
	checkNoProvisionSecret(t, "the log", b.log.String())
	checkNoProvisionSecret(t, "the page's answers", strings.Join(b.bodies, "\n"))
}

// TestBrokenProvisionFileChangesNothing: a file the box cannot take in
// full leaves it in first-boot setup with the reason on the page, the file
// where it was and nothing saved or applied.
func TestBrokenProvisionFileChangesNothing(t *testing.T) {
	good := goodProvisionFile()
	for _, tt := range []struct {
		name, file string
		says       string // in the page's notice and the log
	}{
		{"bad TOML", strings.Replace(good, `room_key = "`+provisionRoomKey+`"`, `room_key = "`+provisionRoomKey, 1),
			"line 15, call.room_key: is not valid TOML"},
		{"unknown setting", good + "colour = \"red\"\n", "call.colour: is not a setting the box knows"},
		{"unknown admin field", strings.Replace(good, "[admin]\n", "[admin]\nuser = \"root\"\n", 1), "admin.user: is not a setting the box knows"},
		{"short room key", strings.Replace(good, provisionRoomKey, "short-key", 1), "call.room_key: is 9 characters long"},
		{"short admin password", strings.Replace(good, provisionPassword, "do-not", 1), "admin.password: the password needs at least 8 characters"},
		{"no admin password", strings.Replace(good, `password = "`+provisionPassword+`"`, "", 1), "admin.password: is empty"},
		{"bad Wi-Fi passphrase", strings.Replace(good, provisionWiFiPass, "do-not", 1), "wifi: wifi: a WPA passphrase has 8 to 63 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBox(t)
			path := writeProvisionFile(t, tt.file)
			b.srv.Provision(t.Context(), path)

			if data, err := os.ReadFile(path); err != nil || string(data) != tt.file {
				t.Errorf("the provisioning file was not left as it was (%v)", err)
			}
			if entries, _ := os.ReadDir(b.store.Dir()); len(entries) != 0 {
				t.Errorf("the data directory holds %v, want nothing saved", entries)
			}
			if got := b.ctl.calls(); len(got) != 0 {
				t.Errorf("the daemon was asked %v, want nothing", got)
			}
			if b.srv.SetupCode() == "" || !b.store.Boot().SetupNeeded {
				t.Errorf("the box left first-boot setup")
			}
			notice, _ := b.get("/api/state").json(t)["notice"].(string)
			if !strings.Contains(notice, "was not used: "+tt.says) {
				t.Errorf("the setup page says %q, want the reason %q", notice, tt.says)
			}
			if problem := b.srv.ProvisionProblem(); !strings.Contains(problem, tt.says) {
				t.Errorf("the screen's reason is %q, want %q", problem, tt.says)
			}
			if !strings.Contains(b.log.String(), tt.says) {
				t.Errorf("the log does not say %q:\n%s", tt.says, b.log.String())
			}
			checkNoProvisionSecret(t, "the log", b.log.String())
			checkNoProvisionSecret(t, "the page's answers", strings.Join(b.bodies, "\n"))

			// The box can still be set up from a phone, which clears the reason.
			b.setUp()
			if notice, _ := b.get("/api/state").json(t)["notice"].(string); strings.Contains(notice, "provisioning") {
				t.Errorf("after setup from the page, the page still says %q", notice)
			}
		})
	}
}

// TestProvisionFileOnABoxSetUpAlready: the file is left alone, and so are
// the settings; the log says why.
func TestProvisionFileOnABoxSetUpAlready(t *testing.T) {
	b := newBox(t)
	b.setUp()
	before := b.configFile()
	path := writeProvisionFile(t, goodProvisionFile())
	b.srv.Provision(t.Context(), path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the provisioning file of a box set up already was removed: %v", err)
	}
	if b.configFile() != before {
		t.Errorf("a box set up already took the provisioning file's settings")
	}
	if !strings.Contains(b.log.String(), "set up already, so it ignores the provisioning file") {
		t.Errorf("the log does not say why the file is ignored:\n%s", b.log.String())
	}
}

// TestProvisionFileRoundTrip: what EncodeProvisionFile (callboxctl
// provision-file) writes, the box reads back the same; what the box would
// refuse, it does not write.
func TestProvisionFileRoundTrip(t *testing.T) {
	pf, err := ParseProvisionFile([]byte(goodProvisionFile()))
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeProvisionFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseProvisionFile(data)
	if err != nil {
		t.Fatalf("the box refuses the file it was given:\n%s\n%v", data, err)
	}
	if again.AdminPassword != pf.AdminPassword || *again.WiFi != *pf.WiFi || !reflect.DeepEqual(again.Config, pf.Config) {
		t.Errorf("read back %+v, want %+v", again, pf)
	}
	pf.Config.Call.RoomKey = "short-key"
	if data, err := EncodeProvisionFile(pf); err == nil || bytes.Contains(data, []byte("short-key")) || strings.Contains(err.Error(), "short-key") {
		t.Errorf("a file with a short room key was written, or its error quotes the key: %v", err)
	}
}
