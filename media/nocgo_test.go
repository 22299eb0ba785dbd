package media_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// pureGo are the packages that need only the plain media types, and so
// must link no cgo: no x264, libswscale or libavcodec through pipeline,
// no go4vl through the camera driver.
var pureGo = []string{
	"github.com/callbox/callbox/media",
	"github.com/callbox/callbox/call",
	"github.com/callbox/callbox/pipeline/v4l2m2m",
}

// TestNoCgo: none of pureGo depends, directly or not, on a package with
// cgo files, as the box builds them (cgo on, the Makefile's tags). The
// standard library's own (net's resolver, runtime/cgo) do not count: they
// are optional, and a CGO_ENABLED=0 build has pure Go in their place.
func TestNoCgo(t *testing.T) {
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json=ImportPath,Imports,CgoFiles,Standard"}, pureGo...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
		CgoFiles   []string
		Standard   bool
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list's answer: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	for _, root := range pureGo {
		// Breadth first from root, so the chain shown is a shortest one.
		via := map[string]string{root: ""}
		queue := []string{root}
		for len(queue) > 0 {
			path := queue[0]
			queue = queue[1:]
			p, ok := pkgs[path]
			if !ok {
				t.Fatalf("go list did not list %s", path)
			}
			if len(p.CgoFiles) > 0 && !p.Standard {
				chain := []string{path}
				for at := via[path]; at != ""; at = via[at] {
					chain = append([]string{at}, chain...)
				}
				t.Errorf("%s links cgo: %s has cgo files, through %s", root, path, strings.Join(chain, " → "))
				continue
			}
			for _, imp := range p.Imports {
				if _, seen := via[imp]; !seen && imp != "C" { // C: cgo's pseudo-package
					via[imp] = path
					queue = append(queue, imp)
				}
			}
		}
	}
}
