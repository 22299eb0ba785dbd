package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// arm64Figure prints arm64_boot_to_in_call_s: the lab's deb scenario
// (lab/scenarios/deb.sh, what make arm64-test runs) boots Debian 12 arm64
// under qemu-system-aarch64 (TCG), installs the Debian package with apt,
// sets the box up over HTTPS and times from qemu's start to the host
// viewer's first decoded picture from the box. A correctness timing, not
// a speed claim: every instruction of the box is emulated. It needs root
// on the host, like the lab; without root it says why it is left out.
func arm64Figure() error {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: arm64_boot_to_in_call_s left out: lab/run.sh needs root")
		return nil
	}
	// The packages make arm64-test installs: as built, and at a lower
	// version to upgrade from.
	if out, err := exec.Command("make", "-s", "arm64-debs").CombinedOutput(); err != nil {
		return fmt.Errorf("arm64: make arm64-debs: %v\n%s", err, lastLines(string(out), 10))
	}
	debs, err := filepath.Glob("dist/arm64-test/*.deb")
	if err != nil || len(debs) != 2 {
		return fmt.Errorf("arm64: make arm64-debs left %d packages in dist/arm64-test, want 2", len(debs))
	}
	dir, err := os.MkdirTemp("", "callbox-bench-arm64-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hostview := filepath.Join(dir, "lab-hostview")
	if out, err := exec.Command("go", "build", "-o", hostview, "./lab/hostview").CombinedOutput(); err != nil {
		return fmt.Errorf("arm64: build lab-hostview: %v\n%s", err, out)
	}
	if out, err := exec.Command(hostview, "prepare").CombinedOutput(); err != nil {
		return fmt.Errorf("arm64: livekit-server: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "run")
	run := exec.Command("lab/run.sh", "-t", "1800", "-o", out, "--deb", debs[0], "--deb", debs[1], "deb")
	run.Env = append(os.Environ(), "ARCH=arm64", "LAB_HOSTVIEW="+hostview)
	if result, err := run.CombinedOutput(); err != nil {
		return fmt.Errorf("arm64: run.sh deb: %v\n%s", err, lastLines(string(result), 5))
	}
	figure, err := os.ReadFile(filepath.Join(out, "arm64_boot_to_in_call_s"))
	if err != nil {
		return fmt.Errorf("arm64: the deb scenario passed but left no figure: %w", err)
	}
	fmt.Printf("arm64_boot_to_in_call_s: %s s\n", strings.TrimSpace(string(figure)))
	return nil
}
