package provisioning

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/internal/daemontest"
)

type fakeBox struct {
	png     []byte
	err     error
	invited []InviteRequest
	invites Invites
	boxKey  string
}

func (b *fakeBox) Invites() Invites { return b.invites }
func (b *fakeBox) BoxKey() string   { return b.boxKey }

// fakeInvites is a book of invites by name.
type fakeInvites struct {
	list    []keys.InviteInfo
	revoked []string
}

func (f *fakeInvites) ListInvites() []keys.InviteInfo { return f.list }
func (f *fakeInvites) RevokeInvite(_ context.Context, name string) error {
	for i, inv := range f.list {
		if inv.Name == name {
			f.list[i].State = "revoked"
			f.revoked = append(f.revoked, name)
			return nil
		}
	}
	return &LocalError{Status: http.StatusNotFound, Message: "no invite " + name}
}

func (b *fakeBox) Screenshot(ctx context.Context) ([]byte, error) { return b.png, b.err }
func (b *fakeBox) Invite(ctx context.Context, req InviteRequest) (InviteResponse, error) {
	if b.err != nil {
		return InviteResponse{}, b.err
	}
	b.invited = append(b.invited, req)
	return InviteResponse{Link: "https://box/guest/#t=x", Fingerprint: "🌰", FingerprintWords: "chestnut"}, nil
}

// serveLocal starts the local API on a socket in a temporary directory.
func serveLocal(t *testing.T, box LocalBox) LocalClient {
	t.Helper()
	daemontest.CheckGoroutines(t)
	path := filepath.Join(t.TempDir(), "control.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeLocal(ctx, path, box, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	// The listener appears on another goroutine.
	err := daemontest.Poll(5*time.Second, 5*time.Millisecond, func() error {
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		t.Fatalf("the local API did not start: %v", err)
	}
	return LocalClient{Socket: path}
}

func TestLocalAPI(t *testing.T) {
	box := &fakeBox{png: []byte("\x89PNG fake")}
	c := serveLocal(t, box)
	ctx := context.Background()

	fi, err := os.Stat(c.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("the socket's mode is %o: anyone on the box could ask for screenshots and invites; want 600", perm)
	}

	got, err := c.Screenshot(ctx)
	if err != nil || string(got) != string(box.png) {
		t.Errorf("Screenshot = %q, %v; want the box's PNG", got, err)
	}
	inv, err := c.Invite(ctx, InviteRequest{Name: "Grandma", ValidFor: "2h"})
	if err != nil || inv.Link != "https://box/guest/#t=x" || inv.FingerprintWords != "chestnut" {
		t.Errorf("Invite = %+v, %v", inv, err)
	}
	if len(box.invited) != 1 || box.invited[0].Name != "Grandma" || box.invited[0].ValidFor != "2h" {
		t.Errorf("the box was asked %+v", box.invited)
	}

	// The box's refusal reaches the operator as it was said.
	box.err = &LocalError{Status: http.StatusConflict, Message: "the box is not set up yet"}
	if _, err := c.Screenshot(ctx); err == nil || !strings.Contains(err.Error(), "the box is not set up yet") {
		t.Errorf("Screenshot error = %v", err)
	}
	if _, err := c.Invite(ctx, InviteRequest{}); err == nil || !strings.Contains(err.Error(), "not set up") {
		t.Errorf("Invite error = %v", err)
	}
	box.err = errors.New("line one\nline two")
	if _, err := c.Screenshot(ctx); err == nil || !strings.Contains(err.Error(), "line one; line two") {
		t.Errorf("Screenshot error = %v", err)
	}
}

func TestLocalAPIBadRequests(t *testing.T) {
	box := &fakeBox{}
	c := serveLocal(t, box)
	hc := c.client()
	tests := []struct {
		name, method, path, contentType, body string
		want                                  int
	}{
		{"unknown field", "POST", "/invite", "application/json", `{"nmae":"x"}`, http.StatusBadRequest},
		{"wrong type", "POST", "/invite", "application/json", `{"name":3}`, http.StatusBadRequest},
		{"huge", "POST", "/invite", "application/json", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, http.StatusRequestEntityTooLarge},
		{"not JSON", "POST", "/invite", "text/plain", `name=x`, http.StatusUnsupportedMediaType},
		{"wrong method", "POST", "/screenshot", "", ``, http.StatusMethodNotAllowed},
		{"unknown path", "GET", "/secrets", "", ``, http.StatusNotFound},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://callboxd"+tt.path, strings.NewReader(tt.body))
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if len(box.invited) != 0 {
		t.Errorf("bad requests made invites: %+v", box.invited)
	}
}

func TestLocalClientWithoutDaemon(t *testing.T) {
	c := LocalClient{Socket: filepath.Join(t.TempDir(), "nobody.sock")}
	_, err := c.Screenshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is callboxd running with -control") {
		t.Errorf("error = %v, want one that says what to check", err)
	}
}

func TestSetupLinks(t *testing.T) {
	addrs := localAddresses()
	for _, port := range []int{443, 8443} {
		links := SetupLinks(&net.TCPAddr{IP: net.IPv4zero, Port: port})
		if len(links) != len(addrs) {
			t.Fatalf("%d links for %d addresses", len(links), len(addrs))
		}
		for _, l := range links {
			if !strings.HasPrefix(l, "https://") || strings.Contains(l, ":443") || (port == 8443) != strings.Contains(l, ":8443/") {
				t.Errorf("port %d: link %q", port, l)
			}
		}
	}
}

// TestLocalAPIInvites: callboxctl's list and revoke reach the box's
// invites; a name that is not one is refused before the box is asked.
func TestLocalAPIInvites(t *testing.T) {
	name := strings.Repeat("ab", 16)
	invites := &fakeInvites{list: []keys.InviteInfo{{Name: name, Guest: "Anna", State: "in use"}}}
	c := serveLocal(t, &fakeBox{invites: invites})
	ctx := context.Background()
	list, err := c.Invites(ctx)
	if err != nil || len(list) != 1 || list[0].Name != name {
		t.Fatalf("Invites = %+v, %v", list, err)
	}
	if err := c.Revoke(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(ctx, "garbage"); err == nil || !strings.Contains(err.Error(), "not an invite's name") {
		t.Errorf("Revoke(garbage) = %v", err)
	}
	if err := c.Revoke(ctx, strings.Repeat("cd", 16)); err == nil || !strings.Contains(err.Error(), "no invite") {
		t.Errorf("Revoke(unknown) = %v", err)
	}
	if len(invites.revoked) != 1 || invites.revoked[0] != name {
		t.Errorf("revoked %v, want only %s", invites.revoked, name)
	}
	none := serveLocal(t, &fakeBox{})
	if err := none.Revoke(ctx, name); err == nil || !strings.Contains(err.Error(), "not end-to-end") {
		t.Errorf("Revoke on a box without invites = %v", err)
	}
}
