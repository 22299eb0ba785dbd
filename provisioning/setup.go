package provisioning

// First-boot setup: the one-time setup code that proves someone is at the
// box (its screen, or its console's log), and the one request that saves
// the settings and the admin password together.

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/callbox/callbox/config"
)

const (
	setupCodeAlpha   = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O, 1/I
	setupCodeLetters = 8
)

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
	cfg, bad := req.Settings.apply(withOwnIdentity(boot.Config))
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
	if err := s.finishSetup(cfg, req.Password, "the setup page"); err != nil {
		s.log.Error("setup: the box could not be set up", "err", err)
		writeError(w, http.StatusInternalServerError, "the box could not be set up: "+oneLine(err))
		return
	}
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

// withOwnIdentity gives a box whose identity is still the default one an
// identity of its own: two boxes in one room need two.
func withOwnIdentity(cfg config.Config) config.Config {
	if cfg.Call.Identity == config.Default().Call.Identity {
		cfg.Call.Identity = "callbox-" + randomToken()[:8]
	}
	return cfg
}

// finishSetup is the one way first-boot setup saves, whoever set the box
// up (from names it for the log: the page, a provisioning file): the
// settings, checked already, and the admin password, checked already too,
// as its argon2id hash. The setup code is spent and setup sessions end;
// the caller then runs the call (Controller.Apply).
func (s *Server) finishSetup(cfg config.Config, password, from string) error {
	hash, err := hashPassword(password, s.argon)
	if err != nil {
		return fmt.Errorf("hash the admin password: %w", err)
	}
	if err := s.store.SaveConfig(cfg); err != nil {
		return fmt.Errorf("save the settings: %w", err)
	}
	if err := s.store.SaveSecrets(Secrets{PasswordHash: hash}); err != nil {
		return fmt.Errorf("save the admin password: %w", err)
	}
	s.mu.Lock()
	s.setupCode = ""
	for k, v := range s.sessions { // setup sessions end with setup
		if !v.admin {
			delete(s.sessions, k)
		}
	}
	s.mu.Unlock()
	s.log.Info("first-boot setup done", "by", from, "name", cfg.Call.Name, "url", cfg.Call.URL, "room", cfg.Call.Room,
		"camera", cfg.Video.Camera, "microphone", cfg.Audio.Microphone)
	return nil
}

// AnnounceSetup logs how to set the box up, while it needs setting up:
// the page's addresses, the setup code (see the package doc: on purpose)
// and the certificate's fingerprint, made first if need be (after a
// factory reset). The screen shows the same.
func (s *Server) AnnounceSetup() {
	code := s.SetupCode()
	if code == "" {
		return
	}
	if _, err := s.certificate(); err != nil {
		s.log.Error("the setup page has no TLS certificate", "err", err)
	}
	s.mu.Lock()
	listen := s.listen
	s.mu.Unlock()
	s.log.Warn("the box needs setting up: open the address below on a phone and enter the setup code",
		"setup_code", code, "addresses", strings.Join(SetupLinks(listen), " "), "tls_fingerprint", s.Fingerprint())
}

// SetupLinks is the setup page's address as a phone reaches it, for the
// screen and the setup announcement: https://ADDR/ (with the port unless
// 443) on each of the box's addresses when the page listens on all of
// them (or listen is nil), on the one address it listens on otherwise.
func SetupLinks(listen net.Addr) []string {
	tcp, _ := listen.(*net.TCPAddr)
	port := ""
	if tcp != nil && tcp.Port != 443 {
		port = fmt.Sprint(tcp.Port)
	}
	addrs := localAddresses()
	if tcp != nil && tcp.IP != nil && !tcp.IP.IsUnspecified() {
		addrs = []string{tcp.IP.String()}
	}
	var links []string
	for _, a := range addrs {
		host := a
		if port != "" {
			host = net.JoinHostPort(a, port)
		} else if strings.Contains(a, ":") {
			host = "[" + a + "]"
		}
		links = append(links, "https://"+host+"/")
	}
	return links
}
