package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Without -socket, callboxctl talks to the box on its own machine: the
// package's socket or the image's, whichever is there.
func TestDefaultSocketFindsTheRunningBox(t *testing.T) {
	dir := t.TempDir()
	pkg, image := filepath.Join(dir, "package.sock"), filepath.Join(dir, "image.sock")
	saved := knownSockets
	knownSockets = []string{pkg, image}
	t.Cleanup(func() { knownSockets = saved })

	if got := defaultSocket(); got != pkg {
		t.Errorf("with no box running: %s, want the package's %s (for the error to name)", got, pkg)
	}
	if err := os.WriteFile(image, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := defaultSocket(); got != image {
		t.Errorf("with the image's box running: %s, want %s", got, image)
	}
}
