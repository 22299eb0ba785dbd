package main

// Wi-Fi for the box as it ships (-data with -wpa-socket): the setup page
// scans and joins networks through wpa_supplicant, and when the box has no
// network for a while its own access point opens (hostapd + dnsmasq, with
// a captive portal on port 80 that sends every request to the setup page)
// until a network is joined. The state machine is wifi.Fallback; this file
// only builds its parts.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/provisioning/wifi"
)

// The access point's addresses: a private /24 of its own.
const (
	apAddress   = "192.168.4.1"
	apRangeFrom = "192.168.4.10"
	apRangeTo   = "192.168.4.100"
	sysClassNet = "/sys/class/net"
)

// boxWiFi is the box's Wi-Fi as the setup page sees it.
type boxWiFi struct {
	client   *wifi.Client   // nil: no -wpa-socket, no Wi-Fi
	fallback *wifi.Fallback // nil: no wireless interface to open an access point on
	sysNet   string
}

// startWiFi makes the page's Wi-Fi from -wpa-socket and, when the socket
// names a wireless interface (/run/wpa_supplicant/wlan0: wlan0), runs the
// access-point fallback until ctx ends. It returns what provisioning.Options
// takes: the Wi-Fi (nil without a socket) and the network's state.
func startWiFi(ctx context.Context, log *slog.Logger, wpaSocket, listen string) (provisioning.WiFi, func(context.Context) provisioning.NetworkStatus) {
	w := &boxWiFi{sysNet: sysClassNet}
	if wpaSocket == "" {
		return nil, w.status
	}
	w.client = &wifi.Client{Socket: wpaSocket, ScanWait: 3 * time.Second}
	iface := filepath.Base(wpaSocket)
	if !isWireless(w.sysNet, iface) {
		log.Info("wifi: no wireless interface "+iface+": the setup page sets Wi-Fi through wpa_supplicant, and no access point opens", "wpa_socket", wpaSocket)
		return w.client, w.status
	}
	runDir := filepath.Join(os.TempDir(), "callbox-ap")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		log.Error("wifi: no directory for the access point's settings; it cannot open", "err", err)
		return w.client, w.status
	}
	ssid := accessPointName(iface)
	ap := hotspot{
		ap:     wifi.AccessPoint{Interface: iface, SSID: ssid, Address: apAddress, RangeFrom: apRangeFrom, RangeTo: apRangeTo, RunDir: runDir},
		portal: captivePortal{Listen: ":80", Page: setupPageOnAccessPoint(listen)},
	}
	w.fallback = wifi.NewFallback(wifi.FallbackOptions{Station: w.client, Hotspot: ap, SSID: ssid,
		Wired: func() bool { return wiredUp(w.sysNet) }, Logger: log})
	log.Info("wifi: watching "+iface+"; without a network the box opens its own", "ssid", ssid, "setup_page", ap.portal.Page)
	go w.fallback.Run(ctx)
	return w.fallback, w.status
}

// status is how the box is connected, for the page.
func (w *boxWiFi) status(ctx context.Context) provisioning.NetworkStatus {
	ns := provisioning.NetworkStatus{Wired: wiredUp(w.sysNet)}
	if w.client == nil {
		return ns
	}
	if w.fallback != nil {
		st := w.fallback.State()
		ns.AccessPoint, ns.Joining, ns.WiFiError = st.AccessPoint, st.Joining, st.JoinError
		if st.Mode != wifi.ModeStation {
			return ns
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if st, err := w.client.Status(ctx); err == nil && st.Connected() {
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

// setupPageOnAccessPoint is the setup page's address as a phone on the
// access point reaches it, from -listen (":443", "0.0.0.0:8443").
func setupPageOnAccessPoint(listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil || port == "443" || port == "" {
		return "https://" + apAddress + "/"
	}
	return "https://" + net.JoinHostPort(apAddress, port) + "/"
}

// hotspot is the access point and its captive portal, open and closed together.
type hotspot struct {
	ap     wifi.AccessPoint
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

// captivePortal answers plain HTTP on the access point with a redirect to
// the setup page (provisioning.CaptiveRedirect).
type captivePortal struct {
	Listen string // ":80"
	Page   string // "https://192.168.4.1/"
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
	srv := &http.Server{Handler: provisioning.CaptiveRedirect(p.Page), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug)}
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(shutdown)
		case <-stopped:
		}
	}()
	err = srv.Serve(ln)
	close(stopped)
	if errors.Is(err, http.ErrServerClosed) || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("captive portal %s: %s", p.Listen, strings.TrimSpace(err.Error()))
}
