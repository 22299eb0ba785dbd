package provisioning

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/web/guest"
)

//go:embed web/index.html web/app.js web/style.css
var webFiles embed.FS

// Controller is the daemon's side: the page reads the call's state through
// it and asks it to act. callboxd implements it.
type Controller interface {
	Status() CallStatus
	// Call joins the room; HangUp leaves it until Call.
	Call()
	HangUp()
	// Restart starts the call and the devices again with the current settings.
	Restart()
	// Apply is called after settings were saved (or wiped by a factory
	// reset): the daemon must run with boot from now on.
	Apply(boot Boot)
}

// CallStatus is what the status page shows about the call.
type CallStatus struct {
	State        string        `json:"state"` // idle, joining, in call, reconnecting, failed, setup needed
	Error        string        `json:"error,omitempty"`
	Room         string        `json:"room"`
	Codec        string        `json:"codec"`
	CodecReason  string        `json:"codec_reason"`
	Participants []Participant `json:"participants"` // the others in the call, in join order
	Since        time.Time     `json:"since"`
	// Encrypted: the call is end-to-end encrypted; KeyFingerprint is the
	// room key's four emoji, KeyWords the same in words, as the screen
	// and the guest page show them (call.FingerprintWords).
	Encrypted      bool   `json:"encrypted"`
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	KeyWords       string `json:"key_words,omitempty"`
}

// Participant is someone else in the call.
type Participant struct {
	Identity string `json:"identity"`
	Name     string `json:"name"` // as they gave it; may be empty
	Muted    bool   `json:"muted"`
	// Video is their camera's codec ("H264", "VP8"), "" without a camera.
	Video string `json:"video"`
}

// Options configure a Server.
type Options struct {
	Store      *Store
	Controller Controller
	Devices    Devices    // nil: SystemDevices
	WiFi       WiFi       // nil: the box has no Wi-Fi to set
	Logs       *LogBuffer // nil: no log viewer
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
	// ThermalDir is where CPU temperatures are read; "" is /sys/class/thermal.
	ThermalDir string
	// Network says how the box is connected (wifi_api.go); nil: nothing known.
	Network func(context.Context) NetworkStatus
}

// Server is the page and API.
type Server struct {
	opts    Options
	store   *Store
	ctl     Controller
	devices Devices
	log     *slog.Logger
	now     func() time.Time
	started time.Time
	limit   *backOff
	argon   argon2Params

	mu        sync.Mutex
	setupCode string // "" when setup is done
	sessions  map[string]*session

	cert        *tls.Certificate // nil until first served, and after a factory reset
	fingerprint string           // of cert, for the page
}

type session struct {
	csrf    string
	admin   bool // false: a first-boot setup session (setup code given)
	expires time.Time
}

const (
	cookieName       = "__Host-callbox-session"
	csrfHeader       = "X-CSRF-Token"
	maxBodyBytes     = 16 << 10
	adminSessionTTL  = 12 * time.Hour
	setupSessionTTL  = 30 * time.Minute
	maxSessions      = 64
	setupCodeAlpha   = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O, 1/I
	setupCodeLetters = 8
)

// NewServer makes the page and API over a store.
func NewServer(opts Options) *Server {
	if opts.Devices == nil {
		opts.Devices = SystemDevices{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ThermalDir == "" {
		opts.ThermalDir = "/sys/class/thermal"
	}
	s := &Server{
		opts: opts, store: opts.Store, ctl: opts.Controller, devices: opts.Devices,
		log: opts.Logger.With("part", "provisioning"), now: opts.Now,
		limit: newBackOff(opts.Now), argon: defaultArgon2,
		sessions: map[string]*session{},
	}
	s.started = s.now()
	if s.store.Boot().SetupNeeded {
		s.setupCode = newSetupCode()
	}
	return s
}

// SetupCode is the one-time code that opens first-boot setup, for the
// screen and the log; "" once the box is set up.
func (s *Server) SetupCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setupCode
}

func newSetupCode() string {
	b := make([]byte, setupCodeLetters)
	rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = setupCodeAlpha[int(b[i])%len(setupCodeAlpha)] // 256 % 32 == 0: no bias
	}
	return string(b[:4]) + "-" + string(b[4:])
}

