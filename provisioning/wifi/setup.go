package wifi

// The box's Wi-Fi as the setup page uses it (callboxd -wpa-socket): the
// page scans and joins networks through wpa_supplicant, and when the box
// has no network for a while its own access point opens (hostapd +
// dnsmasq, with a captive portal on port 80 that sends every request to
// the setup page) until a network is joined. The state machine is
// Fallback; Setup builds its parts from the socket's path.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callbox/callbox/provisioning/internal/httpserve"
)

// The access point's addresses: a private /24 of its own.
const (
	APAddress   = "192.168.4.1"
	apRangeFrom = "192.168.4.10"
	apRangeTo   = "192.168.4.100"
)

// NetworkStatus is how the box is connected, for the page: the Wi-Fi step
// of first-boot setup may be skipped when the box has a network already.
type NetworkStatus struct {
	Wired bool   `json:"wired"`          // Ethernet with an address
	WiFi  string `json:"wifi,omitempty"` // the Wi-Fi network joined
	// AccessPoint is the box's own network while it is open for setup.
	AccessPoint string `json:"access_point,omitempty"`
	// Joining is the network the box is trying (its own network closed meanwhile).
	Joining string `json:"joining,omitempty"`
	// WiFiError says why the last network chosen could not be joined.
	WiFiError string `json:"wifi_error,omitempty"`
}

// Online reports whether the box has a network other than its own.
func (n NetworkStatus) Online() bool { return n.Wired || n.WiFi != "" }

// Chooser is the Wi-Fi as the page uses it: a scan to choose from, and the
// network chosen. *Client and *Fallback are both.
type Chooser interface {
	Scan(ctx context.Context) ([]Network, error)
	Connect(ctx context.Context, ssid, passphrase string) error
}

// SetupOptions say where the box's Wi-Fi is.
type SetupOptions struct {
	// Socket is wpa_supplicant's control socket (/run/wpa_supplicant/wlan0);
	// "": the box has no Wi-Fi to set. Its name is the interface's.
	Socket string
	// Listen is the setup page's listen address (":443"), for the captive
	// portal's redirect.
	Listen string
	Logger *slog.Logger
	// SysNet is where the kernel lists network interfaces; "" is /sys/class/net.
	SysNet string
}

// Setup is the box's Wi-Fi for the setup page: the wpa_supplicant client,
// and the access-point fallback when the socket's interface is wireless.
type Setup struct {
	client   *Client   // nil: no socket, no Wi-Fi
	fallback *Fallback // nil: no wireless interface to open an access point on
	sysNet   string
}

// NewSetup makes the box's Wi-Fi from opts; Run drives the access point.
func NewSetup(opts SetupOptions) *Setup {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Setup{sysNet: opts.SysNet}
	if s.sysNet == "" {
		s.sysNet = "/sys/class/net"
	}
	if opts.Socket == "" {
		return s
	}
	s.client = &Client{Socket: opts.Socket, ScanWait: 3 * time.Second}
	iface := filepath.Base(opts.Socket)
	if !isWireless(s.sysNet, iface) {
		log.Info("wifi: no wireless interface "+iface+": the setup page sets Wi-Fi through wpa_supplicant, and no access point opens", "wpa_socket", opts.Socket)
		return s
	}
	runDir := filepath.Join(os.TempDir(), "callbox-ap")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		log.Error("wifi: no directory for the access point's settings; it cannot open", "err", err)
		return s
	}
	ssid := accessPointName(iface)
	ap := hotspot{
		ap:     AccessPoint{Interface: iface, SSID: ssid, Address: APAddress, RangeFrom: apRangeFrom, RangeTo: apRangeTo, RunDir: runDir},
		portal: captivePortal{Listen: ":80", Page: SetupPageOnAccessPoint(opts.Listen), log: log},
	}
	s.fallback = NewFallback(FallbackOptions{Station: s.client, Hotspot: ap, SSID: ssid,
		Wired: func() bool { return wiredUp(s.sysNet) }, Logger: log})
	log.Info("wifi: watching "+iface+"; without a network the box opens its own", "ssid", ssid, "setup_page", ap.portal.Page)
	return s
}

