package guest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
)

func TestHandlerServesThePage(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/guest", Handler()))
	t.Cleanup(srv.Close)
	tests := []struct {
		path, contentType, contains string
	}{
		{"/guest/", "text/html", `<script src="guest.js">`},
		{"/guest/style.css", "text/css", "#fingerprint"},
		{"/guest/guest.js", "javascript", "LKFrameEncryptionKey"},
		{"/guest/e2ee-worker.js", "javascript", "encodeFunction"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if strings.HasSuffix(tt.path, ".js") && !Built() {
				t.Fatal("the scripts are not built: run `make web`")
			}
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.contentType)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("%s does not contain %q", tt.path, tt.contains)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
				t.Errorf("Content-Security-Policy %q, want scripts from the box only", csp)
			}
			if resp.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("Referrer-Policy %q", resp.Header.Get("Referrer-Policy"))
			}
		})
	}
}

// TestBundleHasNoRemoteScripts: the page loads nothing from elsewhere.
func TestBundleHasNoRemoteScripts(t *testing.T) {
	for _, f := range []string{"static/index.html", "static/guest.js"} {
		b, err := static.ReadFile(f)
		if err != nil {
			t.Fatalf("%s: %v (run `make web`)", f, err)
		}
		for _, cdn := range []string{"cdn.", "unpkg.com", "jsdelivr"} {
			if strings.Contains(string(b), cdn) {
				t.Errorf("%s mentions %s", f, cdn)
			}
		}
	}
}

func TestInviteLink(t *testing.T) {
	inv, err := NewInvite(InviteOptions{
		ServerURL: "wss://calls.example.org", APIKey: "key", APISecret: "a secret of 32 characters or more!!",
		Room: "family", RoomKey: "our family's room key", Name: "Anna", ValidFor: 2 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	link, err := Link("https://callbox.local:8443/guest/", inv)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	// What a browser sends to the box: scheme, host, path. Nothing secret.
	sent := u.Scheme + "://" + u.Host + u.RequestURI()
	if sent != "https://callbox.local:8443/guest/" {
		t.Errorf("the browser would request %q", sent)
	}
	for _, secret := range []string{"family's", inv.Token[:20]} {
		if strings.Contains(sent, secret) {
			t.Errorf("%q is in the part sent to the server", secret)
		}
	}
	frag, err := url.ParseQuery(u.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	if frag.Get("k") != "our family's room key" || frag.Get("u") != "wss://calls.example.org" || frag.Get("t") != inv.Token {
		t.Errorf("fragment %v does not carry the invite", frag)
	}

	tok, err := auth.ParseAPIToken(inv.Token)
	if err != nil {
		t.Fatal(err)
	}
	_, claims, err := tok.Verify("a secret of 32 characters or more!!")
	if err != nil {
		t.Fatal(err)
	}
	if claims.Video.Room != "family" || !claims.Video.RoomJoin || !strings.HasPrefix(claims.Identity, "guest-") || claims.Name != "Anna" {
		t.Errorf("token claims %+v", claims)
	}
	if claims.Video.RoomCreate || claims.Video.RoomAdmin {
		t.Error("a guest's token must not administer rooms")
	}
	second, _ := NewInvite(InviteOptions{ServerURL: "wss://x", APIKey: "key", APISecret: "s", Room: "family", RoomKey: "k", ValidFor: time.Hour})
	tok2, _ := auth.ParseAPIToken(second.Token)
	if tok2.Identity() == claims.Identity {
		t.Error("two invites share an identity")
	}
}

func TestInviteRefusesWhatItCannotDo(t *testing.T) {
	good := InviteOptions{ServerURL: "wss://x", APIKey: "k", APISecret: "s", Room: "r", RoomKey: "key", ValidFor: time.Hour}
	tests := []struct {
		name   string
		change func(*InviteOptions)
		says   string
	}{
		{"not encrypted", func(o *InviteOptions) { o.RoomKey = "" }, "call.encryption = none"},
		{"no secret", func(o *InviteOptions) { o.APISecret = "" }, "secret"},
		{"no room", func(o *InviteOptions) { o.Room = "" }, "room"},
		{"forever", func(o *InviteOptions) { o.ValidFor = 365 * 24 * time.Hour }, "at most"},
		{"expired", func(o *InviteOptions) { o.ValidFor = -time.Hour }, "more than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.change(&o)
			if _, err := NewInvite(o); err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("NewInvite: %v, want an error saying %q", err, tt.says)
			}
		})
	}
	if _, err := Link("callbox.local/guest", Invite{}); err == nil {
		t.Error("Link took an address without a scheme")
	}
}

// TestPageFingerprintIsTheBoxs runs the page's own fingerprint code in Node.
func TestPageFingerprintIsTheBoxs(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat("node_modules/esbuild"); err != nil {
		t.Fatal("web/guest/node_modules is missing: run `make web`")
	}
	for _, key := range []string{"a long family room key", "ünïcödé room kéy 🔑"} {
		out, err := exec.Command(node, "e2ee-vectors.mjs", "fingerprint", key).Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		want, err := call.Fingerprint(key)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(got) != 2 || got[0] != want {
			t.Errorf("the page shows %q for %q, the box %s", got, key, want)
		}
		if words := call.FingerprintWords(want); len(got) == 2 && got[1] != words {
			t.Errorf("the page writes %q for %q, the box %q", got[1], key, words)
		}
	}
}

// TestMemberInviteLink: an invite of per-member keys carries the invite's
// id and secret and the box's key in the fragment, never the token's
// identity or room in the part sent; ParseLink reads back what the book
// keeps, and the token admits the identity the book says.
func TestMemberInviteLink(t *testing.T) {
	book, err := keys.NewInviteBook(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	boxKey := bytes.Repeat([]byte{7}, keys.BoxKeySize)
	inv, err := NewInvite(InviteOptions{ServerURL: "wss://calls.example.org", APIKey: "key", APISecret: "a secret of 32 characters or more!!",
		Room: "family", Name: "Anna", ValidFor: time.Hour, Invites: book, BoxKey: boxKey, Once: true})
	if err != nil {
		t.Fatal(err)
	}
	link, err := Link("https://box/guest/", inv)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(link, "k=") {
		t.Errorf("a per-member invite carries a room key: %s", link)
	}
	back, err := ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	if back.Member == nil || !bytes.Equal(back.Member.Secret, inv.Member.Secret) || !bytes.Equal(back.Member.BoxKey, boxKey) ||
		back.Identity != inv.Identity || back.Room != "family" {
		t.Fatalf("ParseLink: %+v", back)
	}
	list := book.List()
	if len(list) != 1 || list[0].Name != inv.Name() || list[0].Identity != inv.Identity || !list[0].Once || list[0].State != "unused" {
		t.Errorf("the book lists %+v", list)
	}
	for _, bad := range []string{"https://box/guest/#u=x", "https://box/guest/#u=x&t=a.b.c&i=AAAA&s=BBBB&b=CCCC", "::"} {
		if _, err := ParseLink(bad); err == nil {
			t.Errorf("ParseLink(%q) took it", bad)
		}
	}
}
