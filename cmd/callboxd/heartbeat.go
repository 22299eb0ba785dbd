package main

// The heartbeat the systemd watchdog is fed from (systemd.go). Each loop
// that moves all the time while it runs (the camera's and the
// microphone's send loops, the screen's and the speaker's) joins it while
// it runs and beats once per frame or period. The watchdog is fed only
// while every loop that has joined beat within WatchdogSec, so a loop
// stuck in an encoder, a driver or the call stops the feeding, and systemd
// restarts callboxd. The first beat may take longer (startAllowance):
// opening an encoder and coding the first picture is slow on a small
// board, and slower in the lab's emulated one. A loop that is not running
// has not joined: without a call set up (setup page only), with a camera
// that is missing (its loop waits to try again) or no speaker, the box
// idles and the watchdog is still fed. Loops that wait for events
// (buttons, the call's state) do not join.

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// startAllowance is how long a loop that joined may take to its first
// beat, when that is longer than the limit its beats keep to after.
const startAllowance = 30 * time.Second

// heartbeat is the set of loops that beat. A nil *heartbeat takes joins
// and beats and does nothing (tests that do not watch it).
type heartbeat struct {
	start time.Time // beats are counted from here, on the monotonic clock

	mu    sync.Mutex
	loops map[*pulse]bool // guarded by mu
}

func newHeartbeat() *heartbeat {
	return &heartbeat{start: time.Now(), loops: map[*pulse]bool{}}
}

// pulse is one running loop's part of the heartbeat.
type pulse struct {
	name   string // as the log names the part: "camera /dev/video0"
	h      *heartbeat
	joined time.Duration // after h.start
	last   atomic.Int64  // when it last beat, in nanoseconds after h.start; 0: not yet
}

// join adds a loop that has started; it has startAllowance for its first
// beat. Leave when it stops.
func (h *heartbeat) join(name string) *pulse {
	if h == nil {
		return nil
	}
	p := &pulse{name: name, h: h, joined: time.Since(h.start)}
	h.mu.Lock()
	h.loops[p] = true
	h.mu.Unlock()
	return p
}

// beat says the loop moved: a frame or a period went through it.
func (p *pulse) beat() {
	if p != nil {
		p.last.Store(max(1, int64(time.Since(p.h.start))))
	}
}

// leave takes a loop that stopped out of the heartbeat.
func (p *pulse) leave() {
	if p == nil {
		return
	}
	p.h.mu.Lock()
	delete(p.h.loops, p)
	p.h.mu.Unlock()
}

// stalled describes the loops that have not beaten for limit (or, before
// their first beat, for startAllowance if that is longer), the longest
// silent first ("camera testpattern (silent 4.2s)"); none when all move.
func (h *heartbeat) stalled(limit time.Duration) []string {
	if h == nil {
		return nil
	}
	now := time.Since(h.start)
	type silence struct {
		name      string
		silentFor time.Duration
	}
	var silent []silence
	h.mu.Lock()
	for p := range h.loops {
		since, allowed := time.Duration(p.last.Load()), limit
		if since == 0 {
			since, allowed = p.joined, max(limit, startAllowance)
		}
		if d := now - since; d > allowed {
			silent = append(silent, silence{p.name, d})
		}
	}
	h.mu.Unlock()
	slices.SortFunc(silent, func(a, b silence) int { return cmp.Compare(b.silentFor, a.silentFor) })
	out := make([]string, len(silent))
	for i, s := range silent {
		out[i] = fmt.Sprintf("%s (silent %v)", s.name, s.silentFor.Round(100*time.Millisecond))
	}
	return out
}
