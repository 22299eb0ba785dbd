package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelpListsEveryFlagOfBothModes: callboxd -h is one help, for -data
// and -config alike, with every flag either takes listed once.
func TestHelpListsEveryFlagOfBothModes(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-h"}, &out); code != exitOK {
		t.Fatalf("callboxd -h exited %d, want %d", code, exitOK)
	}
	help := out.String()
	listed := func(name string) int {
		return len(regexp.MustCompile(`(?m)^  -`+regexp.QuoteMeta(name)+`( |$)`).FindAllString(help, -1))
	}
	// What a user of each mode reaches for, named here so that a flag
	// dropped from the parser fails too.
	want := []string{"data", "listen", "wpa-socket", "control", "log-level", "config",
		"url", "room", "identity", "name", "api-key", "api-secret", "token",
		"camera", "width", "height", "fps", "codec", "pixel-format", "bitrate", "simulcast", "microphone", "tone-hz"}
	for _, name := range want {
		if n := listed(name); n != 1 {
			t.Errorf("-%s is listed %d times in callboxd -h, want once", name, n)
		}
	}
	fs, _ := newFlags(&options{}, io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		if listed(f.Name) != 1 {
			t.Errorf("callboxd takes -%s, and -h does not list it once", f.Name)
		}
	})
	for _, mode := range []string{"callboxd -data DIR", "callboxd [-config FILE]"} {
		if !strings.Contains(help, mode) {
			t.Errorf("callboxd -h does not say how to start it as %q", mode)
		}
	}
	if t.Failed() {
		t.Logf("callboxd -h:\n%s", help)
	}
}

// TestFlagsOfTheOtherModeAreRefused: a flag that has no meaning in the
// mode callboxd starts in is a settings error naming it, not ignored.
func TestFlagsOfTheOtherModeAreRefused(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		says []string
	}{
		{"a setting with -data", []string{"-data", dir, "-room", "kitchen"}, []string{"-room is for callboxd without -data"}},
		{"-config with -data", []string{"-data", dir, "-config", "callbox.toml"}, []string{"-config is for callboxd without -data"}},
		{"-listen without -data", []string{"-listen", ":8443"}, []string{"-listen works only with -data"}},
		{"-wpa-socket without -data", []string{"-config", "x.toml", "-wpa-socket", "/run/wpa_supplicant/wlan0"}, []string{"-wpa-socket works only with -data"}},
		{"-data without a directory", []string{"-data="}, []string{"-data needs a directory"}},
		{"a log level that is none", []string{"-data", dir, "-log-level", "loud"}, []string{"-log-level", "loud", "is not one of debug, info, warn, error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			if err == nil {
				t.Fatalf("callboxd %q was taken", tt.args)
			}
			for _, want := range tt.says {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("callboxd %q: %q, want it to say %q", tt.args, err, want)
				}
			}
		})
	}
	// As callboxd says it: one line, and the exit code of settings that
	// cannot work (systemd does not restart it).
	var out bytes.Buffer
	if code := run([]string{"-listen", ":8443"}, &out); code != exitBadConfig {
		t.Errorf("callboxd -listen :8443 exited %d, want %d", code, exitBadConfig)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "-listen works only with -data") {
		t.Errorf("callboxd -listen :8443 said %q, want one line saying why", out.String())
	}
}

// TestSettingFlagsWinOverTheFile: with -config, a setting flag given
// replaces the file's value; one not given leaves it; -log-level is
// log.level.
func TestSettingFlagsWinOverTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.toml")
	file := "[call]\nurl = \"ws://10.99.0.1:7880\"\nroom = \"kitchen\"\nidentity = \"box\"\napi_key = \"k\"\napi_secret = \"s\"\n[video]\nfps = 12\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseFlags([]string{"-config", path, "-room", "garden", "-simulcast", "-log-level", "debug"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Call.Room != "garden" || !cfg.Video.Simulcast || cfg.Log.Level != "debug" {
		t.Errorf("flags -room garden -simulcast -log-level debug gave room %q, simulcast %v, log level %q",
			cfg.Call.Room, cfg.Video.Simulcast, cfg.Log.Level)
	}
	if cfg.Call.Identity != "box" || cfg.Video.FPS != 12 {
		t.Errorf("settings no flag gave were changed: identity %q, fps %d; want the file's box, 12", cfg.Call.Identity, cfg.Video.FPS)
	}
	if o.control != "" {
		t.Errorf("with -config the local API listens at %q without -control, want nowhere", o.control)
	}
}

func TestDataDirHasTheLocalAPIByDefault(t *testing.T) {
	dir := t.TempDir()
	o, err := parseFlags([]string{"-data", dir}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "control.sock"); o.control != want {
		t.Errorf("with -data the local API's socket is %q, want %q", o.control, want)
	}
	if o.listen != ":443" {
		t.Errorf("with -data the setup page listens on %q, want :443", o.listen)
	}
}
