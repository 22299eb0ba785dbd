package daemontest

// The goroutine-leak check: every goroutine this module starts has an
// owner that waits for it, so none outlives the test that started it.

import (
	"bytes"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// module marks a goroutine as ours: its stack runs this module's code, or
// this module's code created it ("created by github.com/callbox/…").
// Goroutines of libraries that only run library code (pion's, net/http's
// idle connections) are their owners' business, not ours.
const module = "github.com/callbox/callbox/"

// leakGrace is how long goroutines get to end after the test's other
// cleanups: one that was told to stop may still be on its way out.
const leakGrace = 5 * time.Second

// CheckGoroutines fails t when goroutines of this module's code that were
// not there when it was called are still there when t ends, and do not end
// within a few seconds; the failure prints their stacks. Call it first in
// the test, so that its check runs after the test's other cleanups (a
// server closed, a daemon stopped). Not for parallel tests: their
// goroutines would count as this test's.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	checkGoroutines(t, leakGrace)
}

func checkGoroutines(t testing.TB, grace time.Duration) {
	t.Helper()
	before := map[int]bool{}
	for _, g := range goroutines() {
		before[g.id] = true
	}
	t.Cleanup(func() {
		self := goroutineID(stack(false))
		var leaked []goroutine
		deadline := time.Now().Add(grace)
		for {
			leaked = leaked[:0]
			for _, g := range goroutines() {
				if !before[g.id] && g.id != self && g.ours() {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) == 0 {
			return
		}
		var stacks strings.Builder
		for _, g := range leaked {
			stacks.WriteString("\n" + g.stack + "\n")
		}
		t.Errorf("%d goroutine(s) of this module outlived the test by %v; each needs an owner that waits for it:\n%s",
			len(leaked), grace, stacks.String())
	})
}

// Running counts the goroutines whose stack is in fn now (a function's
// full name: "github.com/callbox/callbox/call.receiveTrack"), for a test
// that something has ended by the time a call returns.
func Running(fn string) int {
	n := 0
	for _, g := range goroutines() {
		if strings.Contains(g.stack, "\n"+fn+"(") {
			n++
		}
	}
	return n
}

// goroutine is one goroutine of a stack dump.
type goroutine struct {
	id    int
	stack string // "goroutine 12 [chan receive]:\n…"
}

func (g goroutine) ours() bool { return strings.Contains(g.stack, module) }

// goroutines are every goroutine's stack now.
func goroutines() []goroutine {
	var out []goroutine
	for part := range strings.SplitSeq(string(stack(true)), "\n\n") {
		if id := goroutineID([]byte(part)); id > 0 {
			out = append(out, goroutine{id: id, stack: strings.TrimSpace(part)})
		}
	}
	return out
}

// stack is runtime.Stack's dump, of all goroutines or the caller's, whole.
func stack(all bool) []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, all)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineID reads N from a dump's first line, "goroutine N [state]:".
func goroutineID(dump []byte) int {
	rest, ok := bytes.CutPrefix(bytes.TrimSpace(dump), []byte("goroutine "))
	if !ok {
		return 0
	}
	end := slices.Index(rest, ' ')
	if end < 0 {
		return 0
	}
	id, err := strconv.Atoi(string(rest[:end]))
	if err != nil {
		return 0
	}
	return id
}
