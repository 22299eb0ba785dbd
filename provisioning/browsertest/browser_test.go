// Package browsertest drives a real browser through the box's first-boot
// setup: Debian's chromium, through playwright-core (npm, see package.json),
// against the real callboxd binary and a real LiveKit server, all inside a
// private network namespace the test makes (internal/netns). It has no code
// of its own outside its test.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/provisioning"
)

func TestMain(m *testing.M) { lkserver.RunInNamespace(m) }

// logWriter keeps what callboxd says and wakes waiters on every write.
type logWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	said chan struct{}
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	close(w.said)
	w.said = make(chan struct{})
	return len(p), nil
}

// wait returns the first match of re in the log, waiting up to timeout.
func (w *logWriter) wait(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		m, said := re.FindStringSubmatch(w.buf.String()), w.said
		w.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-said:
		case <-deadline:
			t.Fatalf("callboxd did not say %v within %v:\n%s", re, timeout, w.String())
		}
	}
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestFirstBootSetupInChromium(t *testing.T) {
	here, _ := os.Getwd()
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no /usr/bin/chromium: make test installs it (scripts/deps.sh)")
	}
	if _, err := os.Stat(filepath.Join(here, "node_modules", "playwright-core")); err != nil {
		t.Skip("no node_modules/playwright-core: make test runs npm ci in provisioning/browsertest")
	}

	// The real daemon, built as the box runs it.
	bin := filepath.Join(t.TempDir(), "callboxd")
	build := exec.Command("go", "build", "-tags", "dynamic", "-o", bin, "../../cmd/callboxd")
	build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build callboxd: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	data := t.TempDir()
	log := &logWriter{said: make(chan struct{})}
	daemon := exec.Command(bin, "-data", data, "-listen", netns.Addr+":0")
	daemon.Stdout, daemon.Stderr = log, log
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.Process.Kill()
		daemon.Wait()
		if t.Failed() {
			t.Logf("callboxd said:\n%s", log.String())
		}
	})
	pageURL := log.wait(t, regexp.MustCompile(`msg="setup page" url=(https://\S+)`), 30*time.Second)[1]
	code := log.wait(t, regexp.MustCompile(`setup_code=([A-Z2-9]{4}-[A-Z2-9]{4})`), 5*time.Second)[1]

	shots := os.Getenv("CALLBOX_SCREENSHOTS")
	if shots == "" {
		shots = t.ArtifactDir()
	}
	os.MkdirAll(shots, 0o755)
	const password = "a long admin password"
	node := exec.CommandContext(ctx, "node", "setup.mjs")
	node.Env = append(os.Environ(), "BOX_URL="+pageURL, "SETUP_CODE="+code, "ADMIN_PASSWORD="+password,
		"LK_URL="+srv.URL, "LK_KEY="+srv.APIKey, "LK_SECRET="+srv.APISecret, "ROOM=kitchen-table",
		"SHOTS="+shots, "CHROMIUM="+chromium)
	out, err := node.CombinedOutput()
	t.Logf("the browser said:\n%s", out)
	if err != nil {
		t.Fatalf("first-boot setup in chromium failed: %v", err)
	}
	t.Logf("screenshots in %s", shots)

	// What the page did is what the box does: settings saved, password hashed, in the call.
	log.wait(t, regexp.MustCompile(`msg="in the call"`), 10*time.Second)
	saved, err := config.Load(filepath.Join(data, provisioning.ConfigFile))
	if err != nil {
		t.Fatalf("the settings the page saved do not load: %v", err)
	}
	if saved.Call.Room != "kitchen-table" || saved.Call.Name != "Kitchen" || saved.Call.URL != srv.URL {
		t.Errorf("saved %+v", saved.Call)
	}
	admin, _ := os.ReadFile(filepath.Join(data, provisioning.AdminFile))
	if !bytes.Contains(admin, []byte("$argon2id$")) || bytes.Contains(admin, []byte(password)) {
		t.Errorf("the admin file does not hold an argon2id hash only: %s", admin)
	}
	for _, secret := range []string{srv.APISecret, password, "a room key for the test"} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("callboxd logged a secret (%s…)", secret[:4])
		}
	}
	for _, want := range []string{"01-setup-code", "03-password", "05-camera", "07-status-in-call"} {
		if _, err := os.Stat(filepath.Join(shots, want+".png")); err != nil {
			t.Errorf("no screenshot %s: %v", want, err)
		}
	}
	fmt.Fprintln(os.Stderr) // keep go test's own lines apart from node's
}