func normaliseCode(c string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(c))
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Handler serves the page and the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(static)
	mux.Handle("GET /{$}", files)
	mux.Handle("GET /app.js", files)
	mux.Handle("GET /style.css", files)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	mux.HandleFunc("GET /api/state", s.handleState)
	mux.HandleFunc("POST /api/setup/code", s.handleSetupCode)
	mux.HandleFunc("POST /api/setup", s.setupOnly(s.handleSetup))
	mux.HandleFunc("POST /api/login", s.handleLogin)
	mux.HandleFunc("POST /api/logout", s.signedIn(s.handleLogout))
	mux.HandleFunc("GET /api/devices", s.setupOrAdmin(s.handleDevices))
	mux.HandleFunc("GET /api/snapshot", s.setupOrAdmin(s.handleSnapshot))
	mux.HandleFunc("GET /api/settings", s.adminOnly(s.handleGetSettings))
	mux.HandleFunc("POST /api/settings", s.adminOnly(s.handlePostSettings))
	mux.HandleFunc("GET /api/status", s.adminOnly(s.handleStatus))
	mux.HandleFunc("GET /api/log", s.adminOnly(s.handleLog))
	mux.HandleFunc("POST /api/call", s.adminOnly(s.action(func() { s.ctl.Call() }, "call")))
	mux.HandleFunc("POST /api/hangup", s.adminOnly(s.action(func() { s.ctl.HangUp() }, "hang up")))
	mux.HandleFunc("POST /api/restart", s.adminOnly(s.action(func() { s.ctl.Restart() }, "restart")))
	mux.HandleFunc("POST /api/factory-reset", s.adminOnly(s.handleFactoryReset))
	mux.HandleFunc("GET /api/wifi/networks", s.setupOrAdmin(s.handleWiFiScan))
	mux.HandleFunc("POST /api/wifi/connect", s.setupOrAdmin(s.handleWiFiConnect))
	// The guest page for people joining from a browser; it sets its own
	// Content-Security-Policy (it talks to the call server).
	mux.Handle("GET /guest/", http.StripPrefix("/guest", guest.Handler()))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint")
	})
	return securityHeaders(mux)
}

// securityHeaders: a strict CSP (only the box's own scripts, styles and
// pictures), no framing, no sniffing, no referrer, no caching of API answers.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// --- sessions ---

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

// --- JSON in and out ---

type apiError struct {
	Error  string       `json:"error"`
	Fields []fieldError `json:"fields,omitempty"`
}

