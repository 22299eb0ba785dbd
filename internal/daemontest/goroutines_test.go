package daemontest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a test seen from outside: what it was told to clean up and
// the errors it reported.
type recorder struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// end runs the cleanups as testing does: the last registered first.
func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func waitForever(stop <-chan struct{}) { <-stop }

func TestCheckGoroutinesFindsOneNobodyWaitsFor(t *testing.T) {
	r := &recorder{TB: t}
	checkGoroutines(r, 200*time.Millisecond)
	stop := make(chan struct{})
	defer close(stop)
	go waitForever(stop)
	r.end()
	if len(r.errs) != 1 {
		t.Fatalf("a goroutine left running gave %d errors, want 1: %q", len(r.errs), r.errs)
	}
	for _, want := range []string{"1 goroutine(s)", "daemontest.waitForever", "created by github.com/callbox/callbox/internal/daemontest"} {
		if !strings.Contains(r.errs[0], want) {
			t.Errorf("the error does not say %q:\n%s", want, r.errs[0])
		}
	}
}

func TestCheckGoroutinesPassesWhenEveryGoroutineIsWaitedFor(t *testing.T) {
	r := &recorder{TB: t}
	checkGoroutines(r, 200*time.Millisecond)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { waitForever(stop) })
	r.cleanups = append(r.cleanups, func() { close(stop); wg.Wait() })
	r.end()
	if len(r.errs) != 0 {
		t.Errorf("a goroutine waited for was reported: %q", r.errs)
	}
}

// A goroutine told to stop gets the grace period to end.
func TestCheckGoroutinesWaitsForOneOnItsWayOut(t *testing.T) {
	r := &recorder{TB: t}
	checkGoroutines(r, 2*time.Second)
	stop := make(chan struct{})
	go waitForever(stop)
	time.AfterFunc(100*time.Millisecond, func() { close(stop) })
	r.end()
	if len(r.errs) != 0 {
		t.Errorf("a goroutine ending within the grace period was reported: %q", r.errs)
	}
}

func TestRunningCountsTheGoroutinesInAFunction(t *testing.T) {
	const fn = "github.com/callbox/callbox/internal/daemontest.waitForever"
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { waitForever(stop) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for Running(fn) != 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // until both are scheduled
	}
	if n := Running(fn); n != 2 {
		t.Errorf("Running(%s) = %d with two goroutines waiting in it", fn, n)
	}
	close(stop)
	wg.Wait()
	if n := Running(fn); n != 0 {
		t.Errorf("Running(%s) = %d after they ended", fn, n)
	}
}
