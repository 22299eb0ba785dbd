package provisioning

// The local API: what `callboxctl` asks of the running daemon on the box
// itself (a screenshot, an invite shown as a QR code). It is served on a
// Unix socket that only the daemon's user may open (mode 0600), so the
// file's permissions are its authentication; it is never on the network.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/provisioning/internal/httpserve"
)

// LocalBox is what the local API asks of the daemon.
type LocalBox interface {
	// Screenshot is the screen as it is now, as PNG.
	Screenshot(ctx context.Context) ([]byte, error)
	// Invite makes a guest's invite link and shows it on the screen.
	Invite(ctx context.Context, req InviteRequest) (InviteResponse, error)
	// Invites are the box's invites; nil when it makes none.
	Invites() Invites
	// BoxKey is the box's signing key as call.boxes of another box lists
	// it; "" without end-to-end encryption.
	BoxKey() string
}

// LocalCalls is what the local API asks of a daemon that takes actions
// (callboxctl answer, hang-up, call) and says how its call stands.
type LocalCalls interface {
	// Act carries out an action as a button would (answer, hang_up,
	// call, speed_dial_N, ...) and says what it did.
	Act(ctx context.Context, action string) (string, error)
	// Ring is the call's state: what rings, whom the box calls.
	Ring() RingStatus
	// Participants are the others in the call as the status page lists
	// them, with how many of their pictures the screen showed.
	Participants() []Participant
}

// RingStatus is how the box's call stands, as callboxctl and the page
// show it.
type RingStatus struct {
	State string `json:"state"` // as CallStatus.State, and "ringing", "calling"
	// Callers ring the box (state ringing), by name.
	Callers []string `json:"callers,omitempty"`
	// Callee is whom the box calls (calling) or is in a call with in
	// their line; Heard what came back: "" or "ringing".
	Callee string `json:"callee,omitempty"`
	Heard  string `json:"heard,omitempty"`
	// Outcome is how the last call out ended when nobody answered:
	// "declined", "no answer", "not available".
	Outcome   string `json:"outcome,omitempty"`
	OutcomeOf string `json:"outcome_of,omitempty"` // the callee it came from
	// Missed are the calls that rang unanswered, newest first.
	Missed []MissedCall `json:"missed"`
	// DoNotDisturb: calls are declined as not available and listed as
	// missed; DoNotDisturbUntil is when that ends by itself (the end of
	// ring.quiet_hours, "07:00" in the box's time), "" when it does not.
	DoNotDisturb      bool   `json:"do_not_disturb"`
	DoNotDisturbUntil string `json:"do_not_disturb_until,omitempty"`
}

// MissedCall is a call that rang and was not answered.
type MissedCall struct {
	Name string    `json:"name"`
	Line string    `json:"line,omitempty"` // theirs, to call back; "" for a guest
	At   time.Time `json:"at"`
	Why  string    `json:"why"` // "no answer", "not available", "gave up"
}

// ActionRequest asks for an action.
type ActionRequest struct {
	Action string `json:"action"`
}

// InviteRequest asks for one guest's link.
type InviteRequest struct {
	Name     string `json:"name,omitempty"`      // the guest's name; "Guest" when empty
	ValidFor string `json:"valid_for,omitempty"` // a Go duration, "24h" when empty
	// Page is the guest page's address as the guest's browser reaches the
	// box; empty: the setup page's address plus /guest/, when the box
	// serves one.
	Page string `json:"page,omitempty"`
	// Server is the call server as the guest's browser reaches it; empty:
	// call.url.
	Server string `json:"server,omitempty"`
	// Once makes an invite for one visit: it is spent when the guest leaves.
	Once bool `json:"once,omitempty"`
	// Unshown keeps the link off the screen: for a tool of the box's
	// operator (callboxctl view), not a guest.
	Unshown bool `json:"unshown,omitempty"`
}

