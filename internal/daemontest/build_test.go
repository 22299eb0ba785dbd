package daemontest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBuildOncePerProcess: Build gives a program that runs, and the same
// one, not linked again, to every later test of the process.
func TestBuildOncePerProcess(t *testing.T) {
	const pkg = "github.com/callbox/callbox/lab/tone" // small, and no cgo
	first := Build(t, pkg)
	before, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(first, "-h").CombinedOutput()
	if !strings.Contains(string(out), "-hz") {
		t.Errorf("%s -h: %v, %q; want lab-tone's usage", first, err, out)
	}
	second := Build(t, pkg)
	after, err := os.Stat(second)
	if err != nil {
		t.Fatal(err)
	}
	if second != first || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the second Build gave %s (%v), the first %s (%v): built again", second, after.ModTime(), first, before.ModTime())
	}
}

// TestBuildSaysWhatFailed: a program that does not build is an error with
// the go tool's own words, every time it is asked for.
func TestBuildSaysWhatFailed(t *testing.T) {
	const pkg = "github.com/callbox/callbox/no/such/program"
	for range 2 {
		_, err := Binary(pkg)
		if err == nil || !strings.Contains(err.Error(), "go build "+pkg) || !strings.Contains(err.Error(), "cannot find module providing package") {
			t.Fatalf("Binary(%q) = %v, want the go tool's error", pkg, err)
		}
	}
}
