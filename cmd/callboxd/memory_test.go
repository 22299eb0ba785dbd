package main

import (
	"runtime/debug"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLightenMemory: after callboxd's memory settings the process has no
// transparent huge pages and collects its heap at gcPercent.
func TestLightenMemory(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	if err := lightenMemory(); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(before); got != gcPercent {
		t.Errorf("GOGC is %d, want %d", got, gcPercent)
	}
	disabled, err := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if disabled != 1 {
		t.Errorf("PR_GET_THP_DISABLE is %d, want 1: transparent huge pages are still on", disabled)
	}
}