// InviteResponse is the link and what the guest's page will show.
type InviteResponse struct {
	Link string `json:"link"`
	// Name names the invite, to revoke it (keys.InviteName).
	Name             string    `json:"name,omitempty"`
	Fingerprint      string    `json:"fingerprint"`
	FingerprintWords string    `json:"fingerprint_words"`
	Expires          time.Time `json:"expires"`
	ShownUntil       time.Time `json:"shown_until"` // the QR code's time on the screen
}

// LocalError is a refusal with the HTTP status the local API answers.
type LocalError struct {
	Status  int
	Message string
}

func (e *LocalError) Error() string { return e.Message }

// ServeLocal serves the local API on a Unix socket at path until ctx ends.
// A socket left at path by a daemon that died is replaced.
func ServeLocal(ctx context.Context, path string, box LocalBox, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path) // a stale socket: nobody else may serve here
	}
	// Made under another name and renamed once only its owner may open it,
	// so there is no moment when anyone else could connect.
	tmp := path + ".new"
	os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return fmt.Errorf("local API: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	defer os.Remove(path)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return fmt.Errorf("local API: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return fmt.Errorf("local API: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /screenshot", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		png, err := box.Screenshot(ctx)
		if err != nil {
			writeLocalError(w, err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png) // a client that went away has no one to tell
	})
	mux.HandleFunc("POST /invite", func(w http.ResponseWriter, r *http.Request) {
		var req InviteRequest
		if err := decodeJSON(r, &req); err != nil {
			writeRequestError(w, err)
			return
		}
		resp, err := box.Invite(r.Context(), req)
		if err != nil {
			writeLocalError(w, err)
			return
		}
		log.Info("an invite link was made and is shown on the screen", "guest", req.Name, "expires", resp.Expires)
		writeJSON(w, http.StatusOK, resp)
	})
	mux.HandleFunc("GET /box-key", func(w http.ResponseWriter, r *http.Request) {
		key := box.BoxKey()
		if key == "" {
			writeError(w, http.StatusConflict, "the box has no key of its own: its calls are not end-to-end encrypted with a key per member (call.encryption)")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"box_key": key})
	})
	mux.HandleFunc("GET /invites", func(w http.ResponseWriter, r *http.Request) {
		list := []keys.InviteInfo{}
		if inv := box.Invites(); inv != nil {
			list = append(list, inv.ListInvites()...)
		}
		writeJSON(w, http.StatusOK, map[string][]keys.InviteInfo{"invites": list})
	})
	mux.HandleFunc("POST /invites/revoke", func(w http.ResponseWriter, r *http.Request) {
		var req RevokeRequest
		if err := decodeJSON(r, &req); err != nil {
			writeRequestError(w, err)
			return
		}
		if err := revokeInvite(r.Context(), box.Invites(), req.Name); err != nil {
			writeLocalError(w, err)
			return
		}
		log.Info("an invite was revoked with callboxctl", "invite", req.Name)
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	if calls, ok := box.(LocalCalls); ok {
		serveCalls(mux, calls, log)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Info("local API", "socket", path)
	if err := httpserve.Run(ctx, srv, 0, func() error { return srv.Serve(ln) }); err != nil {
		return fmt.Errorf("local API: %w", err)
	}
	return nil
}

// serveCalls adds the call's actions and state to the local API.
func serveCalls(mux *http.ServeMux, calls LocalCalls, log *slog.Logger) {
	mux.HandleFunc("POST /action", func(w http.ResponseWriter, r *http.Request) {
		var req ActionRequest
		if err := decodeJSON(r, &req); err != nil {
			writeRequestError(w, err)
			return
		}
		did, err := calls.Act(r.Context(), req.Action)
		if err != nil {
			writeLocalError(w, err)
			return
		}
		log.Info("callboxctl asked for an action", "action", req.Action, "did", did)
		writeJSON(w, http.StatusOK, map[string]string{"did": did})
	})
	mux.HandleFunc("GET /ring", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, calls.Ring())
	})
	mux.HandleFunc("GET /participants", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, calls.Participants())
	})
}

