package provisioning

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/callbox/callbox/config"
)

func testConfig(room string) config.Config {
	c := config.Default()
	c.Call.URL = config.ServerURLs{"ws://10.99.0.1:7880"}
	c.Call.Room = room
	c.Call.APIKey = "devkey"
	c.Call.APISecret = "secret-" + room
	return c
}

// mustWrite writes a test's file (mode 0600), and the folders it is in.
func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustEncode(t *testing.T, c config.Config) []byte {
	t.Helper()
	data, err := config.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSaveSurvivesPowerCutAtEveryStep kills the save after each of its
// file operations, with and without a power cut after it, and checks the
// settings file then holds the old settings or the new ones, never a broken
// file, and that the box boots with one of them.
func TestSaveSurvivesPowerCutAtEveryStep(t *testing.T) {
	const dir = "/data"
	old, updated := testConfig("old-room"), testConfig("new-room")
	completed := false
	for crashAfter := 0; !completed; crashAfter++ {
		if crashAfter > 50 {
			t.Fatal("the save never completes")
		}
		for _, powerCut := range []bool{false, true} {
			m := newMemFS()
			m.put(filepath.Join(dir, ConfigFile), mustEncode(t, old))
			m.put(filepath.Join(dir, AdminFile), []byte(`{"password_hash":"x"}`))
			s := NewStore(dir, m)
			s.Load()
			m.crashAfter = crashAfter
			err := s.SaveConfig(updated)
			if err == nil {
				completed = true
			} else if !errors.Is(err, errCrashed) {
				t.Fatalf("crash after %d steps: save failed with %v, want the injected crash", crashAfter, err)
			}
			if powerCut {
				m.PowerCut()
			}
			m.crashAfter = -1

			data, rerr := m.ReadFile(filepath.Join(dir, ConfigFile))
			if rerr != nil {
				t.Fatalf("crash after %d steps (power cut %v): the settings file is gone: %v", crashAfter, powerCut, rerr)
			}
			onDisk, perr := config.Parse(data)
			if perr != nil {
				t.Fatalf("crash after %d steps (power cut %v): the settings file is broken: %v\n%q", crashAfter, powerCut, perr, data)
			}
			if onDisk.Call.Room != "old-room" && onDisk.Call.Room != "new-room" {
				t.Fatalf("crash after %d steps: room %q, want old-room or new-room", crashAfter, onDisk.Call.Room)
			}
			if err == nil && onDisk.Call.Room != "new-room" {
				t.Fatalf("a save that returned no error left room %q (power cut %v), want new-room", onDisk.Call.Room, powerCut)
			}
			boot := NewStore(dir, m).Load()
			if boot.SetupNeeded || boot.Notice != "" || boot.Config.Call.Room != onDisk.Call.Room {
				t.Fatalf("crash after %d steps: boot %+v, want room %s without notice", crashAfter, boot, onDisk.Call.Room)
			}
			// A save cut short leaves its temporary file, with the
			// settings and their secrets in it: the next start removes it.
			if names := m.names(dir); !slices.Equal(names, []string{AdminFile, ConfigFile}) &&
				!slices.Equal(names, []string{AdminFile, GoodConfigFile, ConfigFile}) {
				t.Fatalf("crash after %d steps (power cut %v): after a restart the data directory holds %v", crashAfter, powerCut, names)
			}
		}
	}
}

func TestSaveKeepsThePreviousGoodSettings(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveConfig(testConfig("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveConfig(testConfig("second")); err != nil {
		t.Fatal(err)
	}
	good, err := config.Load(filepath.Join(dir, GoodConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if good.Call.Room != "first" {
		t.Errorf("kept settings have room %q, want first", good.Call.Room)
	}
	info, err := os.Stat(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v, want 0600 (it holds secrets)", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".callbox-tmp") {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}
}

func TestSaveRefusesInvalidSettings(t *testing.T) {
	dir := t.TempDir()
	s, _ := OpenStore(dir)
	if err := s.SaveConfig(testConfig("first")); err != nil {
		t.Fatal(err)
	}
	bad := testConfig("second")
	bad.Video.Codec = "h265"
	err := s.SaveConfig(bad)
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Field != "video.codec" {
		t.Fatalf("saving an unknown codec: %v, want a video.codec field error", err)
	}
	if got, _ := config.Load(filepath.Join(dir, ConfigFile)); got.Call.Room != "first" {
		t.Errorf("after a refused save the file has room %q, want first", got.Call.Room)
	}
}

func TestBootFallsBackToTheLastGoodSettings(t *testing.T) {
	tests := []struct {
		name        string
		current     string // "" = no file
		good        bool
		wantRoom    string
		wantSetup   bool // with an admin: the admin enters settings, never a setup code
		noticeNames string
	}{
		{"valid", "ok", true, "second", false, ""},
		{"invalid value", "[video]\ncodec = \"h265\"\n", true, "first", false, "video.codec"},
		{"not TOML", "\x00\x01[[[", true, "first", false, "broken"},
		{"missing", "", true, "first", false, "missing"},
		{"invalid and nothing earlier", "[video]\ncodec = \"h265\"\n", false, "", true, "enter them again"},
		{"nothing at all", "", false, "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustWrite(t, filepath.Join(dir, AdminFile), []byte(`{"password_hash":"x"}`))
			if tt.good {
				mustWrite(t, filepath.Join(dir, GoodConfigFile), mustEncode(t, testConfig("first")))
			}
			switch tt.current {
			case "":
			case "ok":
				mustWrite(t, filepath.Join(dir, ConfigFile), mustEncode(t, testConfig("second")))
			default:
				mustWrite(t, filepath.Join(dir, ConfigFile), []byte(tt.current))
			}
			s, err := OpenStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			b := s.Boot()
			if b.SetupNeeded || b.SettingsNeeded != tt.wantSetup {
				t.Errorf("setup needed %v, settings needed %v; want no setup, settings needed %v", b.SetupNeeded, b.SettingsNeeded, tt.wantSetup)
			}
			if !tt.wantSetup && b.Config.Call.Room != tt.wantRoom {
				t.Errorf("boots with room %q, want %q", b.Config.Call.Room, tt.wantRoom)
			}
			if tt.noticeNames == "" && b.Notice != "" {
				t.Errorf("notice %q, want none", b.Notice)
			}
			if tt.noticeNames != "" && !strings.Contains(b.Notice, tt.noticeNames) {
				t.Errorf("notice %q does not say %q", b.Notice, tt.noticeNames)
			}
		})
	}
}

func TestFactoryResetKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{s.SaveConfig(testConfig("a")), s.SaveConfig(testConfig("b")), s.SaveSecrets(Secrets{PasswordHash: "h"})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(dir, TLSKeyFile), []byte("key"))
	// What a save cut short leaves, and what else found its way in.
	mustWrite(t, filepath.Join(dir, ".callbox-tmp-123456"), mustEncode(t, testConfig("secret-room")))
	mustWrite(t, filepath.Join(dir, "notes.txt"), []byte("the wifi password is ..."))
	mustWrite(t, filepath.Join(dir, "old", "deeper", "callbox.toml"), mustEncode(t, testConfig("older")))
	// The running daemon's local API stays reachable.
	local, err := net.Listen("unix", filepath.Join(dir, "control.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "control.sock" {
			t.Errorf("%s is still there after a factory reset", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "control.sock")); err != nil {
		t.Errorf("the factory reset removed the local API's socket: %v", err)
	}
	if b := s.Load(); !b.SetupNeeded {
		t.Errorf("after a factory reset setup is not needed")
	}
}

// TestLeftoverTemporaryFilesGoAtStart: a save cut short by a crash leaves
// its temporary file (the whole settings, secrets and all); opening the
// data directory removes it, and nothing else.
func TestLeftoverTemporaryFilesGoAtStart(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, ConfigFile), mustEncode(t, testConfig("kept")))
	mustWrite(t, filepath.Join(dir, ".callbox-tmp-4242"), mustEncode(t, testConfig("leftover")))
	if _, err := OpenStore(dir); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{ConfigFile}) {
		t.Errorf("after opening the data directory it holds %v, want only %s", names, ConfigFile)
	}
}
