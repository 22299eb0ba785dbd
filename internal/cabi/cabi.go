// Package cabi is for tests that check hand-written Go copies of kernel
// structs, ioctl numbers and constants against the C headers: a small C
// program in the package's testdata prints "name value" lines, and Compare
// holds them against the Go values. It is used only by tests.
package cabi

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Header compiles cFile (with extra cc flags), runs it and returns what it
// printed. It skips the test when there is no C compiler or no header file.
func Header(t *testing.T, cFile, headerFile string, ccFlags ...string) map[string]uint64 {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skipf("no C compiler to read %s with", headerFile)
	}
	if _, err := os.Stat(headerFile); err != nil {
		t.Skipf("no %s: %v", headerFile, err)
	}
	bin := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(cFile), ".c"))
	args := append(append([]string{}, ccFlags...), "-o", bin, cFile)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("compile %s: %v\n%s", cFile, err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
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
