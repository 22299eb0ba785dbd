package debian

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The packages under test: make test builds them (scripts/deb.sh, for the
// host and arm64) and names them in CALLBOX_DEBS.
func builtPackages(t *testing.T) map[string]string {
	t.Helper()
	list := strings.Fields(os.Getenv("CALLBOX_DEBS"))
	if len(list) == 0 {
		t.Skip("make test builds the packages (make deb) and names them in CALLBOX_DEBS")
	}
	debs := map[string]string{}
	for _, deb := range list {
		debs[field(t, deb, "Architecture")] = deb
	}
	return debs
}

// field is a control field of a package.
func field(t *testing.T, deb, name string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "-f", deb, name).Output()
	if err != nil {
		t.Fatalf("dpkg-deb -f %s %s: %v", deb, name, err)
	}
	return strings.TrimSpace(string(out))
}

// Each architecture's ELF machine, C toolchain and program interpreter.
var machines = map[string]struct {
	machine     elf.Machine
	triplet     string
	interpreter string
}{
	"amd64": {elf.EM_X86_64, "x86_64-linux-gnu", "/lib64/ld-linux-x86-64.so.2"},
	"arm64": {elf.EM_AARCH64, "aarch64-linux-gnu", "/lib/ld-linux-aarch64.so.1"},
}

// TestPackages looks into each package as apt would install it: named for
// its version and architecture, binaries of that architecture that link
// only libraries of it, Depends that name exactly the packages of those
// libraries, Recommends the fonts of the screen's CJK letters, the
// image's unit file, the generated copyright file, and nothing lintian
// calls an error or a warning.
func TestPackages(t *testing.T) {
	debs := builtPackages(t)
	version, err := exec.Command("../scripts/version.sh").Output()
	if err != nil {
		t.Fatalf("scripts/version.sh: %v", err)
	}
	for arch, deb := range debs {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			want := fmt.Sprintf("callbox_%s_%s.deb", strings.TrimSpace(string(version)), arch)
			if filepath.Base(deb) != want || field(t, deb, "Package") != "callbox" {
				t.Errorf("package %s (Package: %s), want %s", deb, field(t, deb, "Package"), want)
			}
			root := t.TempDir()
			if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -x %s: %v: %s", deb, err, out)
			}

			libraryPackages := map[string]bool{}
			for _, bin := range []string{"usr/bin/callboxd", "usr/bin/callboxctl"} {
				for _, pkg := range checkBinary(t, filepath.Join(root, bin), arch) {
					libraryPackages[pkg] = true
				}
			}
			depends := dependsNames(field(t, deb, "Depends"))
			for pkg := range libraryPackages {
				if !slices.Contains(depends, pkg) {
					t.Errorf("Depends (%s) lacks %s, whose library the binaries link", field(t, deb, "Depends"), pkg)
				}
			}
			for _, pkg := range depends {
				if pkg != "systemd" && !libraryPackages[pkg] {
					t.Errorf("Depends names %s, whose library no binary links", pkg)
				}
			}
			// The screen's Chinese, Japanese and Korean letters (pipeline/compose/fallback.go).
			for _, font := range []string{"fonts-droid-fallback", "fonts-nanum"} {
				if !slices.Contains(dependsNames(field(t, deb, "Recommends")), font) {
					t.Errorf("Recommends (%s) lacks %s, the screen's CJK letters", field(t, deb, "Recommends"), font)
				}
			}
			if !strings.HasPrefix(field(t, deb, "Built-Using"), "ffmpeg (= ") {
				t.Errorf("Built-Using: %q, want the ffmpeg source of the static FFmpeg", field(t, deb, "Built-Using"))
			}

			for packaged, source := range map[string]string{
				"lib/systemd/system/callboxd.service": "../buildroot/package/callboxd/callboxd.service",
				"usr/share/doc/callbox/copyright":     "copyright",
				"usr/lib/sysusers.d/callbox.conf":     "callbox.sysusers",
				"lib/udev/rules.d/60-callbox.rules":   "callbox.udev",
			} {
				sameFile(t, filepath.Join(root, packaged), source)
			}

			out, err := exec.Command("lintian", "--fail-on", "error,warning", deb).CombinedOutput()
			if err != nil {
				t.Errorf("lintian %s: %v\n%s", filepath.Base(deb), err, out)
			}
		})
	}
}

