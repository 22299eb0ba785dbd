package daemontest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// Build compiles pkg, an import path of this module (for callboxd,
// "github.com/callbox/callbox/cmd/callboxd"), as the box runs it and
// returns the program's path. Each program is built once per test process,
// on its first Build; a build that fails fails every test that asks for
// it, with the compiler's output.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin, err := Binary(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Binary is Build for a program that is not a test (the bench): it
// returns the error instead of failing a test.
//
// Tests may run inside a network namespace with no network, so modules
// come from the module cache only. The binaries go to
// ${XDG_CACHE_HOME:-$HOME/.cache}/callbox/test-bin, one per program and
// checkout, each replaced by the next build: a temporary folder per test
// process would be left behind by every run (no hook runs when a test
// process ends), and one per test would link the program again for each.
func Binary(pkg string) (string, error) {
	builds.mu.Lock()
	b, ok := builds.of[pkg]
	if !ok {
		b = &build{}
		builds.of[pkg] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() { b.path, b.err = compile(pkg) })
	return b.path, b.err
}

// builds are this process's builds, by import path.
var builds = struct {
	mu sync.Mutex
	of map[string]*build
}{of: map[string]*build{}}

type build struct {
	once sync.Once
	path string
	err  error
}

// compile runs go build into a temporary folder and renames the program
// into place,
// so that another test process of the same checkout never runs a binary
// that is half written.
func compile(pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	dir := filepath.Join(cache, "callbox", "test-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	key := sha256.Sum256([]byte(root + "\x00" + pkg))
	target := filepath.Join(dir, path.Base(pkg)+"-"+hex.EncodeToString(key[:6]))
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	defer os.RemoveAll(tmp)
	built := filepath.Join(tmp, path.Base(pkg))
	cmd := exec.Command("go", "build", "-tags", "dynamic", "-o", built, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	if err := os.Rename(built, target); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	return target, nil
}

// moduleRoot is the folder of the go.mod above the working directory: a
// test runs in its package's folder, the bench in the module's.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
