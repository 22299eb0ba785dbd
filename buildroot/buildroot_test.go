// Package buildroot holds the Buildroot external tree that makes Callbox's
// flashable images; this test is its only Go. It runs check.sh on the tree,
// then on copies broken one way each, and wants every break reported.
package buildroot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCheck runs check.sh on tree and returns its output and whether it passed.
func runCheck(t *testing.T, tree string) (string, bool) {
	t.Helper()
	out, err := exec.Command("bash", "check.sh", tree).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run check.sh: %v", err)
		}
	}
	return string(out), err == nil
}

func TestTreePassesItsChecks(t *testing.T) {
	out, ok := runCheck(t, ".")
	if !ok {
		t.Fatalf("check.sh finds problems in buildroot/:\n%s", out)
	}
}

// copyTree copies this folder into a fresh temporary one, modes included.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "buildroot")
	if out, err := exec.Command("cp", "-a", ".", dst).CombinedOutput(); err != nil {
		t.Fatalf("copy buildroot/: %v: %s", err, out)
	}
	return dst
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q: the test is out of date", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestChecksCatchBrokenFiles(t *testing.T) {
	const (
		rpi4    = "configs/callbox_rpi4_defconfig"
		mk      = "package/callboxd/callboxd.mk"
		config  = "package/callboxd/Config.in"
		unit    = "package/callboxd/callboxd.service"
		overlay = "board/common/rootfs-overlay"
		check   = overlay + "/usr/libexec/callbox/boot-check"
	)
	tests := []struct {
		name    string
		breakIt func(t *testing.T, tree string)
		want    string
	}{
		{
			name: "a misspelt option in a defconfig",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, rpi4), "BR2_PACKAGE_RAUC=y", "BR2_PACKAGE_RAUCC=y")
			},
			want: "callbox_rpi4_defconfig:",
		},
		{
			name: "an option unset that does not exist",
			breakIt: func(t *testing.T, tree string) {
				appendTo(t, filepath.Join(tree, rpi4), "# BR2_PACKAGE_NO_SUCH_THING is not set\n")
			},
			want: "BR2_PACKAGE_NO_SUCH_THING is defined neither",
		},
		{
			name: "a defconfig names a file the tree lacks",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, rpi4), "board/rpi4-64/config.txt", "board/rpi4/config.txt")
			},
			want: "names board/rpi4/config.txt, which is not in the tree",
		},
		{
			name: "the release changed but the symbol list was not regenerated",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, "VERSION"), "BUILDROOT_VERSION=2026.02.3", "BUILDROOT_VERSION=2026.05.1")
			},
			want: "kconfig-symbols.txt was not generated from Buildroot 2026.05.1",
		},
		{
			name: "the package selects an option nobody defines",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, config), "select BR2_PACKAGE_OPUS\n", "select BR2_PACKAGE_OPUS\n\tselect BR2_PACKAGE_LIBOPUS\n")
			},
			want: "uses BR2_PACKAGE_LIBOPUS, defined neither",
		},
		{
			name: "the .mk header",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, mk), "# callboxd\n", "# callbox daemon\n")
			},
			want: "callboxd.mk: the header",
		},
		{
			name:    "a .mk variable without the package prefix",
			breakIt: func(t *testing.T, tree string) { appendTo(t, filepath.Join(tree, mk), "GO_FLAGS = -x\n") },
			want:    "not prefixed with CALLBOXD_",
		},
		{
			name: "trailing whitespace in the .mk",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, mk), "CALLBOXD_VERSION = local\n", "CALLBOXD_VERSION = local \n")
			},
			want: "callboxd.mk:10: trailing whitespace",
		},
		{
			name: "the .mk does not end with the golang-package call",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, mk), "$(eval $(golang-package))", "$(eval $(generic-package))")
			},
			want: "the last line is not $(eval $(golang-package))",
		},
		{
			name: "the dynamic build tag is gone",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, mk), "CALLBOXD_TAGS = dynamic", "CALLBOXD_TAGS =")
			},
			want: "lacks the dynamic build tag",
		},
		{
			name: "Config.in indented with spaces",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, config), "\tbool \"callboxd\"", "    bool \"callboxd\"")
			},
			want: "Config.in:2: should be indented with one tab",
		},
		{
			name: "Config.in help text indented wrong",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, config), "\t  The Callbox daemon", "\tThe Callbox daemon")
			},
			want: "help text should be one tab and two spaces in",
		},
		{
			name: "Config.in no longer selects x264",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, config), "\tselect BR2_PACKAGE_X264\n", "")
			},
			want: "does not select BR2_PACKAGE_X264",
		},
		{
			name:    "a service type systemd does not know",
			breakIt: func(t *testing.T, tree string) { edit(t, filepath.Join(tree, unit), "Type=notify", "Type=notfy") },
			want:    "systemd-analyze verify callboxd.service",
		},
		{
			name:    "a setting in the wrong section",
			breakIt: func(t *testing.T, tree string) { appendTo(t, filepath.Join(tree, unit), "WatchdogSec=10s\n") },
			want:    "Unknown key 'WatchdogSec' in section [Install]",
		},
		{
			name: "a unit runs a script the overlay does not have",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, overlay, "usr/lib/systemd/system/callbox-boot-check.service"),
					"/usr/libexec/callbox/boot-check", "/usr/libexec/callbox/boot-chek")
			},
			want: "boot-chek is not executable",
		},
		{
			name:    "a script that is not executable",
			breakIt: func(t *testing.T, tree string) { chmod(t, filepath.Join(tree, check), 0o644) },
			want:    "boot-check is a script but not executable",
		},
		{
			name:    "a file writable by everyone",
			breakIt: func(t *testing.T, tree string) { chmod(t, filepath.Join(tree, "board/rpi4-64/config.txt"), 0o666) },
			want:    "board/rpi4-64/config.txt is writable by everyone",
		},
		{
			name: "a private key in the overlay",
			breakIt: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, overlay, "etc/rauc/signing.pem"),
					"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
			},
			want: "signing.pem holds a private key",
		},
		{
			name: "a Wi-Fi passphrase file that is not 0600",
			breakIt: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, overlay, "etc/wpa_supplicant.conf"), "network={\n\tpsk=\"secret\"\n}\n")
			},
			want: "/etc/wpa_supplicant.conf can hold secrets but permissions.txt does not make it 0600",
		},
		{
			name: "a secret file made readable by all",
			breakIt: func(t *testing.T, tree string) {
				write(t, filepath.Join(tree, overlay, "etc/hostapd.conf"), "wpa_passphrase=secret\n")
				appendTo(t, filepath.Join(tree, "board/common/permissions.txt"), "/etc/hostapd.conf\tf\t644\t0\t0\t-\t-\t-\t-\t-\n")
			},
			want: "/etc/hostapd.conf can hold secrets but permissions.txt makes it 644",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tree := copyTree(t)
			tt.breakIt(t, tree)
			out, ok := runCheck(t, tree)
			if ok {
				t.Fatalf("check.sh passed a broken tree:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("check.sh output does not say %q:\n%s", tt.want, out)
			}
		})
	}
}

func TestSecretFileListedAs0600Passes(t *testing.T) {
	tree := copyTree(t)
	write(t, filepath.Join(tree, "board/common/rootfs-overlay/etc/hostapd.conf"), "wpa_passphrase=secret\n")
	appendTo(t, filepath.Join(tree, "board/common/permissions.txt"), "/etc/hostapd.conf\tf\t600\t0\t0\t-\t-\t-\t-\t-\n")
	if out, ok := runCheck(t, tree); !ok {
		t.Fatalf("check.sh refuses a secret file that permissions.txt makes 0600:\n%s", out)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
