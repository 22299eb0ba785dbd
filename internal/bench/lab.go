package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/callbox/callbox/internal/daemontest"
)

// labFigure prints lab_boot_to_in_call_s: the lab's camera scenario
// (lab/scenarios/camera.sh) boots the real callboxd in the lab VM on vivid,
// and the host's viewer times from qemu's start to the first picture it
// decodes. It needs root on the host (lab/run.sh makes a network namespace
// with a tap device), so it runs before the bench enters its own namespace;
// without root it says why it is left out.
func labFigure() error {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: lab_boot_to_in_call_s left out: lab/run.sh needs root")
		return nil
	}
	dir, err := os.MkdirTemp("", "callbox-bench-lab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	daemon, err := daemontest.Binary("github.com/callbox/callbox/cmd/callboxd")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	hostview, err := daemontest.Binary("github.com/callbox/callbox/lab/hostview")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if out, err := exec.Command(hostview, "prepare").CombinedOutput(); err != nil {
		return fmt.Errorf("lab: livekit-server: %w\n%s", err, out)
	}
	out := filepath.Join(dir, "run")
	run := exec.Command("lab/run.sh", "-t", "300", "-o", out, "-b", daemon, "camera")
	run.Env = append(os.Environ(), "LAB_HOSTVIEW="+hostview)
	if result, err := run.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: run.sh camera: %w\n%s", err, lastLines(string(result), 5))
	}
	figure, err := os.ReadFile(filepath.Join(out, "lab_boot_to_in_call_s"))
	if err != nil {
		return fmt.Errorf("lab: the camera scenario passed but left no figure: %w", err)
	}
	fmt.Printf("lab_boot_to_in_call_s: %s s\n", strings.TrimSpace(string(figure)))
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