// checkBinary checks that bin is an ELF program for arch whose libraries
// all are that architecture's, from its Debian packages, and returns those
// packages.
func checkBinary(t *testing.T, bin, arch string) []string {
	t.Helper()
	want := machines[arch]
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer f.Close()
	if f.Machine != want.machine || f.Class != elf.ELFCLASS64 {
		t.Fatalf("%s is %s %s, want %s ELFCLASS64 for %s", bin, f.Machine, f.Class, want.machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		if interp := strings.TrimRight(string(b), "\x00"); interp != want.interpreter {
			t.Errorf("%s asks for the interpreter %s, want %s", bin, interp, want.interpreter)
		}
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	var packages []string
	for _, lib := range needed {
		if strings.HasPrefix(lib, "libav") || strings.HasPrefix(lib, "libsw") {
			t.Errorf("%s links Debian's shared %s, not the lean static FFmpeg (scripts/ffmpeg-lean.sh)", bin, lib)
		}
		path, pkg, err := findLibrary(lib, want.triplet)
		if err != nil {
			t.Errorf("%s: %v", bin, err)
			continue
		}
		if m := libraryMachine(t, path); m != want.machine {
			t.Errorf("%s links %s, which is %s, not %s", bin, path, m, want.machine)
		}
		packages = append(packages, pkg)
	}
	if len(needed) == 0 {
		t.Errorf("%s links no library at all: not the cgo build of make", bin)
	}
	return packages
}

// findLibrary finds a library where that architecture's Debian packages
// put it, and the package that did.
func findLibrary(soname, triplet string) (path, pkg string, err error) {
	for _, dir := range []string{"/lib/" + triplet, "/usr/lib/" + triplet} {
		path := filepath.Join(dir, soname)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		out, err := exec.Command("dpkg-query", "-S", path).Output()
		if err != nil {
			continue // the other spelling of a merged /usr
		}
		pkg, _, _ := strings.Cut(string(out), ":") // "libx264-164:arm64: /usr/lib/..."
		return path, pkg, nil
	}
	return "", "", fmt.Errorf("%s is in no package of %s (looked in /lib/%[2]s and /usr/lib/%[2]s)", soname, triplet)
}

func libraryMachine(t *testing.T, path string) elf.Machine {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	return f.Machine
}

// dependsNames are the package names of a Depends field, without versions.
func dependsNames(depends string) []string {
	var names []string
	for _, d := range strings.Split(depends, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
		names = append(names, name)
	}
	return names
}

func sameFile(t *testing.T, packaged, source string) {
	t.Helper()
	got, err := os.ReadFile(packaged)
	if err != nil {
		t.Errorf("the package lacks %s: %v", packaged, err)
		return
	}
	want, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the package's %s is not debian/%s", filepath.Base(packaged), source)
	}
}

// TestInstallUpgradeRemovePurge installs the host's package with dpkg into
// a throwaway Debian 12 (mmdebstrap, minbase with systemd and the
// package's libraries, cached under ~/.cache/callbox/debian-root) and runs
// its maintainer scripts as apt would: install, upgrade, remove, purge.
// The real service in a booted system is make arm64-test's.
func TestInstallUpgradeRemovePurge(t *testing.T) {
	debs := builtPackages(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for a chroot (make test in CI runs as root)")
	}
	arch := strings.TrimSpace(run(t, "dpkg", "--print-architecture"))
	deb, ok := debs[arch]
	if !ok {
		t.Fatalf("no package for the host (%s) in CALLBOX_DEBS", arch)
	}
	root := throwawayRoot(t, arch, append(dependsNames(field(t, deb, "Depends")), "passwd"))
	in := func(args ...string) string { return run(t, append([]string{"chroot", root}, args...)...) }
	put := func(pkg string) string {
		dst := filepath.Join(root, "tmp", filepath.Base(pkg))
		run(t, "cp", pkg, dst)
		return "/tmp/" + filepath.Base(pkg)
	}

	in("dpkg", "-i", put(deb))
	user := strings.Split(strings.TrimSpace(in("getent", "passwd", "callbox")), ":")
	if len(user) < 7 || user[5] != "/var/lib/callbox" || user[6] != "/usr/sbin/nologin" {
		t.Errorf("user callbox: %q, want a system user at home in /var/lib/callbox without a shell", user)
	}
	groups := strings.Fields(in("id", "-nG", "callbox"))
	for _, g := range []string{"video", "render", "audio", "input", "gpio"} {
		if !slices.Contains(groups, g) {
			t.Errorf("user callbox is in %v, not in %s", groups, g)
		}
	}
	enabled := filepath.Join(root, "etc/systemd/system/multi-user.target.wants/callboxd.service")
	if target, err := os.Readlink(enabled); err != nil || target != "/lib/systemd/system/callboxd.service" {
		t.Errorf("callboxd.service is not enabled after install: %s -> %q (%v)", enabled, target, err)
	}
	// Where an admin puts a provisioning file, for callboxd (user
	// callbox) to read and delete.
	if got := strings.TrimSpace(in("stat", "-c", "%a %U %G", "/etc/callbox")); got != "700 callbox callbox" {
		t.Errorf("/etc/callbox after install: %q, want 700 callbox callbox", got)
	}
	// The settings the daemon would have written.
	settings := filepath.Join(root, "var/lib/callbox/callbox.toml")
	if err := os.MkdirAll(filepath.Dir(settings), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, []byte("[call]\nroom = \"kitchen\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	in("dpkg", "-i", put(nextVersion(t, deb)))
	if v := in("dpkg-query", "-W", "-f=${Version}", "callbox"); !strings.HasSuffix(v, "+upgrade") {
		t.Errorf("after the upgrade dpkg has callbox %s", v)
	}
	keptSettings(t, settings, "upgrade")
	if _, err := os.Readlink(enabled); err != nil {
		t.Errorf("callboxd.service is not enabled after the upgrade: %v", err)
	}

	in("dpkg", "-r", "callbox")
	if _, err := os.Stat(filepath.Join(root, "usr/bin/callboxd")); err == nil {
		t.Errorf("callboxd is still there after remove")
	}
	keptSettings(t, settings, "remove")
	in("getent", "passwd", "callbox")

	in("dpkg", "-P", "callbox")
	for _, dir := range []string{"var/lib/callbox", "etc/callbox"} {
		if _, err := os.Stat(filepath.Join(root, dir)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("/%s is still there after purge (%v)", dir, err)
		}
	}
	if out, err := exec.Command("chroot", root, "getent", "passwd", "callbox").Output(); err == nil {
		t.Errorf("user callbox is still there after purge: %s", out)
	}
	if _, err := os.Lstat(enabled); err == nil {
		t.Errorf("callboxd.service is still enabled after purge")
	}
}

func keptSettings(t *testing.T, settings, after string) {
	t.Helper()
	if b, err := os.ReadFile(settings); err != nil || !strings.Contains(string(b), "kitchen") {
		t.Errorf("the settings are gone after %s: %q, %v", after, b, err)
	}
}

// nextVersion is the same package as a later version, for an upgrade.
func nextVersion(t *testing.T, deb string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pkg")
	run(t, "dpkg-deb", "-R", deb, dir)
	control := filepath.Join(dir, "DEBIAN", "control")
	b, err := os.ReadFile(control)
	if err != nil {
		t.Fatal(err)
	}
	version := field(t, deb, "Version")
	b = bytes.Replace(b, []byte("Version: "+version+"\n"), []byte("Version: "+version+"+upgrade\n"), 1)
	if err := os.WriteFile(control, b, 0o644); err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(t.TempDir(), "callbox_next.deb")
	run(t, "dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "-b", dir, next)
	return next
}

// throwawayRoot unpacks a minimal Debian 12 with packages into a
// temporary folder. The root is made once per package list and kept as a
// tarball in the cache.
func throwawayRoot(t *testing.T, arch string, packages []string) string {
	t.Helper()
	slices.Sort(packages)
	sources := []string{
		"deb http://deb.debian.org/debian bookworm main",
		"deb http://deb.debian.org/debian bookworm-updates main",
		"deb http://deb.debian.org/debian-security bookworm-security main",
	}
	sum := sha256.Sum256([]byte(strings.Join(append(append([]string{arch}, packages...), sources...), "\n")))
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	tarball := filepath.Join(cache, "callbox", "debian-root", arch+"-"+hex.EncodeToString(sum[:8])+".tar")
	if _, err := os.Stat(tarball); err != nil {
		if err := os.MkdirAll(filepath.Dir(tarball), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("making a Debian 12 root with %s (once: about a minute)", strings.Join(packages, ", "))
		tmp := tarball + ".new"
		args := append([]string{"--quiet", "--variant=minbase", "--format=tar", "--architectures=" + arch,
			"--include=" + strings.Join(packages, ","), "bookworm", tmp}, sources...)
		run(t, append([]string{"mmdebstrap"}, args...)...)
		if err := os.Rename(tmp, tarball); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "tar", "-xf", tarball, "-C", root)
	return root
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}
