package provisioning

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/provisioning/wifi"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeController stands in for callboxd: it records what the page asked.
type fakeController struct {
	mu      sync.Mutex
	status  CallStatus
	asked   []string
	applied []Boot
	// shareErr is what Share answers: why the box cannot share.
	shareErr error
}

func (c *fakeController) Status() CallStatus { c.mu.Lock(); defer c.mu.Unlock(); return c.status }
func (c *fakeController) record(what string) {
	c.mu.Lock()
	c.asked = append(c.asked, what)
	c.mu.Unlock()
}
func (c *fakeController) Call()    { c.record("call") }
func (c *fakeController) HangUp()  { c.record("hangup") }
func (c *fakeController) Restart() { c.record("restart") }
func (c *fakeController) DoNotDisturb(on bool) error {
	c.record(fmt.Sprintf("do not disturb %v", on))
	return nil
}
func (c *fakeController) Share(_ context.Context, on bool) error {
	c.record(fmt.Sprintf("share %v", on))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shareErr
}
func (c *fakeController) Apply(b Boot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, "apply")
	c.applied = append(c.applied, b)
}
func (c *fakeController) calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.asked...)
}

type fakeDevices struct{}

func (fakeDevices) Cameras() []Device {
	return []Device{{ID: "testpattern", Label: "Test pattern"}, {ID: "/dev/video0", Label: "Webcam"}}
}
func (fakeDevices) Microphones() []Device { return []Device{{ID: "tone", Label: "Tone"}} }
func (fakeDevices) Snapshot(ctx context.Context, cam string) ([]byte, error) {
	return SystemDevices{}.Snapshot(ctx, "testpattern")
}

type fakeWiFi struct{ connected []string }

func (f *fakeWiFi) Scan(context.Context) ([]wifi.Network, error) {
	return []wifi.Network{{SSID: "home", SignalDB: -40, Secured: true}}, nil
}
func (f *fakeWiFi) Connect(_ context.Context, ssid, _ string) error {
	f.connected = append(f.connected, ssid)
	return nil
}

// syncBuffer is a log the test reads while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// box is a provisioning server under test, over HTTPS, and a browser-like
// client with a cookie jar.
type box struct {
	t      *testing.T
	srv    *Server
	store  *Store
	ctl    *fakeController
	clock  *fakeClock
	log    *syncBuffer
	http   *httptest.Server
	client *http.Client
	csrf   string
	bodies []string // every response body, for the secret scan
}

func newBox(t *testing.T) *box {
	t.Helper()
	return newBoxIn(t, t.TempDir())
}

// newBoxIn is newBox over a data directory the test filled.
func newBoxIn(t *testing.T, dir string) *box {
	t.Helper()
	daemontest.CheckGoroutines(t) // what the page starts ends with the test
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := &box{t: t, store: store, ctl: &fakeController{status: CallStatus{State: "in call", Room: "family"}},
		clock: &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}, log: &syncBuffer{}}
	logs := NewLogBuffer(100)
	b.srv = NewServer(Options{Store: store, Controller: b.ctl, Devices: fakeDevices{}, WiFi: &fakeWiFi{},
		Logs: logs, Logger: slog.New(slog.NewTextHandler(io.MultiWriter(b.log, logs), nil)), Now: b.clock.Now,
		ThermalDir: t.TempDir()})
	b.srv.argon = argon2Params{Memory: 64, Time: 1, Threads: 1} // cheap in tests; the format is the same
	b.http = httptest.NewTLSServer(b.srv.Handler())
	t.Cleanup(b.http.Close)
	b.client = b.http.Client()
	b.client.Jar, _ = cookiejar.New(nil)
	return b
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("reply %d is not JSON: %q", r.status, r.body)
	}
	return m
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (b *box) do(method, path string, body any, header map[string]string) reply {
	b.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		data, _ := json.Marshal(v)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, b.http.URL+path, rd)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(csrfHeader, b.csrf)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	b.bodies = append(b.bodies, string(data))
	return reply{res.StatusCode, res.Header, data}
}

