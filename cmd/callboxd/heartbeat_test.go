package main

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// A loop that stops beating is named once it has been silent for longer
// than the limit, the longest silent first; one that left is not.
func TestHeartbeatNamesTheSilentLoops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		beats := newHeartbeat()
		camera, speaker, gone := beats.join("camera"), beats.join("speaker"), beats.join("microphone")
		gone.leave()
		camera.beat()
		speaker.beat()
		if got := beats.stalled(time.Second); len(got) != 0 {
			t.Fatalf("loops that just joined are stalled: %q", got)
		}
		time.Sleep(600 * time.Millisecond)
		camera.beat()
		time.Sleep(600 * time.Millisecond)
		if got, want := beats.stalled(time.Second), []string{"speaker (silent 1.2s)"}; !slices.Equal(got, want) {
			t.Errorf("after 1.2 s stalled = %q, want %q", got, want)
		}
		time.Sleep(600 * time.Millisecond)
		if got, want := beats.stalled(time.Second), []string{"speaker (silent 1.8s)", "camera (silent 1.2s)"}; !slices.Equal(got, want) {
			t.Errorf("after 1.8 s stalled = %q, want %q", got, want)
		}
		speaker.leave()
		camera.beat()
		if got := beats.stalled(time.Second); len(got) != 0 {
			t.Errorf("a loop that left, and one that beat again, are stalled: %q", got)
		}
	})
}

// A daemon made without a heartbeat (tests) joins and beats nothing.
func TestNilHeartbeat(t *testing.T) {
	var beats *heartbeat
	p := beats.join("camera")
	p.beat()
	p.leave()
	if got := beats.stalled(0); got != nil {
		t.Errorf("a nil heartbeat has stalled loops %q", got)
	}
}

// A loop that has joined has startAllowance for its first beat, not the
// limit: opening an encoder and coding a first picture may be slow.
func TestHeartbeatAllowsASlowStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		beats := newHeartbeat()
		camera := beats.join("camera")
		time.Sleep(5 * time.Second)
		if got := beats.stalled(time.Second); len(got) != 0 {
			t.Errorf("a loop 5 s into its start is stalled: %q", got)
		}
		time.Sleep(startAllowance)
		if got, want := beats.stalled(time.Second), []string{"camera (silent 35s)"}; !slices.Equal(got, want) {
			t.Errorf("a loop without a beat after %v: stalled = %q, want %q", startAllowance+5*time.Second, got, want)
		}
		camera.beat()
		time.Sleep(1500 * time.Millisecond)
		if got, want := beats.stalled(time.Second), []string{"camera (silent 1.5s)"}; !slices.Equal(got, want) {
			t.Errorf("after its first beat the limit holds: stalled = %q, want %q", got, want)
		}
	})
}