type fieldError struct {
	Field  string `json:"field"` // the form's field: url, room, camera...
	Reason string `json:"reason"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// requestError is a bad request body, with the status it deserves.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// decodeJSON reads one JSON object of at most maxBodyBytes into dst,
// refusing unknown fields, wrong types and trailing data.
func decodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return &requestError{http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)"}
	}
	return decodeBody(io.LimitReader(r.Body, maxBodyBytes+1), dst)
}

// decodeBody is decodeJSON without HTTP, for the fuzzer.
func decodeBody(body io.Reader, dst any) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return &requestError{http.StatusBadRequest, "cannot read the request"}
	}
	if len(data) > maxBodyBytes {
		return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than %d bytes", maxBodyBytes)}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			return &requestError{http.StatusBadRequest, "the request is not a JSON object of the expected form"}
		case errors.As(err, &typeErr):
			return &requestError{http.StatusBadRequest, fmt.Sprintf("%s must be a %s", typeErr.Field, typeErr.Type)}
		case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return &requestError{http.StatusBadRequest, "the request is not valid JSON"}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return &requestError{http.StatusBadRequest, strings.TrimPrefix(err.Error(), "json: ") + " is not a setting"}
		default:
			return &requestError{http.StatusBadRequest, "the request is not a JSON object of the expected form"}
		}
	}
	if dec.More() {
		return &requestError{http.StatusBadRequest, "the request has data after the JSON object"}
	}
	return nil
}

func writeRequestError(w http.ResponseWriter, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeError(w, re.status, re.msg)
		return
	}
	writeError(w, http.StatusBadRequest, "bad request")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// --- state, setup, login ---

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
	v := stateView{SetupNeeded: boot.SetupNeeded, Name: boot.Config.Call.Name, Notice: boot.Notice, Fingerprint: s.Fingerprint(), WiFi: s.opts.WiFi != nil}
	if _, sess := s.sessionOf(r); sess != nil {
		v.CSRF = sess.csrf
		v.SignedIn = sess.admin
		v.SetupOpen = !sess.admin && boot.SetupNeeded
		network := s.network(r.Context())
		v.Network = &network
	}
	writeJSON(w, http.StatusOK, v)
}

// tooMany answers 429 if client must wait.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request) bool {
	if wait := s.limit.wait(clientIP(r)); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many wrong tries: wait %d s", secs))
		return true
	}
	return false
}

func (s *Server) handleSetupCode(w http.ResponseWriter, r *http.Request) {
	if s.tooMany(w, r) {
		return
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	s.mu.Lock()
	code := s.setupCode
	s.mu.Unlock()
	if code == "" || !s.store.Boot().SetupNeeded {
		writeError(w, http.StatusConflict, "the box is already set up: sign in instead")
		return
	}
	if subtle.ConstantTimeCompare([]byte(normaliseCode(req.Code)), []byte(normaliseCode(code))) != 1 {
		s.limit.failed(clientIP(r))
		s.log.Warn("a wrong setup code was entered", "client", clientIP(r))
		writeError(w, http.StatusForbidden, "that is not the setup code shown on the box's screen")
		return
	}
	s.limit.succeeded(clientIP(r))
	sess := s.newSession(w, false)
	writeJSON(w, http.StatusOK, map[string]string{"csrf": sess.csrf})
}

// Settings are what the page sends. Secrets are write-only: an empty one
// keeps what is stored; no response ever carries them.
type Settings struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Auth       string `json:"auth"` // "key" (API key and secret) or "token"
	APIKey     string `json:"api_key"`
	APISecret  string `json:"api_secret"`
	Token      string `json:"token"`
	Room       string `json:"room"`
	Camera     string `json:"camera"`
	Microphone string `json:"microphone"`
	Codec      string `json:"codec"`
	RoomKey    string `json:"room_key"`
	// Contacts replace the speed-dial list; absent (null) keeps it.
	Contacts []Contact `json:"contacts"`
}

// SettingsView is Settings as shown: the secrets only as "is one set".
type SettingsView struct {
	Name         string    `json:"name"`
	URL          string    `json:"url"`
	Auth         string    `json:"auth"`
	APIKey       string    `json:"api_key"`
	HasAPISecret bool      `json:"has_api_secret"`
	HasToken     bool      `json:"has_token"`
	Room         string    `json:"room"`
	Camera       string    `json:"camera"`
	Microphone   string    `json:"microphone"`
	Codec        string    `json:"codec"`
	HasRoomKey   bool      `json:"has_room_key"`
	Contacts     []Contact `json:"contacts"`
}

type setupRequest struct {
	Password string   `json:"password"`
	Settings Settings `json:"settings"`
	// WiFi, when set, is joined once the settings are saved.
	WiFi *WiFiChoice `json:"wifi,omitempty"`
}

// WiFiChoice is a network chosen on the page.
type WiFiChoice struct {
	SSID       string `json:"ssid"`
	Passphrase string `json:"passphrase"`
}

// maxFieldLength bounds every text setting; a token is the longest.
const maxFieldLength = 4096

// apply puts st over cfg and says what is wrong, by form field.
func (st Settings) apply(cfg config.Config) (config.Config, []fieldError) {
	var bad []fieldError
	for name, v := range map[string]string{"name": st.Name, "url": st.URL, "api_key": st.APIKey, "api_secret": st.APISecret,
		"token": st.Token, "room": st.Room, "camera": st.Camera, "microphone": st.Microphone, "codec": st.Codec, "room_key": st.RoomKey} {
		if len(v) > maxFieldLength {
			bad = append(bad, fieldError{name, fmt.Sprintf("is longer than %d characters", maxFieldLength)})
		} else if strings.ContainsAny(v, "\x00\r\n") {
			bad = append(bad, fieldError{name, "may not contain control characters"})
		}
	}
	if len(bad) > 0 {
		return cfg, bad
	}
	cfg.Call.Name = strings.TrimSpace(st.Name)
	if st.RoomKey != "" {
		cfg.Call.RoomKey = st.RoomKey
	}
	if cfg.Call.Name == "" {
		bad = append(bad, fieldError{"name", "is empty: give the box a name people will see"})
	}
	cfg.Call.URL = strings.TrimSpace(st.URL)
	cfg.Call.Room = strings.TrimSpace(st.Room)
	switch st.Auth {
	case "key":
		cfg.Call.Token = ""
		cfg.Call.APIKey = strings.TrimSpace(st.APIKey)
		if st.APISecret != "" {
			cfg.Call.APISecret = st.APISecret
		}
	case "token":
		cfg.Call.APIKey, cfg.Call.APISecret = "", ""
		if st.Token != "" {
			cfg.Call.Token = strings.TrimSpace(st.Token)
		}
	default:
		bad = append(bad, fieldError{"auth", `must be "key" (API key and secret) or "token"`})
	}
	if st.Camera != "" {
		cfg.Video.Camera = st.Camera
	}
	if st.Microphone != "" {
		cfg.Audio.Microphone = st.Microphone
	}
	if st.Codec != "" {
		cfg.Video.Codec = st.Codec
	}
	if st.Contacts != nil {
		controls, contactErrs := applyContacts(st.Contacts, cfg.Controls)
		cfg.Controls = controls
		bad = append(bad, contactErrs...)
	}
	if len(bad) > 0 {
		return cfg, bad // Validate would name the same fields again
	}
	if err := cfg.Validate(); err != nil {
		bad = append(bad, formFieldErrors(err)...)
	}
	return cfg, bad
}

// formFieldErrors names the page's fields in the config's errors.
func formFieldErrors(err error) []fieldError {
	names := map[string]string{"call.url": "url", "call.room": "room", "call.api_key": "api_key", "call.api_secret": "api_secret",
		"call.token": "token", "call.identity": "name", "call.name": "name", "video.camera": "camera",
		"audio.microphone": "microphone", "video.codec": "codec", "call.room_key": "room_key",
		"controls.contacts": "contacts"}
	var out []fieldError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *config.FieldError
		if errors.As(e, &fe) {
			name, ok := names[fe.Field]
			if !ok && strings.HasPrefix(fe.Field, "controls.contact_names.") {
				name, ok = "contacts", true
			}
			if !ok {
				name = fe.Field
			}
			out = append(out, fieldError{name, fe.Reason})
			return
		}
		out = append(out, fieldError{"", e.Error()})
	}
	walk(err)
	return out
}

func (s *Server) viewOf(cfg config.Config) SettingsView {
	auth := "key"
	if cfg.Call.Token != "" {
		auth = "token"
	}
	return SettingsView{
		Name: cfg.Call.Name, URL: cfg.Call.URL, Auth: auth, APIKey: cfg.Call.APIKey,
		HasAPISecret: cfg.Call.APISecret != "", HasToken: cfg.Call.Token != "",
		Room: cfg.Call.Room, Camera: cfg.Video.Camera, Microphone: cfg.Audio.Microphone,
		Codec: cfg.Video.Codec, HasRoomKey: cfg.Call.RoomKey != "", Contacts: contactsOf(cfg.Controls),
	}
}

func writeFieldErrors(w http.ResponseWriter, bad []fieldError) {
	writeJSON(w, http.StatusBadRequest, apiError{Error: "some settings are not right", Fields: bad})
}

func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request, id string, _ *session) {
	var req setupRequest
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	boot := s.store.Boot()
	if !boot.SetupNeeded {
		writeError(w, http.StatusConflict, "the box is already set up: sign in instead")
		return
	}
	cfg := boot.Config
	if cfg.Call.Identity == config.Default().Call.Identity {
		// Two boxes in one room need two identities.
		cfg.Call.Identity = "callbox-" + randomToken()[:8]
	}
	cfg, bad := req.Settings.apply(cfg)
	if err := checkPassword(req.Password); err != nil {
		bad = append(bad, fieldError{"password", err.Error()})
	}
	if req.Settings.Auth == "key" && req.Settings.APISecret == "" && req.Settings.Token == "" {
		bad = append(bad, fieldError{"api_secret", "is empty: the call server's API secret is needed with its key"})
	}
	bad = append(bad, s.checkWiFiChoice(req.WiFi)...)
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	hash, err := hashPassword(req.Password, s.argon)
	if err != nil {
		s.log.Error("setup: cannot hash the password", "err", err)
		writeError(w, http.StatusInternalServerError, "the box could not save the password")
		return
	}
	if err := s.store.SaveConfig(cfg); err != nil {
		s.log.Error("setup: cannot save the settings", "err", err)
		writeError(w, http.StatusInternalServerError, "the box could not save the settings: "+oneLine(err))
		return
	}
	if err := s.store.SaveSecrets(Secrets{PasswordHash: hash}); err != nil {
		s.log.Error("setup: cannot save the password", "err", err)
		writeError(w, http.StatusInternalServerError, "the box could not save the password")
		return
	}
	s.mu.Lock()
	s.setupCode = ""
	for k, v := range s.sessions { // setup sessions end with setup
		if !v.admin {
			delete(s.sessions, k)
		}
	}
	s.mu.Unlock()
	s.log.Info("first-boot setup done", "name", cfg.Call.Name, "url", cfg.Call.URL, "room", cfg.Call.Room,
		"camera", cfg.Video.Camera, "microphone", cfg.Audio.Microphone)
	sess := s.newSession(w, true)
	s.ctl.Apply(s.store.Boot())
	answer := map[string]string{"csrf": sess.csrf}
	if req.WiFi != nil {
		// After the settings are saved: on the box's own access point this
		// closes the network the phone is on.
		if err := s.opts.WiFi.Connect(r.Context(), req.WiFi.SSID, req.WiFi.Passphrase); err != nil {
			s.log.Warn("setup: wifi connect failed", "ssid", req.WiFi.SSID, "err", err)
			answer["wifi_error"] = "the box could not join " + req.WiFi.SSID + ": " + oneLine(err)
		} else {
			s.log.Info("setup: wifi network chosen", "ssid", req.WiFi.SSID)
		}
	}
	writeJSON(w, http.StatusOK, answer)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.tooMany(w, r) {
		return
	}
	var req struct {
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	sec := s.store.Secrets()
	if sec.PasswordHash == "" {
		writeError(w, http.StatusConflict, "the box is not set up yet: enter the setup code shown on its screen")
		return
	}
	if len(req.Password) > maxPasswordLength {
		req.Password = req.Password[:maxPasswordLength+1] // still wrong, and cheap
	}
	ok, err := verifyPassword(req.Password, sec.PasswordHash)
	if err != nil {
		s.log.Error("login: the stored password cannot be checked", "err", err)
		writeError(w, http.StatusInternalServerError, "the stored password is damaged: a factory reset is needed")
		return
	}
	if !ok {
		s.limit.failed(clientIP(r))
		s.log.Warn("a wrong admin password was entered", "client", clientIP(r))
		writeError(w, http.StatusForbidden, "wrong password")
		return
	}
	s.limit.succeeded(clientIP(r))
	sess := s.newSession(w, true)
	writeJSON(w, http.StatusOK, map[string]string{"csrf": sess.csrf})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, id string, _ *session) {
	s.endSession(w, id)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// --- devices, settings, status, actions ---

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	writeJSON(w, http.StatusOK, map[string][]Device{
		"cameras": s.devices.Cameras(), "microphones": s.devices.Microphones(),
	})
}

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	cam := r.URL.Query().Get("camera")
	known := false
	for _, d := range s.devices.Cameras() {
		known = known || d.ID == cam
	}
	if !known {
		writeError(w, http.StatusBadRequest, "camera must be one of those /api/devices lists")
		return
	}
	jpg, err := s.devices.Snapshot(r.Context(), cam)
	if err != nil {
		writeError(w, http.StatusConflict, "no picture from this camera now (it may be in use by the call): "+oneLine(err))
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(jpg)
}

func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	writeJSON(w, http.StatusOK, s.viewOf(s.store.Boot().Config))
}

func (s *Server) handlePostSettings(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	var st Settings
	if err := decodeJSON(r, &st); err != nil {
		writeRequestError(w, err)
		return
	}
	cfg, bad := st.apply(s.store.Boot().Config)
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	if err := s.store.SaveConfig(cfg); err != nil {
		s.log.Error("settings: cannot save", "err", err)
		writeError(w, http.StatusInternalServerError, "the box could not save the settings: "+oneLine(err))
		return
	}
	s.log.Info("settings saved", "name", cfg.Call.Name, "url", cfg.Call.URL, "room", cfg.Call.Room,
		"camera", cfg.Video.Camera, "microphone", cfg.Audio.Microphone, "codec", cfg.Video.Codec)
	s.ctl.Apply(s.store.Boot())
	writeJSON(w, http.StatusOK, s.viewOf(cfg))
}

// StatusView is the status page.
type StatusView struct {
	Name        string        `json:"name"`
	Call        CallStatus    `json:"call"`
	UptimeS     int64         `json:"uptime_s"`
	CPUTempC    *float64      `json:"cpu_temp_c"` // null where the board has no sensor
	Addresses   []string      `json:"addresses"`
	Notice      string        `json:"notice,omitempty"`
	Fingerprint string        `json:"fingerprint,omitempty"`
	Network     NetworkStatus `json:"network"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	boot := s.store.Boot()
	st := s.ctl.Status()
	st.Error = s.redact(st.Error)
	writeJSON(w, http.StatusOK, StatusView{
		Name: boot.Config.Call.Name, Call: st, UptimeS: int64(s.now().Sub(s.started) / time.Second),
		CPUTempC: cpuTemperature(s.opts.ThermalDir), Addresses: localAddresses(),
		Notice: boot.Notice, Fingerprint: s.Fingerprint(), Network: s.network(r.Context()),
	})
}