func (b *box) get(path string) reply            { b.t.Helper(); return b.do("GET", path, nil, nil) }
func (b *box) post(path string, body any) reply { b.t.Helper(); return b.do("POST", path, body, nil) }
func (b *box) expect(r reply, status int, what string) {
	b.t.Helper()
	if r.status != status {
		b.t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
}

var goodSettings = Settings{Name: "Kitchen", URL: "ws://10.99.0.1:7880", Auth: "key", APIKey: "devkey",
	APISecret: "api-secret-do-not-show-1234567890", Room: "family", Camera: "testpattern",
	Microphone: "tone", RoomKey: "room-key-do-not-show-0987"}

const goodPassword = "correct horse battery"

// setUp goes through first boot as the page does.
func (b *box) setUp() {
	b.t.Helper()
	r := b.post("/api/setup/code", map[string]string{"code": b.srv.SetupCode()})
	b.expect(r, 200, "setup code")
	b.csrf = r.json(b.t)["csrf"].(string)
	r = b.post("/api/setup", setupRequest{Password: goodPassword, Settings: goodSettings})
	b.expect(r, 200, "setup")
	b.csrf = r.json(b.t)["csrf"].(string)
}

func (b *box) configFile() string {
	data, _ := os.ReadFile(filepath.Join(b.store.Dir(), ConfigFile))
	return string(data)
}

func TestFirstBootSetup(t *testing.T) {
	b := newBox(t)
	st := b.get("/api/state").json(t)
	if st["setup_needed"] != true || st["csrf"] != nil {
		t.Fatalf("a new box: state %v, want setup needed and no session", st)
	}
	code := b.srv.SetupCode()
	if len(code) != 9 || code[4] != '-' {
		t.Fatalf("setup code %q, want XXXX-XXXX", code)
	}
	b.expect(b.post("/api/setup/code", map[string]string{"code": "AAAA-AAAA"}), 403, "wrong setup code")
	b.expect(b.post("/api/setup", setupRequest{Password: goodPassword, Settings: goodSettings}), 401, "setup without the code")
	b.expect(b.get("/api/devices"), 401, "devices without the code")

	// The code is accepted however it is typed.
	r := b.post("/api/setup/code", map[string]string{"code": strings.ToLower(strings.ReplaceAll(code, "-", " "))})
	b.expect(r, 200, "setup code")
	b.csrf = r.json(t)["csrf"].(string)
	if d := b.get("/api/devices").json(t); len(d["cameras"].([]any)) != 2 {
		t.Errorf("devices %v, want the two cameras", d)
	}
	snap := b.get("/api/snapshot?camera=testpattern")
	b.expect(snap, 200, "snapshot")
	if _, err := jpeg.Decode(bytes.NewReader(snap.body)); err != nil {
		t.Errorf("the preview is not a JPEG: %v", err)
	}
	b.expect(b.get("/api/snapshot?camera=/etc/passwd"), 400, "snapshot of a path that is no camera")

	// Bad answers are named by field and save nothing.
	bad := goodSettings
	bad.URL, bad.Room = "ftp://x", ""
	r = b.post("/api/setup", setupRequest{Password: "short", Settings: bad})
	b.expect(r, 400, "setup with bad settings")
	fields := map[string]bool{}
	for _, f := range r.json(t)["fields"].([]any) {
		fields[f.(map[string]any)["field"].(string)] = true
	}
	for _, want := range []string{"url", "room", "password"} {
		if !fields[want] {
			t.Errorf("the answer to bad settings does not name %s: %s", want, r.body)
		}
	}
	if b.configFile() != "" || len(b.ctl.calls()) != 0 {
		t.Fatalf("bad settings were saved or applied")
	}

	r = b.post("/api/setup", setupRequest{Password: goodPassword, Settings: goodSettings})
	b.expect(r, 200, "setup")
	b.csrf = r.json(t)["csrf"].(string)
	saved, err := config.Load(filepath.Join(b.store.Dir(), ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if saved.Call.Room != "family" || saved.Call.Name != "Kitchen" || saved.Call.APISecret != goodSettings.APISecret ||
		!strings.HasPrefix(saved.Call.Identity, "callbox-") {
		t.Errorf("saved settings %+v", saved.Call)
	}
	if got := b.ctl.calls(); len(got) != 1 || got[0] != "apply" || b.ctl.applied[0].SetupNeeded {
		t.Errorf("the daemon was asked %v, want one apply of a set-up box", got)
	}
	if b.srv.SetupCode() != "" {
		t.Errorf("the setup code still works after setup")
	}
	if st := b.get("/api/status").json(t); st["call"].(map[string]any)["state"] != "in call" {
		t.Errorf("status %v", st)
	}
	b.expect(b.post("/api/setup", setupRequest{Password: "another password", Settings: goodSettings}), 403, "setup again")

	// Signing in again from another phone.
	b.client.Jar, _ = cookiejar.New(nil)
	b.csrf = ""
	b.expect(b.get("/api/status"), 401, "status without signing in")
	b.expect(b.post("/api/login", map[string]string{"password": "wrong password"}), 403, "wrong password")
	r = b.post("/api/login", map[string]string{"password": goodPassword})
	b.expect(r, 200, "login")
	b.csrf = r.json(t)["csrf"].(string)
	b.expect(b.get("/api/status"), 200, "status after signing in")
}

func TestCookiesAndHeaders(t *testing.T) {
	b := newBox(t)
	r := b.post("/api/setup/code", map[string]string{"code": b.srv.SetupCode()})
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"__Host-callbox-session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	page := b.get("/")
	b.expect(page, 200, "the page")
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q is not strict", csp)
	}
	if !bytes.Contains(page.body, []byte(`<script src="/app.js"`)) || bytes.Contains(page.body, []byte("http://")) {
		t.Errorf("the page must load only the box's own script")
	}
	for _, f := range []string{"/app.js", "/style.css"} {
		b.expect(b.get(f), 200, f)
	}
	b.expect(b.get("/api/nothing"), 404, "unknown endpoint")

	// The guest page is served by the same server, with its own policy:
	// it must reach the call server, and nothing else from outside.
	guestPage := b.get("/guest/")
	b.expect(guestPage, 200, "the guest page")
	if !bytes.Contains(guestPage.body, []byte("guest.js")) {
		t.Errorf("/guest/ is not the guest page:\n%s", guestPage.body)
	}
	if csp := guestPage.header.Get("Content-Security-Policy"); !strings.Contains(csp, "worker-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("guest page CSP %q: want the guest page's own, strict policy", csp)
	}
}

// TestBadInputChangesNothing: every state-changing endpoint, given bad
// input, answers a clear 4xx, and neither the saved settings nor the
// daemon see any change.
func TestBadInputChangesNothing(t *testing.T) {
	huge := `{"name":"` + strings.Repeat("x", 64<<10) + `"}`
	settingsJSON := func(mod func(map[string]any)) string {
		var m map[string]any
		data, _ := json.Marshal(goodSettings)
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		m["room"] = "changed"
		mod(m)
		out, _ := json.Marshal(m)
		return string(out)
	}
	tests := []struct {
		name   string
		path   string
		body   any
		header map[string]string
		expire bool
		status int
		says   string
	}{
		{"wrong type", "/api/settings", settingsJSON(func(m map[string]any) { m["room"] = 42 }), nil, false, 400, "room must be a string"},
		{"unknown field", "/api/settings", settingsJSON(func(m map[string]any) { m["admin"] = true }), nil, false, 400, `"admin" is not a setting`},
		{"not JSON", "/api/settings", "room=changed", nil, false, 400, "not valid JSON"},
		{"two objects", "/api/settings", settingsJSON(func(map[string]any) {}) + "{}", nil, false, 400, "data after"},
		{"array", "/api/settings", "[1,2]", nil, false, 400, "expected form"},
		{"huge body", "/api/settings", huge, nil, false, 413, "larger than"},
		{"no content type", "/api/settings", settingsJSON(func(map[string]any) {}), map[string]string{"Content-Type": "text/plain"}, false, 415, "JSON"},
		{"missing CSRF", "/api/settings", settingsJSON(func(map[string]any) {}), map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
		{"wrong CSRF", "/api/settings", settingsJSON(func(map[string]any) {}), map[string]string{csrfHeader: "forged"}, false, 403, "CSRF"},
		{"expired session", "/api/settings", settingsJSON(func(map[string]any) {}), nil, true, 401, "expired"},
		{"invalid value", "/api/settings", settingsJSON(func(m map[string]any) { m["codec"] = "h265" }), nil, false, 400, "h265"},
		{"control characters", "/api/settings", settingsJSON(func(m map[string]any) { m["room"] = "a\nb" }), nil, false, 400, "control"},
		{"a text-direction override", "/api/settings", settingsJSON(func(m map[string]any) { m["name"] = "Kitchen\u202egpj.exe" }), nil, false, 400, `"field":"name"`},
		{"an escape in the name", "/api/settings", settingsJSON(func(m map[string]any) { m["name"] = "Kitchen\x1b[2J" }), nil, false, 400, `"field":"name"`},
		{"a huge name", "/api/settings", settingsJSON(func(m map[string]any) { m["name"] = strings.Repeat("x", 4000) }), nil, false, 400, `"field":"name"`},
		{"a password in the URL", "/api/settings", settingsJSON(func(m map[string]any) { m["url"] = "wss://admin:Pw7Secret@10.99.0.1:7880" }), nil, false, 400, "token"},
		{"invalid UTF-8", "/api/settings", strings.Replace(settingsJSON(func(map[string]any) {}), "Kitchen", "Kitchen\xff", 1), nil, false, 400, "UTF-8"},
		{"short room key", "/api/settings", settingsJSON(func(m map[string]any) { m["room_key"] = "short" }), nil, false, 400, "room_key"},
		{"unknown auth", "/api/settings", settingsJSON(func(m map[string]any) { m["auth"] = "magic" }), nil, false, 400, "auth"},
		{"call without CSRF", "/api/call", nil, map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
		{"hang up, expired", "/api/hangup", nil, nil, true, 401, "expired"},
		{"restart without CSRF", "/api/restart", nil, map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
		{"do not disturb without CSRF", "/api/do-not-disturb", map[string]bool{"on": true}, map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
		{"do not disturb, expired", "/api/do-not-disturb", map[string]bool{"on": true}, nil, true, 401, "expired"},
		{"do not disturb, no on", "/api/do-not-disturb", `{}`, nil, false, 400, "on must be true or false"},
		{"do not disturb, on a word", "/api/do-not-disturb", `{"on":"yes"}`, nil, false, 400, "on must be a bool"},
		{"share without CSRF", "/api/share", map[string]bool{"on": true}, map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
		{"share, expired", "/api/share", map[string]bool{"on": true}, nil, true, 401, "expired"},
		{"share, no on", "/api/share", `{}`, nil, false, 400, "on must be true or false"},
		{"share, on a number", "/api/share", `{"on":1}`, nil, false, 400, "on must be a bool"},
		{"reset unconfirmed", "/api/factory-reset", map[string]string{"confirm": "yes"}, nil, false, 400, "confirm"},
		{"reset wrong type", "/api/factory-reset", `{"confirm":true}`, nil, false, 400, "confirm must be a string"},
		{"reset without CSRF", "/api/factory-reset", map[string]string{"confirm": "reset"}, map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
		{"wifi without CSRF", "/api/wifi/connect", map[string]string{"ssid": "home"}, map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
		{"wifi short passphrase", "/api/wifi/connect", map[string]string{"ssid": "home", "passphrase": "short"}, nil, false, 400, "8 to 63"},
		{"setup once set up", "/api/setup", setupRequest{Password: goodPassword, Settings: goodSettings}, nil, false, 403, "admin"},
		{"setup code once set up", "/api/setup/code", map[string]string{"code": "AAAA-AAAA"}, nil, false, 409, "already set up"},
		{"login, wrong type", "/api/login", `{"password":123}`, nil, false, 400, "password must be a string"},
		{"logout without CSRF", "/api/logout", nil, map[string]string{csrfHeader: ""}, false, 403, "CSRF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBox(t)
			b.setUp()
			before := b.configFile()
			asked := len(b.ctl.calls())
			if tt.expire {
				b.clock.Advance(adminSessionTTL + time.Minute)
			}
			r := b.do("POST", tt.path, tt.body, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if msg, _ := r.json(t)["error"].(string); !strings.Contains(msg+string(r.body), tt.says) {
				t.Errorf("answer %s does not say %q", r.body, tt.says)
			}
			if b.configFile() != before {
				t.Errorf("the saved settings changed")
			}
			if got := b.ctl.calls(); len(got) != asked {
				t.Errorf("the daemon was asked %v", got[asked:])
			}
			if strings.Contains(string(r.body)+b.log.String(), "Pw7Secret") {
				t.Errorf("the answer or the log holds the URL's password: %s", r.body)
			}
			if b.store.Boot().SetupNeeded {
				t.Errorf("the box forgot it is set up")
			}
		})
	}
}

func TestWrongSetupCodeIsRateLimited(t *testing.T) {
	b := newBox(t)
	for range freeAttempts {
		b.expect(b.post("/api/setup/code", map[string]string{"code": "AAAA-AAAA"}), 403, "wrong code")
	}
	r := b.post("/api/setup/code", map[string]string{"code": b.srv.SetupCode()})
	b.expect(r, 429, "the right code right after too many wrong ones")
	b.clock.Advance(firstWait + time.Millisecond)
	b.expect(b.post("/api/setup/code", map[string]string{"code": b.srv.SetupCode()}), 200, "the right code after the wait")
}

func TestLoginBackOff(t *testing.T) {
	b := newBox(t)
	b.setUp()
	b.client.Jar, _ = cookiejar.New(nil)
	b.csrf = ""
	for i := range freeAttempts {
		r := b.post("/api/login", map[string]string{"password": "guess"})
		b.expect(r, 403, "wrong password "+string(rune('1'+i)))
	}
	// Now each failure doubles the wait: 1 s, 2 s, 4 s...
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		r := b.post("/api/login", map[string]string{"password": goodPassword})
		b.expect(r, 429, "even the right password while locked out")
		if r.header.Get("Retry-After") != map[int]string{0: "1", 1: "2", 2: "4"}[i] {
			t.Errorf("Retry-After %q after %d extra failures, want %v", r.header.Get("Retry-After"), i, wait)
		}
		b.clock.Advance(wait - time.Millisecond)
		b.expect(b.post("/api/login", map[string]string{"password": goodPassword}), 429, "just before the wait ends")
		b.clock.Advance(2 * time.Millisecond)
		b.expect(b.post("/api/login", map[string]string{"password": "guess"}), 403, "a guess after the wait")
	}
	b.clock.Advance(10 * time.Second)
	b.expect(b.post("/api/login", map[string]string{"password": goodPassword}), 200, "the right password after the wait")
	// Success clears the record.
	b.expect(b.post("/api/login", map[string]string{"password": "guess"}), 403, "a guess after success")
	b.expect(b.post("/api/login", map[string]string{"password": goodPassword}), 200, "no lock-out after one miss")
	if !strings.Contains(b.log.String(), "wrong admin password") {
		t.Errorf("wrong passwords are not logged")
	}
}

func TestBackOffCapsAndForgets(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	l := newBackOff(clock.Now)
	for range 40 {
		clock.Advance(maxWait)
		key, w := l.reserve("a")
		if w != 0 {
			t.Fatalf("a try after the longest wait must wait %v more", w)
		}
		l.settle(key, guessWrong)
	}
	if _, w := l.reserve("a"); w != maxWait {
		t.Errorf("right after the 40th failure the wait is %v, want the cap %v", w, maxWait)
	}
	if _, w := l.reserve("b"); w != 0 {
		t.Errorf("another client waits %v, want 0", w)
	}
	clock.Advance(forgetAfter + time.Second)
	if key, w := l.reserve("a"); w != 0 || key != "a" {
		t.Errorf("an hour later the wait is %v, want 0", w)
	}
}

// TestBackOffFloodOfAddresses: once the table is full, new addresses share
// one record, so a flood of addresses gets no more attempts than one.
func TestBackOffFloodOfAddresses(t *testing.T) {
	l := newBackOff(time.Now)
	for i := range maxClients {
		key, _ := l.reserve(fmt.Sprint("10.0.", i/256, ".", i%256))
		l.settle(key, guessWrong)
	}
	tries := 0
	for i := range 100 {
		if key, w := l.reserve(fmt.Sprint("10.1.0.", i)); w == 0 {
			tries++
			l.settle(key, guessWrong)
		}
	}
	if tries != freeAttempts {
		t.Errorf("100 new addresses on a full table got %d attempts, want %d between them", tries, freeAttempts)
	}
}

func TestSettingsAndControls(t *testing.T) {
	b := newBox(t)
	b.setUp()
	view := b.get("/api/settings").json(t)
	if view["has_api_secret"] != true || view["has_room_key"] != true || view["room"] != "family" {
		t.Errorf("settings view %v", view)
	}
	changed := goodSettings
	changed.Room, changed.APISecret, changed.RoomKey, changed.Codec = "office", "", "", "vp8"
	b.expect(b.post("/api/settings", changed), 200, "save settings")
	saved, _ := config.Load(filepath.Join(b.store.Dir(), ConfigFile))
	if saved.Call.Room != "office" || saved.Video.Codec != "vp8" || saved.Call.APISecret != goodSettings.APISecret {
		t.Errorf("saved %+v %+v: want room office, vp8, and the secret kept", saved.Call, saved.Video)
	}
	if saved.Call.RoomKey != goodSettings.RoomKey {
		t.Errorf("an empty room key did not keep the stored one")
	}
	if good, _ := config.Load(filepath.Join(b.store.Dir(), GoodConfigFile)); good.Call.Room != "family" {
		t.Errorf("the previous settings were not kept")
	}
	if last := b.ctl.applied[len(b.ctl.applied)-1]; last.Config.Call.Room != "office" {
		t.Errorf("the daemon was given room %q, want office", last.Config.Call.Room)
	}
	for _, p := range []string{"/api/call", "/api/hangup", "/api/restart"} {
		b.expect(b.post(p, nil), 200, p)
	}
	b.expect(b.post("/api/do-not-disturb", map[string]bool{"on": true}), 200, "do not disturb on")
	b.expect(b.post("/api/do-not-disturb", map[string]bool{"on": false}), 200, "do not disturb off")
	b.expect(b.post("/api/share", map[string]bool{"on": true}), 200, "share the content input")
	b.expect(b.post("/api/share", map[string]bool{"on": false}), 200, "stop sharing")
	if got := strings.Join(b.ctl.calls(), " "); got != "apply apply call hangup restart do not disturb true do not disturb false share true share false" {
		t.Errorf("the daemon was asked %q", got)
	}
	// The box cannot share: the page is told why, with the daemon's status.
	b.ctl.mu.Lock()
	b.ctl.shareErr = &LocalError{Status: http.StatusConflict, Message: "content input: no signal"}
	b.ctl.mu.Unlock()
	if r := b.post("/api/share", map[string]bool{"on": true}); r.status != http.StatusConflict || !strings.Contains(string(r.body), "no signal") {
		t.Errorf("share without a signal: %d %s, want 409 saying no signal", r.status, r.body)
	}
	nets := b.get("/api/wifi/networks").json(t)
	if n := nets["networks"].([]any); len(n) != 1 {
		t.Errorf("wifi networks %v", nets)
	}
	b.expect(b.post("/api/wifi/connect", map[string]string{"ssid": "home", "passphrase": "wifi-pass-123"}), 200, "join wifi")
	lines := b.get("/api/log").json(t)["lines"].([]any)
	if len(lines) == 0 {
		t.Errorf("the log viewer is empty")
	}
	b.expect(b.post("/api/logout", nil), 200, "logout")
	b.expect(b.get("/api/status"), 401, "status after logout")
}

func TestFactoryReset(t *testing.T) {
	b := newBox(t)
	b.setUp()
	oldCert, err := loadOrMakeCertificate(b.store.Dir(), "Callbox")
	if err != nil {
		t.Fatal(err)
	}
	b.expect(b.post("/api/factory-reset", map[string]string{"confirm": "reset"}), 200, "factory reset")
	entries, _ := os.ReadDir(b.store.Dir())
	for _, e := range entries {
		if e.Name() != TLSKeyFile && e.Name() != TLSCertFile { // made for the next setup
			t.Errorf("%s survived the factory reset", e.Name())
		}
	}
	// The announcement of the new setup gives the new certificate's
	// fingerprint: it is made before, not when the first browser comes.
	cert, err := tls.LoadX509KeyPair(filepath.Join(b.store.Dir(), TLSCertFile), filepath.Join(b.store.Dir(), TLSKeyFile))
	if err != nil {
		t.Fatalf("no TLS certificate after the factory reset: %v", err)
	}
	if fingerprint(cert) == fingerprint(oldCert) {
		t.Errorf("the factory reset kept the TLS certificate")
	}
	if want := "tls_fingerprint=" + fingerprint(cert); !strings.Contains(b.log.String(), want) {
		t.Errorf("the setup announcement after the factory reset does not say %s:\n%s", want, b.log.String())
	}
	if st := b.get("/api/state").json(t); st["setup_needed"] != true || st["signed_in"] == true {
		t.Errorf("after a reset the state is %v", st)
	}
	if b.srv.SetupCode() == "" {
		t.Errorf("no new setup code after a reset")
	}
	if last := b.ctl.applied[len(b.ctl.applied)-1]; !last.SetupNeeded {
		t.Errorf("the daemon was not told the box needs setting up")
	}
	b.expect(b.get("/api/status"), 401, "the old session after a reset")
	b.setUp() // and it can be set up again
}

// TestNoSecretInResponsesOrLogs uses every endpoint with secrets set (and
// the call failing with an error that quotes one), then scans every
// response body and log line for them.
func TestNoSecretInResponsesOrLogs(t *testing.T) {
	b := newBox(t)
	code := b.srv.SetupCode()
	b.setUp()
	b.ctl.status = CallStatus{State: "failed", Error: "server said: bad secret " + goodSettings.APISecret}
	for _, p := range []string{"/api/state", "/api/status", "/api/settings", "/api/devices", "/api/log", "/api/wifi/networks", "/"} {
		b.get(p)
	}
	withToken := goodSettings
	withToken.Auth, withToken.Token, withToken.APISecret = "token", "token-do-not-show-abcdef", ""
	b.post("/api/settings", withToken)
	b.get("/api/settings")
	b.get("/api/status")
	b.post("/api/wifi/connect", map[string]string{"ssid": "home", "passphrase": "wifi-pass-do-not-show"})
	bad := goodSettings
	bad.URL = ""
	bad.APISecret = "another-secret-do-not-show"
	b.post("/api/settings", bad)
	b.post("/api/login", map[string]string{"password": goodPassword})
	b.post("/api/login", map[string]string{"password": "wrong-password-do-not-show"})

	secrets := []string{goodSettings.APISecret, goodSettings.RoomKey, goodPassword, "token-do-not-show-abcdef",
		"wifi-pass-do-not-show", "another-secret-do-not-show", "wrong-password-do-not-show", b.store.Secrets().PasswordHash}
	for _, body := range b.bodies {
		for _, s := range append(secrets, code) {
			if strings.Contains(body, s) {
				t.Errorf("a response contains the secret %q: %s", s, body)
			}
		}
	}
	for _, line := range strings.Split(b.log.String(), "\n") {
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("a log line contains the secret %q: %s", s, line)
			}
		}
	}
	if len(b.bodies) < 15 {
		t.Fatalf("only %d responses scanned", len(b.bodies))
	}
}

func TestCPUTemperature(t *testing.T) {
	dir := t.TempDir()
	if CPUTemperature(dir) != nil {
		t.Errorf("a temperature without any thermal zone")
	}
	for zone, kind := range map[string]string{"thermal_zone0": "acpitz", "thermal_zone1": "cpu-thermal"} {
		mustWrite(t, filepath.Join(dir, zone, "type"), []byte(kind+"\n"))
	}
	mustWrite(t, filepath.Join(dir, "thermal_zone0", "temp"), []byte("30000\n"))
	mustWrite(t, filepath.Join(dir, "thermal_zone1", "temp"), []byte("51234\n"))
	if c := CPUTemperature(dir); c == nil || *c != 51.234 {
		t.Errorf("temperature %v, want the cpu zone's 51.234", c)
	}
}

// TestSetupCodeIsLoggedForTheConsole: a box without a screen has only its
// console to show the setup code, so the announcement logs it while setup
// is open, and never again once the box is set up.
func TestSetupCodeIsLoggedForTheConsole(t *testing.T) {
	b := newBox(t)
	code := b.srv.SetupCode()
	b.srv.AnnounceSetup()
	if !strings.Contains(b.log.String(), "setup_code="+code) {
		t.Fatalf("the announcement does not give the setup code:\n%s", b.log.String())
	}
	b.setUp()
	before := b.log.String()
	b.srv.AnnounceSetup()
	if after := b.log.String(); after != before {
		t.Errorf("a set-up box still announces setup:\n%s", strings.TrimPrefix(after, before))
	}
}

// TestParallelGuessesCountInFlight: thirty guesses sent at once from one
// address, each held while it is checked. Only the free attempts may be
// checked; the others are refused at once, before any check ends: the
// back-off counts guesses in flight, not only those found wrong.
func TestParallelGuessesCountInFlight(t *testing.T) {
	for _, way := range []struct {
		name, path, body string
		setUp            bool
	}{
		{"admin password", "/api/login", `{"password":"not the password"}`, true},
		{"setup code", "/api/setup/code", `{"code":"AAAA-AAAA"}`, false},
	} {
		t.Run(way.name, func(t *testing.T) {
			b := newBox(t)
			if way.setUp {
				b.setUp()
			}
			const guesses = 30
			checked, release := make(chan struct{}, guesses), make(chan struct{})
			b.srv.checking = func() { checked <- struct{}{}; <-release }
			answers := make(chan int, guesses)
			for range guesses {
				go func() {
					req, _ := http.NewRequest("POST", b.http.URL+way.path, strings.NewReader(way.body))
					req.Header.Set("Content-Type", "application/json")
					res, err := b.http.Client().Do(req) // no session: a stranger
					if err != nil {
						answers <- 0
						return
					}
					res.Body.Close()
					answers <- res.StatusCode
				}()
			}
			statuses := map[int]int{}
			inCheck, answered := 0, 0
			timeout := time.After(time.Minute)
			for inCheck+answered < guesses { // every guess is being checked or answered
				select {
				case <-checked:
					inCheck++
				case st := <-answers:
					statuses[st]++
					answered++
				case <-timeout:
					t.Fatalf("after a minute %d guesses are being checked and %d answered, of %d", inCheck, answered, guesses)
				}
			}
			close(release)
			for range inCheck {
				statuses[<-answers]++
			}
			if inCheck > freeAttempts || statuses[http.StatusForbidden] != freeAttempts || statuses[http.StatusTooManyRequests] != guesses-freeAttempts {
				t.Errorf("%d guesses at once: %d checked at once, answers %v; want %d checked (403) and %d refused (429)",
					guesses, inCheck, statuses, freeAttempts, guesses-freeAttempts)
			}
		})
	}
}

// TestBrokenSettingsFileShowsNoPartOfIt: settings broken by hand (a secret
// without quotes) make the box fall back to the good copy. What it says
// about it names the line and the setting and quotes nothing of the file,
// in the log, the status and the log viewer; before sign-in the page says
// only that the settings were restored.
func TestBrokenSettingsFileShowsNoPartOfIt(t *testing.T) {
	const secret = "Zq9Xk2Wv7JpQ"
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, GoodConfigFile), mustEncode(t, testConfig("family")))
	mustWrite(t, filepath.Join(dir, ConfigFile), []byte("[call]\nurl = \"ws://10.99.0.1:7880\"\nroom = \"family\"\napi_key = \"devkey\"\napi_secret = "+secret+"\n"))
	hash, _ := hashPassword(goodPassword, argon2Params{Memory: 64, Time: 1, Threads: 1})
	mustWrite(t, filepath.Join(dir, AdminFile), []byte(`{"password_hash":"`+hash+`"}`))
	b := newBoxIn(t, dir)

	st := b.get("/api/state").json(t)
	notice, _ := st["notice"].(string)
	if !strings.Contains(notice, "restored") || strings.Contains(notice, "line") || strings.Contains(notice, "api_secret") {
		t.Errorf("before sign-in the notice is %q, want only that the settings were restored", notice)
	}
	r := b.post("/api/login", map[string]string{"password": goodPassword})
	b.expect(r, 200, "login")
	b.csrf = r.json(t)["csrf"].(string)
	status := b.get("/api/status").json(t)
	if n, _ := status["notice"].(string); !strings.Contains(n, "line 5") || !strings.Contains(n, "call.api_secret") {
		t.Errorf("the signed-in notice %q does not name line 5 and call.api_secret", n)
	}
	b.get("/api/log")
	for _, body := range b.bodies {
		if strings.Contains(body, secret[:2]) {
			t.Errorf("an answer holds the start of the secret: %s", body)
		}
	}
	if log := b.log.String(); strings.Contains(log, secret[:2]) || !strings.Contains(log, "call.api_secret") {
		t.Errorf("the log quotes the secret or does not say which setting is broken:\n%s", log)
	}
}

// TestAnAdminMeansNoSetupCode: with admin.json present the box asks for the
// admin password, never for a setup code, even when its settings are
// broken with no earlier copy (finishing setup would replace the
// password) or admin.json itself is broken.
func TestAnAdminMeansNoSetupCode(t *testing.T) {
	hash, _ := hashPassword(goodPassword, argon2Params{Memory: 64, Time: 1, Threads: 1})
	for _, tt := range []struct {
		name, admin string
		login       int
	}{
		{"broken settings, no earlier ones", `{"password_hash":"` + hash + `"}`, 200},
		{"broken admin file", `{"password_hash":`, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustWrite(t, filepath.Join(dir, ConfigFile), []byte("[video]\ncodec = \"h265\"\n"))
			mustWrite(t, filepath.Join(dir, AdminFile), []byte(tt.admin))
			b := newBoxIn(t, dir)
			if code := b.srv.SetupCode(); code != "" {
				t.Errorf("a box with an admin has the setup code %s", code)
			}
			b.srv.AnnounceSetup()
			if strings.Contains(b.log.String(), "setup_code") {
				t.Errorf("a box with an admin announces setup:\n%s", b.log.String())
			}
			if st := b.get("/api/state").json(t); st["setup_needed"] != false {
				t.Errorf("state %v, want no setup", st)
			}
			b.expect(b.post("/api/setup/code", map[string]string{"code": "AAAA-AAAA"}), 409, "a setup code")
			r := b.post("/api/login", map[string]string{"password": goodPassword})
			b.expect(r, tt.login, "the admin's password")
			if tt.login != 200 {
				if !strings.Contains(string(r.body), "factory reset") {
					t.Errorf("a broken admin file: %s, want a word about the factory reset", r.body)
				}
				return
			}
			b.csrf = r.json(t)["csrf"].(string)
			b.expect(b.post("/api/call", nil), 409, "a call without settings")
			b.expect(b.post("/api/settings", goodSettings), 200, "the admin saves settings")
			if boot := b.store.Boot(); boot.SetupNeeded || boot.SettingsNeeded || boot.Config.Call.Room != "family" {
				t.Errorf("after the admin saved settings: %+v", boot)
			}
			if last := b.ctl.applied[len(b.ctl.applied)-1]; last.SettingsNeeded || last.Config.Call.Room != "family" {
				t.Errorf("the daemon was given %+v", last)
			}
			if b.store.Secrets().PasswordHash != hash {
				t.Errorf("the admin password changed")
			}
		})
	}
}

// TestSetupLineListsWhereThePageIs: the setup announcement lists the
// addresses the page can be reached on: listening on 127.0.0.1, only that.
func TestSetupLineListsWhereThePageIs(t *testing.T) {
	b := newBox(t)
	ctx, cancel := context.WithCancel(context.Background())
	served, ready := make(chan error, 1), make(chan net.Addr, 1)
	go func() { served <- b.srv.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { ready <- a }) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatalf("the page does not listen: %v", err)
	}
	b.srv.AnnounceSetup()
	m := regexp.MustCompile(`needs setting up.* addresses=("[^"]*"|\S+)`).FindStringSubmatch(b.log.String())
	if m == nil {
		t.Fatalf("no setup announcement with addresses:\n%s", b.log.String())
	}
	if got, want := strings.Trim(m[1], `"`), "https://"+addr.String()+"/"; got != want {
		t.Errorf("listening on %s, the setup line lists %q; want only %q", addr, got, want)
	}
	if links := SetupLinks(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 443}); !slices.Equal(links, []string{"https://192.0.2.7/"}) {
		t.Errorf("the links of a page on 192.0.2.7:443 are %v", links)
	}
}
