package lkserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/callbox/callbox/internal/netns"
)

// Version is the livekit-server release that Binary builds. Later releases
// need module forks that the Go proxy here does not serve.
const Version = "v1.11.0"

const (
	modulePath = "github.com/livekit/livekit-server/cmd/server"
	binaryName = "livekit-server"
	// goInstallName is what `go install .../cmd/server` calls the binary.
	goInstallName = "server"
)

// Binary returns the path of the livekit-server Version binary in
// ${XDG_CACHE_HOME:-$HOME/.cache}/callbox/bin, building it with
// `go install` first when it is missing. A lock file keeps concurrent test
// processes from building at the same time. Building needs the Go module
// proxy, so call Binary before entering a network namespace.
func Binary(ctx context.Context) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("livekit-server binary: %w", err)
	}
	dir := filepath.Join(cache, "callbox", "bin")
	target := filepath.Join(dir, binaryName)
	if isExecutable(target) {
		return target, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("livekit-server binary: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, binaryName+".lock"))
	if err != nil {
		return "", fmt.Errorf("livekit-server binary: %w", err)
	}
	defer unlock()
	// Another process may have built it while we waited for the lock.
	if isExecutable(target) {
		return target, nil
	}
	if err := adoptInstalled(ctx, filepath.Join(dir, goInstallName), target); err == nil {
		return target, nil
	}
	if err := build(ctx, dir, target); err != nil {
		return "", fmt.Errorf("livekit-server binary: %w", err)
	}
	return target, nil
}

// adoptInstalled gives a binary that a plain `GOBIN=dir go install` left
// under go's name our name too, if it is the right version. A hard link
// keeps the old name working for whoever still uses it.
func adoptInstalled(ctx context.Context, installed, target string) error {
	if !isExecutable(installed) {
		return os.ErrNotExist
	}
	out, err := exec.CommandContext(ctx, installed, "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s --version: %w", installed, err)
	}
	if !strings.Contains(string(out), strings.TrimPrefix(Version, "v")) {
		return fmt.Errorf("%s is %q, want %s", installed, strings.TrimSpace(string(out)), Version)
	}
	if err := os.Link(installed, target); err != nil {
		return fmt.Errorf("link %s to %s: %w", installed, target, err)
	}
	return nil
}

// build runs go install into a temporary GOBIN inside dir, so that a
// half-written binary never appears under the final name.
func build(ctx context.Context, dir, target string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build %s@%s: %w", modulePath, Version, err)
	}
	gobin, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(gobin)

	cmd := exec.CommandContext(ctx, goTool, "install", modulePath+"@"+Version)
	cmd.Dir = gobin // outside any module, so no go.mod or go.work interferes
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		hint := ""
		if netns.Inside() {
			hint = "\n(this runs inside a network namespace, without the module proxy: " +
				"call Binary before netns.Run or netns.RunMain, as RunInNamespace does)"
		}
		return fmt.Errorf("go install %s@%s: %w\n%s%s", modulePath, Version, err, lastLines(out.String(), 20), hint)
	}
	return os.Rename(filepath.Join(gobin, goInstallName), target)
}

// lockFile takes an exclusive flock on path, retrying until ctx ends.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	// flock has no way to wait with a context; a slow poll is fine next to
	// a build that takes minutes.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}

// lastLines returns up to n trailing lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