func writeLocalError(w http.ResponseWriter, err error) {
	var le *LocalError
	if errors.As(err, &le) {
		writeError(w, le.Status, le.Message)
		return
	}
	writeError(w, http.StatusInternalServerError, oneLine(err))
}

// LocalClient talks to the local API of the daemon listening at Socket.
type LocalClient struct {
	Socket string
}

func (c LocalClient) client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", c.Socket)
		},
	}}
}

// do sends one request and reads the answer, an error saying why for
// anything but 200.
func (c LocalClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		in = strings.NewReader(string(data))
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://callboxd"+path, in)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client().Do(req)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("callboxd's local API at %s is callboxd's own: run as root (sudo): %w", c.Socket, err)
	}
	if err != nil {
		return nil, fmt.Errorf("callboxd's local API at %s does not answer (is callboxd running with -control %s?): %w", c.Socket, c.Socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("callboxd's local API: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("callboxd: %s", e.Error)
		}
		return nil, fmt.Errorf("callboxd: %s", resp.Status)
	}
	return data, nil
}

// Screenshot is the box's screen as PNG.
func (c LocalClient) Screenshot(ctx context.Context) ([]byte, error) {
	return c.do(ctx, http.MethodGet, "/screenshot", nil)
}

// Invite asks the box for a guest's link, which its screen then shows.
func (c LocalClient) Invite(ctx context.Context, req InviteRequest) (InviteResponse, error) {
	data, err := c.do(ctx, http.MethodPost, "/invite", req)
	if err != nil {
		return InviteResponse{}, err
	}
	var resp InviteResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return InviteResponse{}, fmt.Errorf("callboxd's answer: %w", err)
	}
	return resp, nil
}

// Invites lists the box's invites.
func (c LocalClient) Invites(ctx context.Context) ([]keys.InviteInfo, error) {
	data, err := c.do(ctx, http.MethodGet, "/invites", nil)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Invites []keys.InviteInfo `json:"invites"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("callboxd's answer: %w", err)
	}
	return resp.Invites, nil
}

// BoxKey is the box's key, for call.boxes of the room's other boxes.
func (c LocalClient) BoxKey(ctx context.Context) (string, error) {
	data, err := c.do(ctx, http.MethodGet, "/box-key", nil)
	if err != nil {
		return "", err
	}
	var resp struct {
		BoxKey string `json:"box_key"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return "", fmt.Errorf("callboxd's answer: %w", err)
	}
	return resp.BoxKey, nil
}

// Revoke revokes the invite named.
func (c LocalClient) Revoke(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodPost, "/invites/revoke", RevokeRequest{Name: name})
	return err
}

// Act asks the box for an action (answer, hang_up, call, speed_dial_N)
// and returns what it did.
func (c LocalClient) Act(ctx context.Context, action string) (string, error) {
	data, err := c.do(ctx, http.MethodPost, "/action", ActionRequest{Action: action})
	if err != nil {
		return "", err
	}
	var resp struct {
		Did string `json:"did"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return "", fmt.Errorf("callboxd's answer: %w", err)
	}
	return resp.Did, nil
}

// Participants are the others in the box's call.
func (c LocalClient) Participants(ctx context.Context) ([]Participant, error) {
	data, err := c.do(ctx, http.MethodGet, "/participants", nil)
	if err != nil {
		return nil, err
	}
	var ps []Participant
	if err := json.Unmarshal(data, &ps); err != nil {
		return nil, fmt.Errorf("callboxd's answer: %w", err)
	}
	return ps, nil
}

// Ring is how the box's call stands.
func (c LocalClient) Ring(ctx context.Context) (RingStatus, error) {
	data, err := c.do(ctx, http.MethodGet, "/ring", nil)
	if err != nil {
		return RingStatus{}, err
	}
	var st RingStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return RingStatus{}, fmt.Errorf("callboxd's answer: %w", err)
	}
	return st, nil
}
