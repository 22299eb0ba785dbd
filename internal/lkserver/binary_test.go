package lkserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeServer writes an executable script that prints version like
// livekit-server --version does.
func fakeServer(t *testing.T, path, version string) {
	t.Helper()
	script := "#!/bin/sh\necho 'livekit-server version " + version + "'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestBinaryAdoptsGoInstallOutput(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	dir := filepath.Join(cache, "callbox", "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fakeServer(t, filepath.Join(dir, goInstallName), strings.TrimPrefix(Version, "v"))

	got, err := Binary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, binaryName); got != want {
		t.Errorf("Binary() = %s, want %s", got, want)
	}
	if !os.SameFile(stat(t, got), stat(t, filepath.Join(dir, goInstallName))) {
		t.Errorf("%s and %s are different files, want one binary under both names", got, goInstallName)
	}
	// The second call finds it under its own name.
	if again, err := Binary(context.Background()); err != nil || again != got {
		t.Errorf("second Binary() = %s, %v; want %s", again, err, got)
	}
}

func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestAdoptInstalledChecksVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string // "" for no file at all
		wantErr bool
	}{
		{name: "right version", version: strings.TrimPrefix(Version, "v")},
		{name: "other version", version: "1.9.0", wantErr: true},
		{name: "missing", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			installed, target := filepath.Join(dir, goInstallName), filepath.Join(dir, binaryName)
			if tt.version != "" {
				fakeServer(t, installed, tt.version)
			}
			err := adoptInstalled(context.Background(), installed, target)
			if (err != nil) != tt.wantErr {
				t.Fatalf("adoptInstalled() error = %v, want error %v", err, tt.wantErr)
			}
			_, statErr := os.Stat(target)
			if adopted := statErr == nil; adopted == tt.wantErr {
				t.Errorf("%s exists = %v, want %v", target, adopted, !tt.wantErr)
			}
		})
	}
}

func TestLockFileExcludesSecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build.lock")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if second, err := lockFile(ctx, path); err == nil {
		second()
		t.Fatal("second lockFile got the lock while the first held it")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lockFile: %v, want deadline exceeded", err)
	}

	unlock()
	second, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("lockFile after unlock: %v", err)
	}
	second()
}
