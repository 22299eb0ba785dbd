// Package buildroot holds the Buildroot external tree that makes Callbox's
// flashable images; this test is its only Go. It runs check.sh on the tree,
// then on copies broken one way each, and wants every break reported.
package buildroot

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// runCheck runs check.sh on tree and returns its output and whether it passed.
func runCheck(t *testing.T, tree string) (string, bool) {
	t.Helper()
	out, err := exec.Command("bash", "check.sh", tree).CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run check.sh: %v", err)
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
			name: "the package has no licence",
			breakIt: func(t *testing.T, tree string) {
				edit(t, filepath.Join(tree, mk), "CALLBOXD_LICENSE = ", "CALLBOXD_LICENCE = ")
			},
			want: "CALLBOXD_LICENSE is not set",
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

// The C libraries of each pkg-config name cgo links, as Buildroot packages
// them: the package the .mk depends on and the option Config.in selects.
var buildrootLibraries = map[string]struct{ pkg, option string }{
	"x264":       {"x264", "BR2_PACKAGE_X264"},
	"vpx":        {"libvpx", "BR2_PACKAGE_LIBVPX"},
	"opus":       {"opus", "BR2_PACKAGE_OPUS"},
	"speexdsp":   {"speexdsp", "BR2_PACKAGE_SPEEXDSP"},
	"libavcodec": {"ffmpeg", "BR2_PACKAGE_FFMPEG"},
	"libavutil":  {"ffmpeg", "BR2_PACKAGE_FFMPEG"},
	"libswscale": {"ffmpeg", "BR2_PACKAGE_FFMPEG_SWSCALE"},
	// TurboJPEG is jpeg-turbo's alone; Config.in selects jpeg, and the
	// defconfigs choose jpeg-turbo for it.
	"libturbojpeg": {"jpeg-turbo", "BR2_PACKAGE_JPEG"},
}

// imageBuildProblems compares the image's build of callboxd (the .mk and
// Config.in) with make's (the Makefile) and with what cgo links
// (pkg-config names): the same build tags, and every library a
// dependency of the package.
func imageBuildProblems(makefile, mk, config string, pkgConfig []string) []string {
	var problems []string
	makeTags := regexp.MustCompile(`(?m)^GOFLAGS\s*\+?=.*-tags=(\S+)`).FindStringSubmatch(makefile)
	mkTags := regexp.MustCompile(`(?m)^CALLBOXD_TAGS\s*\+?=(.*)$`).FindStringSubmatch(mk)
	if makeTags == nil || mkTags == nil {
		problems = append(problems, "no build tags found in the Makefile (GOFLAGS += -tags=...) or the .mk (CALLBOXD_TAGS = ...)")
	} else if a, b := strings.Split(makeTags[1], ","), strings.Fields(mkTags[1]); !sameSet(a, b) {
		problems = append(problems, fmt.Sprintf("the Makefile builds with tags %v, callboxd.mk with %v", a, b))
	}
	deps := regexp.MustCompile(`(?m)^CALLBOXD_DEPENDENCIES\s*\+?=(.*)$`).FindStringSubmatch(mk)
	if deps == nil {
		return append(problems, "callboxd.mk has no CALLBOXD_DEPENDENCIES")
	}
	for _, name := range pkgConfig {
		lib, ok := buildrootLibraries[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("cgo links pkg-config %q, which buildroot_test.go knows no Buildroot package for: add it to buildrootLibraries, the .mk and Config.in", name))
			continue
		}
		if !slices.Contains(strings.Fields(deps[1]), lib.pkg) {
			problems = append(problems, fmt.Sprintf("cgo links %s (pkg-config %s), but CALLBOXD_DEPENDENCIES lacks %s", lib.pkg, name, lib.pkg))
		}
		if !regexp.MustCompile(`(?m)^\s*select ` + lib.option + `$`).MatchString(config) {
			problems = append(problems, fmt.Sprintf("cgo links %s (pkg-config %s), but Config.in does not select %s", lib.pkg, name, lib.option))
		}
	}
	return problems
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// cgoPkgConfig lists the pkg-config names of every cgo package callboxd
// links (its own and its modules', pion/mediadevices' vpx and opus), as
// the image builds it: arm64 with the given tags.
func cgoPkgConfig(t *testing.T, tags string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags="+tags, "-f", `{{join .CgoPkgConfig "\n"}}`, "./cmd/callboxd")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=1", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	names := slices.Sorted(slices.Values(strings.Fields(string(out))))
	return slices.Compact(names)
}

// TestImageBuildsAsMakeDoes: the image's callboxd is built with the
// Makefile's tags and has every C library cgo links as a dependency.
func TestImageBuildsAsMakeDoes(t *testing.T) {
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	makefile, mk, config := read("../Makefile"), read("package/callboxd/callboxd.mk"), read("package/callboxd/Config.in")
	tags := regexp.MustCompile(`(?m)^CALLBOXD_TAGS\s*=\s*(.*)$`).FindStringSubmatch(mk)
	if tags == nil {
		t.Fatal("callboxd.mk has no CALLBOXD_TAGS")
	}
	pkgConfig := cgoPkgConfig(t, strings.Join(strings.Fields(tags[1]), ","))
	if len(pkgConfig) < 5 {
		t.Fatalf("cgo links only %v: is cgo off?", pkgConfig)
	}
	if problems := imageBuildProblems(makefile, mk, config, pkgConfig); len(problems) > 0 {
		t.Errorf("the image builds callboxd unlike make:\n%s", strings.Join(problems, "\n"))
	}

	// Each way the two can part, caught.
	for _, tc := range []struct {
		name                 string
		makefile, mk, config string
		pkgConfig            []string
		want                 string
	}{
		{"the Makefile's tags change", strings.Replace(makefile, "-tags=dynamic", "-tags=dynamic,lean", 1), mk, config, pkgConfig,
			"the Makefile builds with tags [dynamic lean], callboxd.mk with [dynamic]"},
		{"the .mk's tags change", makefile, strings.Replace(mk, "CALLBOXD_TAGS = dynamic", "CALLBOXD_TAGS = static", 1), config, pkgConfig,
			"callboxd.mk with [static]"},
		{"speexdsp not a dependency", makefile, strings.Replace(mk, " speexdsp ", " ", 1), config, pkgConfig,
			"CALLBOXD_DEPENDENCIES lacks speexdsp"},
		{"swscale not selected", makefile, mk, strings.Replace(config, "\tselect BR2_PACKAGE_FFMPEG_SWSCALE\n", "", 1), pkgConfig,
			"does not select BR2_PACKAGE_FFMPEG_SWSCALE"},
		{"a new C library", makefile, mk, config, append(slices.Clone(pkgConfig), "libdav1d"),
			`pkg-config "libdav1d", which buildroot_test.go knows no Buildroot package for`},
	} {
		problems := strings.Join(imageBuildProblems(tc.makefile, tc.mk, tc.config, tc.pkgConfig), "\n")
		if !strings.Contains(problems, tc.want) {
			t.Errorf("%s: the check says %q, want it to say %q", tc.name, problems, tc.want)
		}
	}
}
