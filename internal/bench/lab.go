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
	const figure = "lab_boot_to_in_call_s"
	if !labAllowed(figure) {
		return nil
	}
	daemon, err := daemontest.Binary("github.com/callbox/callbox/cmd/callboxd")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return labRunFigure(figure, nil, "-t", "300", "-b", daemon, "camera")
}

// labAllowed says whether the lab can run here (it needs root), and says
// on stderr that figure is left out when not.
func labAllowed(figure string) bool {
	if os.Geteuid() != 0 {
		fmt.Fprintf(os.Stderr, "bench: %s left out: lab/run.sh needs root\n", figure)
		return false
	}
	return true
}

// labRunFigure runs one boot of the lab (lab/run.sh RUNARGS, with env
// added to the environment) with lab-hostview as the host's side, and
// prints the figure the host side left in the run's folder, in seconds.
func labRunFigure(figure string, env []string, runArgs ...string) error {
	hostview, err := daemontest.Binary("github.com/callbox/callbox/lab/hostview")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if out, err := exec.Command(hostview, "prepare").CombinedOutput(); err != nil {
		return fmt.Errorf("lab: livekit-server: %w\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "callbox-bench-lab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "run")
	run := exec.Command("lab/run.sh", append([]string{"-o", out}, runArgs...)...)
	run.Env = append(append(os.Environ(), env...), "LAB_HOSTVIEW="+hostview)
	if result, err := run.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: run.sh %s: %w\n%s", strings.Join(runArgs, " "), err, lastLines(string(result), 5))
	}
	value, err := os.ReadFile(filepath.Join(out, figure))
	if err != nil {
		return fmt.Errorf("lab: the scenario passed but left no %s: %w", figure, err)
	}
	fmt.Printf("%s: %s s\n", figure, strings.TrimSpace(string(value)))
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
