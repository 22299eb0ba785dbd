// Package guest serves the guest page: a small web client, built from
// livekit-client with esbuild (`make web`) and embedded in the binary, with
// which a person joins the box's call from a browser, end-to-end encrypted,
// from an invite link (see Link). It serves files only: it holds no keys
// and no tokens, which travel in the link's fragment, never sent to a server.
package guest

import (
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/callbox/callbox/call/keys"
)

//go:embed static
var static embed.FS

// Built reports whether the page's scripts were built into this binary
// (`make web` before `go build`).
func Built() bool {
	_, err := fs.Stat(static, "static/guest.js")
	return err == nil
}

// Handler serves the page at its root; mount it under a prefix with
// http.StripPrefix, e.g. mux.Handle("GET /guest/", http.StripPrefix("/guest", guest.Handler())).
// Serve it over HTTPS: browsers allow camera, microphone and the WebCrypto
// that E2EE needs only in a secure context.
func Handler() http.Handler {
	files, _ := fs.Sub(static, "static") // cannot fail: "static" is embedded
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Only this box's own scripts, worker and media; the call server
		// for signalling. The invite's fragment is never sent anywhere.
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; worker-src 'self'; "+
			"connect-src 'self' ws: wss: http: https:; media-src 'self' blob: mediastream:; img-src 'self' data: blob:; "+
			"style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self)")
		h.Set("Cache-Control", "no-cache")
		if r.URL.Path == "/guest.js" && !Built() {
			http.Error(w, "the guest page was not built into this binary: run `make web` before go build", http.StatusServiceUnavailable)
			return
		}
		fileServer.ServeHTTP(w, r)
	})
}

// Invite is what an invite link carries.
type Invite struct {
	// ServerURL is the call server (LiveKit) as the guest's browser reaches it.
	ServerURL string
	// Token lets the guest join the room, for a limited time, as Identity.
	Token          string
	Identity, Room string // from the token, not in the link
	// Member is the invite that proves membership to the box (per-member
	// keys): its id and secret, and the box's signing key.
	Member *keys.Invite
	// RoomKey is the room's shared key (shared-key encryption).
	RoomKey string
}

// Link is the invite link for page, the guest page's address
// (https://callbox.local:8443/guest/): the invite goes in the fragment,
// which the browser keeps to itself.
func Link(page string, inv Invite) (string, error) {
	u, err := url.Parse(page)
	if err != nil {
		return "", err
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", &url.Error{Op: "invite", URL: page, Err: errNotWebPage}
	}
	u.Fragment = ""
	u.RawFragment = ""
	return strings.TrimSuffix(u.String(), "#") + "#" + fragment(inv), nil
}

type pageError string

func (e pageError) Error() string { return string(e) }

const errNotWebPage = pageError("the guest page's address must be an http:// or https:// address with a host")
