// Package scripts holds the tests of the shell scripts beside them.
package scripts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeProgram is a stand-in for bin/devserver or bin/callboxd: it notes its
// process id (devserver also writes the settings file run.sh waits for) and
// then runs until it is killed, as the real ones do.
const fakeProgram = `#!/bin/sh
echo $$ >> "$RUN_TEST_PIDS"
echo "started $(basename "$0")"
while [ $# -gt 0 ]; do
	[ "$1" = -config ] && echo '[call]' > "$2"
	shift
done
exec sleep 600
`

// TestRunStopsEverythingOnSIGTERM: `make run` stopped by SIGTERM (a
// supervisor, an IDE's stop button) ends every process it started in its
// network namespace, not only the wrappers around them, and removes the
// namespace. run.sh and netns.sh run for real, with fake programs in bin/.
func TestRunStopsEverythingOnSIGTERM(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: make run makes a network namespace with ip netns (this machine and CI run the tests as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("make run needs ip (iproute2): %v", err)
	}
	root := t.TempDir()
	for _, name := range []string{"run.sh", "netns.sh"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, "scripts", name), string(data))
	}
	for _, name := range []string{"devserver", "callboxd"} {
		writeFile(t, filepath.Join(root, "bin", name), fakeProgram)
	}
	ns := fmt.Sprintf("callbox-test-%d", os.Getpid())
	pidFile := filepath.Join(root, "pids")
	t.Cleanup(func() {
		for _, pid := range readPids(pidFile) {
			_ = syscall.Kill(pid, syscall.SIGKILL) // most have ended already
		}
		_ = exec.Command("ip", "netns", "delete", ns).Run() // run.sh removes it when it works
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "run.sh"))
	run.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(root, "cache"), "CALLBOX_NETNS="+ns, "RUN_TEST_PIDS="+pidFile)
	out, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	run.Stderr = run.Stdout
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	said := waitFor(out, "Callbox is running", "started devserver", "started callboxd")
	if said != nil {
		t.Fatalf("run.sh did not start: %v", said)
	}
	copied := make(chan struct{}) // the rest of what run.sh says, until Wait closes the pipe
	go func() { defer close(copied); _, _ = io.Copy(io.Discard, out) }()
	started := readPids(pidFile)
	if len(started) != 2 {
		t.Fatalf("run.sh started %d programs (%v), want devserver and callboxd", len(started), started)
	}

	if err := run.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to run.sh: %v", err)
	}
	_ = run.Wait() // its status after SIGTERM is not what this test checks: what it leaves is
	<-copied
	for _, pid := range started {
		if alive(pid) {
			t.Errorf("process %d (%s) still runs after make run was stopped with SIGTERM", pid, commandOf(pid))
		}
	}
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the namespace %s is still there: %v", ns, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// waitFor reads r until each of texts has been in a line; the error has
// what was read.
func waitFor(r io.Reader, texts ...string) error {
	var seen strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		texts = slices.DeleteFunc(texts, func(text string) bool { return strings.Contains(sc.Text(), text) })
		if len(texts) == 0 {
			return nil
		}
	}
	return fmt.Errorf("it ended without saying %q:\n%s", texts, seen.String())
}

func readPids(path string) []int {
	data, _ := os.ReadFile(path)
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid runs (a zombie waiting to be reaped does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

func commandOf(pid int) string {
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
}