// Chooser is what the page scans and joins with; nil when the box has no
// Wi-Fi to set.
func (s *Setup) Chooser() Chooser {
	switch {
	case s.fallback != nil:
		return s.fallback
	case s.client != nil:
		return s.client
	}
	return nil
}

// Run keeps the access point's fallback going until ctx ends; without a
// wireless interface there is nothing to run and it returns at once.
func (s *Setup) Run(ctx context.Context) {
	if s.fallback != nil {
		s.fallback.Run(ctx)
	}
}

// Status is how the box is connected, for the page.
func (s *Setup) Status(ctx context.Context) NetworkStatus {
	ns := NetworkStatus{Wired: wiredUp(s.sysNet)}
	if s.client == nil {
		return ns
	}
	if s.fallback != nil {
		st := s.fallback.State()
		ns.AccessPoint, ns.Joining, ns.WiFiError = st.AccessPoint, st.Joining, st.JoinError
		if st.Mode != ModeStation {
			return ns
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if st, err := s.client.Status(ctx); err == nil && st.Connected() {
		ns.WiFi = st.SSID
	}
	return ns
}

// isWireless reports whether the kernel calls iface a wireless interface.
func isWireless(sysNet, iface string) bool {
	for _, marker := range []string{"wireless", "phy80211"} {
		if _, err := os.Stat(filepath.Join(sysNet, iface, marker)); err == nil {
			return true
		}
	}
	return false
}

// wiredUp reports whether a non-wireless interface has a carrier and an
// address the world can answer: the box is on a network without Wi-Fi.
func wiredUp(sysNet string) bool {
	ifaces, err := net.Interfaces()
	if err != nil {
		return false
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback != 0 || ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagRunning == 0 || isWireless(sysNet, ifc.Name) {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
				return true
			}
		}
	}
	return false
}

// accessPointName is "Callbox-" and the last two bytes of the interface's
// hardware address, so two boxes in one house have two names.
func accessPointName(iface string) string {
	if ifc, err := net.InterfaceByName(iface); err == nil && len(ifc.HardwareAddr) >= 2 {
		mac := ifc.HardwareAddr
		return fmt.Sprintf("Callbox-%02X%02X", mac[len(mac)-2], mac[len(mac)-1])
	}
	return "Callbox-Setup"
}

// SetupPageOnAccessPoint is the setup page's address as a phone on the
// access point reaches it, from the page's listen address (":443",
// "0.0.0.0:8443").
func SetupPageOnAccessPoint(listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil || port == "443" || port == "" {
		return "https://" + APAddress + "/"
	}
	return "https://" + net.JoinHostPort(APAddress, port) + "/"
}

// hotspot is the access point and its captive portal, open and closed together.
type hotspot struct {
	ap     AccessPoint
	portal captivePortal
}

func (h hotspot) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- h.ap.Run(ctx) }()
	go func() { errs <- h.portal.Run(ctx) }()
	err := <-errs // the first to stop stops the other
	cancel()
	if other := <-errs; err == nil {
		err = other
	}
	return err
}

// CaptiveRedirect answers every plain-HTTP request with a redirect to the
// setup page at pageURL (https://192.168.4.1/): what a phone's
// captive-portal check meets on the box's access point. It never redirects
// to the Host the request named.
func CaptiveRedirect(pageURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, pageURL, http.StatusFound)
	})
}

// captivePortal answers plain HTTP on the access point with a redirect to
// the setup page (CaptiveRedirect).
type captivePortal struct {
	Listen string // ":80"
	Page   string // "https://192.168.4.1/"
	log    *slog.Logger
	// ready, when set, is told the address once it listens (tests).
	ready func(net.Addr)
}

func (p captivePortal) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.Listen)
	if err != nil {
		return fmt.Errorf("captive portal: %w", err)
	}
	if p.ready != nil {
		p.ready(ln.Addr())
	}
	log := p.log
	if log == nil {
		log = slog.Default()
	}
	srv := &http.Server{Handler: CaptiveRedirect(p.Page), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	err = httpserve.Run(ctx, srv, 2*time.Second, func() error { return srv.Serve(ln) })
	if err == nil || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("captive portal %s: %s", p.Listen, strings.TrimSpace(err.Error()))
}
