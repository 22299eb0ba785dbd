package provisioning

import (
	"context"
	"crypto/tls"
	"embed"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/callbox/callbox/call/keys"
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
	// DoNotDisturb turns do not disturb on or off on a box whose calls
	// ring; its error says why it cannot (no line to ring).
	DoNotDisturb(on bool) error
	// Share starts (on) or stops the share of the box's content input
	// (video.content_camera); its error says why it cannot (no input, no
	// signal), a *LocalError with the status to answer.
	Share(ctx context.Context, on bool) error
	// Apply is called after settings were saved (or wiped by a factory
	// reset): the daemon must run with boot from now on.
	Apply(boot Boot)
}

// CallStatus is what the status page shows about the call.
type CallStatus struct {
	State string `json:"state"` // idle, joining, in call, reconnecting, failed, setup needed, settings needed
	// Summary says State in plain words, as the screen does: "in the
	// call", "reconnecting: the network dropped 12 s ago", "back in the call".
	Summary string `json:"summary,omitempty"`
	Error   string `json:"error,omitempty"`
	// Path is how the call's sound and pictures travel, and why when not
	// the direct way: "relayed over TURN/TLS: UDP seems blocked on this
	// network". Empty when not in the call.
	Path string `json:"path,omitempty"`
	// Server is the call server the box last joined through (with a
	// cluster, the one it is on).
	Server       string        `json:"server,omitempty"`
	Room         string        `json:"room"`
	Codec        string        `json:"codec"`
	CodecReason  string        `json:"codec_reason"`
	Participants []Participant `json:"participants"` // the others in the call, in join order
	Since        time.Time     `json:"since"`
	// Encryption is what the screen says ("end-to-end encrypted",
	// "shared-key encryption", "NOT end-to-end encrypted"); Encrypted is
	// false only for the last. KeyFingerprint is what people compare, in
	// emoji (the members' verification string, or the shared key's
	// fingerprint), KeyWords the same in words as the screen writes it.
	// Outsiders are in the room without an invite: they get no keys.
	Encryption     string   `json:"encryption"`
	Encrypted      bool     `json:"encrypted"`
	KeyFingerprint string   `json:"key_fingerprint,omitempty"`
	KeyWords       string   `json:"key_words,omitempty"`
	Outsiders      []string `json:"outsiders,omitempty"`
	// BoxKey is this box's signing key (end-to-end encryption), to list
	// in call.boxes of the room's other boxes; public, as in every
	// invite link.
	BoxKey string `json:"box_key,omitempty"`
	// Ring is who rings, whom the box calls and the calls it missed, for
	// a box whose calls ring (ring.enabled); nil otherwise.
	Ring *RingStatus `json:"ring,omitempty"`
	// BrokenCameraFrames counts the camera's frames dropped because they
	// did not decode (an MJPEG webcam's truncated JPEGs): a few are
	// normal, many mean a bad cable or USB port.
	BrokenCameraFrames int64 `json:"broken_camera_frames,omitempty"`
	// Meetings are the meeting room's (meetings.calendar); nil without a
	// calendar.
	Meetings *MeetingsStatus `json:"meetings,omitempty"`
	// Share is the box's own content share; nil before the box is set up.
	Share *ShareStatus `json:"share,omitempty"`
}

// ShareStatus is the share of the box's content input (an HDMI input,
// video.content_camera).
type ShareStatus struct {
	// Input is video.content_camera; "" when the box has none.
	Input   string `json:"input"`
	Sharing bool   `json:"sharing"`
	// Signal is the input's timing while shared: "1920x1080@60".
	Signal string `json:"signal,omitempty"`
	// Summary says in plain words whether the box shares, what, or why
	// not: "not sharing: the content input has no signal".
	Summary string `json:"summary"`
}

// MeetingsStatus is what the page shows of a meeting room's calendar.
type MeetingsStatus struct {
	Now  *Meeting  `json:"now,omitempty"` // under way; the call button joins it
	Next []Meeting `json:"next"`          // the next two
	// Error says, in one line, why the calendar could not be read lately;
	// the meetings are those of the last read that worked.
	Error    string `json:"error,omitempty"`
	AutoJoin bool   `json:"auto_join"`
}

// Meeting is one meeting of the calendar.
type Meeting struct {
	Title string    `json:"title"`
	Room  string    `json:"room"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Invites lists and revokes the guests' invites of the box's calls.
type Invites interface {
	ListInvites() []keys.InviteInfo
	// RevokeInvite ends the invite named: its guest gets no more keys and
	// is removed from the room.
	RevokeInvite(ctx context.Context, name string) error
}

// Participant is someone else in the call.
type Participant struct {
	Identity string `json:"identity"`
	Name     string `json:"name"` // as they gave it; may be empty
	Muted    bool   `json:"muted"`
	// Video is their camera's codec ("H264", "VP8"), "" without a camera.
	Video string `json:"video"`
	// Pictures counts their camera's pictures the box's screen has shown
	// since they came (0 without a screen): over a while, the frame rate
	// the room sees of them.
	Pictures int `json:"pictures"`
	// Decoder is what decodes their camera: "software", or "hardware, "
	// and the m2m device; "" before their first picture.
	Decoder string `json:"decoder"`
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
	// Invites are the box's guest invites (invites.go); nil: none to show.
	Invites Invites
}

// Server is the page and API. Its files: session.go (cookies, CSRF,
// guards), json.go (requests and answers), signin.go (the setup code and
// the admin password), setup.go (first boot), settings.go, status.go,
// devices.go, actions.go, wifi_api.go, tls.go.
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
	// checking, in tests, is called as each guess is checked, to hold
	// guesses in flight.
	checking func()

	mu          sync.Mutex
	setupCode   string              // guarded by mu; "" when setup is done
	sessions    map[string]*session // guarded by mu
	cert        *tls.Certificate    // guarded by mu; nil until first served, and after a factory reset
	fingerprint string              // guarded by mu; of cert, for the page
	listen      net.Addr            // guarded by mu; where the page listens, nil before ListenAndServe
	// provisionProblem is why the provisioning file at provisionFile was
	// not taken (provision.go); guarded by mu.
	provisionProblem, provisionFile string
}

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
	boot := s.store.Boot()
	if boot.Notice != "" {
		s.log.Warn(boot.Notice)
	}
	if boot.SetupNeeded {
		s.setupCode = newSetupCode()
	}
	return s
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
	mux.HandleFunc("GET /api/invites", s.adminOnly(s.handleInvites))
	mux.HandleFunc("POST /api/invites/revoke", s.adminOnly(s.handleRevokeInvite))
	mux.HandleFunc("POST /api/call", s.adminOnly(s.action(func() { s.ctl.Call() }, "call")))
	mux.HandleFunc("POST /api/hangup", s.adminOnly(s.action(func() { s.ctl.HangUp() }, "hang up")))
	mux.HandleFunc("POST /api/restart", s.adminOnly(s.action(func() { s.ctl.Restart() }, "restart")))
	mux.HandleFunc("POST /api/do-not-disturb", s.adminOnly(s.handleDoNotDisturb))
	mux.HandleFunc("POST /api/share", s.adminOnly(s.handleShare))
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
