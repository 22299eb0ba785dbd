package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// arm64Figure prints arm64_boot_to_in_call_s: the lab's deb scenario
// (lab/scenarios/deb.sh, what make arm64-test runs) boots Debian 12 arm64
// under qemu-system-aarch64 (TCG), installs the Debian package with apt,
// sets the box up over HTTPS and times from qemu's start to the host
// viewer's first decoded picture from the box. A correctness timing, not
// a speed claim: every instruction of the box is emulated. It needs root
// on the host, like the lab.
func arm64Figure() error {
	const figure = "arm64_boot_to_in_call_s"
	if !labAllowed(figure) {
		return nil
	}
	// The packages make arm64-test installs: as built, and at a lower
	// version to upgrade from.
	if out, err := exec.Command("make", "-s", "arm64-debs").CombinedOutput(); err != nil {
		return fmt.Errorf("arm64: make arm64-debs: %w\n%s", err, lastLines(string(out), 10))
	}
	debs, err := filepath.Glob("dist/arm64-test/*.deb")
	if err != nil || len(debs) != 2 {
		return fmt.Errorf("arm64: make arm64-debs left %d packages in dist/arm64-test, want 2", len(debs))
	}
	return labRunFigure(figure, []string{"ARCH=arm64"}, "-t", "1800", "--deb", debs[0], "--deb", debs[1], "deb")
}
