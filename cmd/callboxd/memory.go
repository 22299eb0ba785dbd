package main

// callboxd's own memory settings, for a box that is lighter than a
// browser kiosk (README, "Benchmarks": rss_mb, kiosk_pss_ratio).

import (
	"fmt"
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// gcPercent is the Go heap's growth between collections (GOGC). In a
// call the live heap is about 8 MB; Go's default 100 lets it grow to 16
// before each collection (about every 4 s at 720p30), 50 to 12 (about
// every 2 s, a few milliseconds of CPU each). No GOMEMLIMIT: a limit near
// the live heap makes the collector run without pause when a join or a
// burst of keyframes grows it. The GOGC environment variable overrides it.
const gcPercent = 50

// lightenMemory sets the process's memory up before anything allocates
// much: the collector's gcPercent, and no transparent huge pages. x264
// asks for huge pages (madvise) on every buffer of 1.75 MB and more,
// rounded up to 2 MB: measured, 2.5 MB more resident for no CPU we could
// measure. Child processes inherit the setting.
func lightenMemory() error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("turn transparent huge pages off (prctl PR_SET_THP_DISABLE): %w", err)
	}
	return nil
}
