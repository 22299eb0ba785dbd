package provisioning

// The two ways in: the setup code on a box that is not set up yet, the
// admin password after. Both are one flow (signIn), with one back-off per
// address between them, so guessing either costs the same.

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// stateView is what the page learns before anything else: whether the box
// needs setting up and whether this browser is signed in.
type stateView struct {
	SetupNeeded bool   `json:"setup_needed"`
	SignedIn    bool   `json:"signed_in"`  // as admin
	SetupOpen   bool   `json:"setup_open"` // the setup code was given
	CSRF        string `json:"csrf,omitempty"`
	Name        string `json:"name"`
	Notice      string `json:"notice,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	WiFi        bool   `json:"wifi"` // the box has Wi-Fi to set
	// Network says how the box is connected; only to a session (it names networks).
	Network *NetworkStatus `json:"network,omitempty"`
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	boot := s.store.Boot()
	v := stateView{SetupNeeded: boot.SetupNeeded, Name: boot.Config.Call.Name, Notice: boot.PublicNotice, Fingerprint: s.Fingerprint(), WiFi: s.opts.WiFi != nil}
	if _, sess := s.sessionOf(r); sess != nil {
		v.Notice = boot.Notice
		v.CSRF = sess.csrf
		v.SignedIn = sess.admin
		v.SetupOpen = !sess.admin && boot.SetupNeeded
		network := s.network(r.Context())
		v.Network = &network
	}
	if problem := s.provisionNotice(); problem != "" && boot.SetupNeeded {
		// For whoever sets the box up, signed in or not: it names
		// settings and lines, never their values.
		v.Notice = strings.TrimSpace(problem + " " + v.Notice)
	}
	writeJSON(w, http.StatusOK, v)
}

// wayIn is one way to sign in: what is guessed, how it is checked, and the
// session it opens.
type wayIn struct {
	what  string // for the log: "setup code", "admin password"
	admin bool   // the session it opens: admin, or first-boot setup
	// read takes the guess out of the request.
	read func(r *http.Request) (string, error)
	// check says whether guess is right. closed, when not empty, is why
	// this way in is not open now (409); err is a box that cannot check (500).
	check func(guess string) (ok bool, closed string, err error)
	wrong string // the answer to a wrong guess
}

// signIn is the one flow of both ways in: an attempt is taken from the
// address's back-off before anything else, so guesses in flight count;
// then the guess is read and checked. A wrong one counts against the
// address, a right one clears its record and opens a session, anything
// else gives the attempt back. The attempt is settled before the answer
// is written: the client's next try sees it.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, way wayIn) {
	client := clientIP(r)
	key, wait := s.limit.reserve(client)
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many tries from this address: wait %d s", secs))
		return
	}
	guess, err := way.read(r)
	if err != nil {
		s.limit.settle(key, unchecked)
		writeRequestError(w, err)
		return
	}
	if s.checking != nil {
		s.checking()
	}
	ok, closed, err := way.check(guess)
	switch {
	case closed != "":
		s.limit.settle(key, unchecked)
		writeError(w, http.StatusConflict, closed)
	case err != nil:
		s.limit.settle(key, unchecked)
		s.log.Error("sign-in: the "+way.what+" cannot be checked", "err", err)
		writeError(w, http.StatusInternalServerError, "the stored password is damaged: a factory reset is needed")
	case !ok:
		s.limit.settle(key, guessWrong)
		s.log.Warn("a wrong "+way.what+" was entered", "client", client)
		writeError(w, http.StatusForbidden, way.wrong)
	default:
		s.limit.settle(key, guessRight)
		sess := s.newSession(w, way.admin)
		writeJSON(w, http.StatusOK, map[string]string{"csrf": sess.csrf})
	}
}

func (s *Server) handleSetupCode(w http.ResponseWriter, r *http.Request) {
	s.signIn(w, r, wayIn{
		what: "setup code",
		read: func(r *http.Request) (string, error) {
			var req struct {
				Code string `json:"code"`
			}
			err := decodeJSON(r, &req)
			return req.Code, err
		},
		check: func(guess string) (bool, string, error) {
			code := s.SetupCode()
			if code == "" || !s.store.Boot().SetupNeeded {
				return false, "the box is already set up: sign in instead", nil
			}
			return subtle.ConstantTimeCompare([]byte(normaliseCode(guess)), []byte(normaliseCode(code))) == 1, "", nil
		},
		wrong: "that is not the setup code shown on the box's screen",
	})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	s.signIn(w, r, wayIn{
		what:  "admin password",
		admin: true,
		read: func(r *http.Request) (string, error) {
			var req struct {
				Password string `json:"password"`
			}
			err := decodeJSON(r, &req)
			return req.Password, err
		},
		check: func(guess string) (bool, string, error) {
			sec := s.store.Secrets()
			if sec.PasswordHash == "" {
				return false, "the box is not set up yet: enter the setup code shown on its screen", nil
			}
			if len(guess) > maxPasswordLength {
				guess = guess[:maxPasswordLength+1] // still wrong, and cheap
			}
			ok, err := verifyPassword(guess, sec.PasswordHash)
			return ok, "", err
		},
		wrong: "wrong password",
	})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, id string, _ *session) {
	s.endSession(w, id)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
