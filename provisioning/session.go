package provisioning

// Sessions: a cookie per signed-in browser, a CSRF token per session, and
// the guards that put them in front of the API's handlers.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"
)

// session is a signed-in browser: the admin, or (before first-boot setup
// is done) whoever gave the setup code.
type session struct {
	csrf    string
	admin   bool // false: a first-boot setup session (setup code given)
	expires time.Time
}

const (
	cookieName      = "__Host-callbox-session"
	csrfHeader      = "X-CSRF-Token"
	adminSessionTTL = 12 * time.Hour
	setupSessionTTL = 30 * time.Minute
	maxSessions     = 64
)

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) sessionOf(r *http.Request) (string, *session) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[c.Value]
	if !ok {
		return "", nil
	}
	if s.now().After(sess.expires) {
		delete(s.sessions, c.Value)
		return "", nil
	}
	return c.Value, sess
}

func (s *Server) newSession(w http.ResponseWriter, admin bool) *session {
	ttl := setupSessionTTL
	if admin {
		ttl = adminSessionTTL
	}
	id := randomToken()
	sess := &session{csrf: randomToken(), admin: admin, expires: s.now().Add(ttl)}
	s.mu.Lock()
	now := s.now()
	for k, v := range s.sessions {
		if now.After(v.expires) {
			delete(s.sessions, k)
		}
	}
	for len(s.sessions) >= maxSessions { // drop the one closest to expiring
		var oldest string
		for k, v := range s.sessions {
			if oldest == "" || v.expires.Before(s.sessions[oldest].expires) {
				oldest = k
			}
		}
		delete(s.sessions, oldest)
	}
	s.sessions[id] = sess
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/", MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	return sess
}

func (s *Server) endSession(w http.ResponseWriter, id string) {
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, id string, sess *session)

// guard checks the session (allow says which kinds) and, for anything but
// GET, the CSRF token.
func (s *Server) guard(allow func(*session) bool, h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, sess := s.sessionOf(r)
		if sess == nil {
			writeError(w, http.StatusUnauthorized, "not signed in, or the session has expired: sign in again")
			return
		}
		if !allow(sess) {
			writeError(w, http.StatusForbidden, "this needs the admin to be signed in")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) != 1 {
				writeError(w, http.StatusForbidden, "missing or wrong CSRF token: reload the page")
				return
			}
		}
		h(w, r, id, sess)
	}
}

func (s *Server) adminOnly(h sessionHandler) http.HandlerFunc {
	return s.guard(func(x *session) bool { return x.admin }, h)
}
func (s *Server) setupOnly(h sessionHandler) http.HandlerFunc {
	return s.guard(func(x *session) bool { return !x.admin }, h)
}
func (s *Server) setupOrAdmin(h sessionHandler) http.HandlerFunc {
	return s.guard(func(*session) bool { return true }, h)
}
func (s *Server) signedIn(h sessionHandler) http.HandlerFunc { return s.setupOrAdmin(h) }
