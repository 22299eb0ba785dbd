package daemontest

import (
	"os/exec"
	"testing"
)

// Start starts cmd with its output in the returned Log, for the rest of
// the test: at its end the process is killed and waited for, and if the
// test failed, what it said is logged under name.
func Start(t *testing.T, name string, cmd *exec.Cmd) *Log {
	t.Helper()
	log := &Log{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // killed: its exit status says only that
		if t.Failed() {
			t.Logf("%s said:\n%s", name, log.String())
		}
	})
	return log
}
