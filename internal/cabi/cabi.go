// Package cabi is for tests that check hand-written Go copies of kernel
// structs, ioctl numbers and constants against the C headers: a small C
// program in the package's testdata prints "name value" lines, and Compare
// holds them against the Go values. It is used only by tests.
package cabi

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// triplets are Debian's names of the C toolchains for Go's architectures.
var triplets = map[string]string{
	"amd64":   "x86_64-linux-gnu",
	"arm64":   "aarch64-linux-gnu",
	"arm":     "arm-linux-gnueabihf",
	"386":     "i686-linux-gnu",
	"riscv64": "riscv64-linux-gnu",
}

// Header compiles cFile (with extra cc flags) for the architecture the test
// runs on, runs it and returns what it printed. It skips the test when
// there is no C compiler for that architecture or no header file.
//
// A test binary of another architecture (make test runs the arm64 ones
// under qemu-user) compiles with Debian's cross compiler for it, and runs
// the program under the same emulator when the kernel cannot run it.
func Header(t *testing.T, cFile, headerFile string, ccFlags ...string) map[string]uint64 {
	t.Helper()
	triplet, ok := triplets[runtime.GOARCH]
	if !ok {
		t.Skipf("no C compiler known for %s to read %s with", runtime.GOARCH, headerFile)
	}
	cc := "cc"
	if out, err := exec.Command(cc, "-dumpmachine").Output(); err != nil || strings.TrimSpace(string(out)) != triplet {
		cc = triplet + "-gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler for %s (%s) to read %s with", runtime.GOARCH, cc, headerFile)
	}
	if _, err := os.Stat(headerFile); err != nil {
		t.Skipf("no %s: %v", headerFile, err)
	}
	bin := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(cFile), ".c"))
	args := append(append([]string{}, ccFlags...), "-o", bin, cFile)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("compile %s with %s: %v\n%s", cFile, cc, err, out)
	}
	out, err := exec.Command(bin).Output()
	how := cc
	if errors.Is(err, syscall.ENOEXEC) {
		// In qemu-user without binfmt_misc: the kernel knows only its own
		// architecture, so run the program as the test itself is run.
		emulator := "qemu-" + strings.Split(triplet, "-")[0] + "-static"
		out, err = exec.Command(emulator, bin).Output()
		how += ", run under " + emulator
	}
	if err != nil {
		t.Fatalf("run %s (%s): %v", bin, how, err)
	}
	t.Logf("%s: %s compiled with %s", runtime.GOARCH, filepath.Base(cFile), how)
	values := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseUint(line[i+1:], 10, 64)
		if i < 0 || err != nil {
			t.Fatalf("%s printed %q, want \"name value\"", cFile, line)
		}
		values[line[:i]] = v
	}
	return values
}

// Compare reports every value that differs between the header and ours,
// and every name only one side has.
func Compare(t *testing.T, header, ours map[string]uint64) {
	t.Helper()
	for name, want := range header {
		got, ok := ours[name]
		if !ok {
			t.Errorf("%s: the header says %d; no Go value is checked against it", name, want)
		} else if got != want {
			t.Errorf("%s = %d (%#x) here, %d (%#x) in the kernel header", name, got, got, want, want)
		}
	}
	for name := range ours {
		if _, ok := header[name]; !ok {
			t.Errorf("%s: the header program does not print it", name)
		}
	}
}