// redact hides any stored secret in text from elsewhere (an error of the
// call server), so none reaches the page.
func (s *Server) redact(text string) string {
	for _, secret := range s.store.knownSecrets() {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "[hidden]")
		}
	}
	return text
}

func (s *Server) handleLog(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	lines := []string{}
	if s.opts.Logs != nil {
		for _, l := range s.opts.Logs.Lines() {
			lines = append(lines, s.redact(l))
		}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"lines": lines})
}

func (s *Server) action(do func(), what string) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
		if s.store.Boot().SetupNeeded {
			writeError(w, http.StatusConflict, "the box is not set up yet")
			return
		}
		s.log.Info("the admin asked: " + what)
		do()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
}

func (s *Server) handleFactoryReset(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	var req struct {
		Confirm string `json:"confirm"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	if req.Confirm != "reset" {
		writeError(w, http.StatusBadRequest, `confirm must be "reset": a factory reset keeps nothing`)
		return
	}
	err := s.store.Reset()
	s.mu.Lock()
	clear(s.sessions)
	s.setupCode = newSetupCode()
	s.cert, s.fingerprint = nil, ""
	s.mu.Unlock()
	s.log.Warn("factory reset: the settings, the password and the room key are gone")
	s.ctl.Apply(s.store.Boot())
	s.AnnounceSetup()
	if err != nil {
		s.log.Error("factory reset incomplete", "err", err)
		writeError(w, http.StatusInternalServerError, "the factory reset did not remove everything: "+oneLine(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// AnnounceSetup logs how to set the box up, while it needs setting up.
// The screen shows the same (another issue).
func (s *Server) AnnounceSetup() {
	if code := s.SetupCode(); code != "" {
		s.log.Warn("the box needs setting up: open the address below on a phone and enter the setup code",
			"setup_code", code, "addresses", strings.Join(localAddresses(), " "), "tls_fingerprint", s.Fingerprint())
	}
}
