package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/provisioning/wifi"
	"github.com/callbox/callbox/provisioning/wifi/wifitest"
)

// apRunner stands in for ip, hostapd and dnsmasq: hostapd fails when told.
type apRunner struct {
	mu     sync.Mutex
	ran    []string
	failAP chan struct{} // closed: hostapd exits with an error
}

func (r *apRunner) Run(ctx context.Context, name string, args ...string) error {
	r.mu.Lock()
	r.ran = append(r.ran, name)
	r.mu.Unlock()
	if name == "ip" {
		return nil
	}
	if name == "hostapd" {
		select {
		case <-ctx.Done():
			return nil
		case <-r.failAP:
			return errors.New("exit status 1: nl80211 driver initialization failed")
		}
	}
	<-ctx.Done()
	return nil
}

// TestHotspotRedirectsProbesAndStopsWithHostapd: while the access point
// is up, the portal answers every probe with the setup page over real
// HTTP; when hostapd dies the portal closes too, and the error names hostapd.
func TestHotspotRedirectsProbesAndStopsWithHostapd(t *testing.T) {
	run := &apRunner{failAP: make(chan struct{})}
	addr := make(chan net.Addr, 1)
	h := hotspot{
		ap: wifi.AccessPoint{Interface: "wlan0", SSID: "Callbox-1A2B", Address: apAddress, RangeFrom: apRangeFrom,
			RangeTo: apRangeTo, RunDir: t.TempDir(), Runner: run},
		portal: captivePortal{Listen: "127.0.0.1:0", Page: setupPageOnAccessPoint(":443"), ready: func(a net.Addr) { addr <- a }},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var portal net.Addr
	select {
	case portal = <-addr:
	case err := <-done:
		t.Fatalf("the hotspot stopped at once: %v", err)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, probe := range []string{"/generate_204", "/hotspot-detect.html", "/connecttest.txt", "/ncsi.txt", "/success.txt", "/"} {
		req, _ := http.NewRequest("GET", "http://"+portal.String()+probe, nil)
		req.Host = "connectivitycheck.gstatic.com"
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://192.168.4.1/" {
			t.Errorf("%s: %d to %q, want 302 to the setup page", probe, res.StatusCode, res.Header.Get("Location"))
		}
	}

	close(run.failAP)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "hostapd") || !strings.Contains(err.Error(), "nl80211") {
			t.Errorf("the hotspot stopped with %v; want hostapd's error", err)
		}
	case <-ctx.Done():
		t.Fatal("hostapd died and the hotspot kept going")
	}
	if _, err := net.DialTimeout("tcp", portal.String(), time.Second); err == nil {
		t.Errorf("the portal still answers after the access point stopped")
	}
}

func TestCaptivePortalNeedsItsPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	err = captivePortal{Listen: busy.Addr().String(), Page: "https://192.168.4.1/"}.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "captive portal") {
		t.Errorf("a taken port: %v, want an error naming the captive portal", err)
	}
}

func TestSetupPageOnAccessPoint(t *testing.T) {
	for listen, want := range map[string]string{
		":443": "https://192.168.4.1/", "0.0.0.0:8443": "https://192.168.4.1:8443/", "bad": "https://192.168.4.1/",
	} {
		if got := setupPageOnAccessPoint(listen); got != want {
			t.Errorf("-listen %s: %s, want %s", listen, got, want)
		}
	}
}

func TestWirelessInterfaceAndNetworkStatus(t *testing.T) {
	sys := t.TempDir()
	os.MkdirAll(filepath.Join(sys, "wlan0", "wireless"), 0o755)
	os.MkdirAll(filepath.Join(sys, "wlp2s0", "phy80211"), 0o755)
	os.MkdirAll(filepath.Join(sys, "eth0"), 0o755)
	for iface, want := range map[string]bool{"wlan0": true, "wlp2s0": true, "eth0": false, "nothing": false} {
		if got := isWireless(sys, iface); got != want {
			t.Errorf("isWireless(%s) = %v", iface, got)
		}
	}

	// A socket whose interface is not wireless: the page gets the client,
	// no access point is run, and the network says which Wi-Fi is joined.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fake := wifitest.Start(t, "wlan-test0", map[string]string{"STATUS": "wpa_state=COMPLETED\nssid=home\n"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, network := startWiFi(ctx, quiet, fake.Path, ":443")
	if _, isClient := w.(*wifi.Client); !isClient {
		t.Fatalf("the page's Wi-Fi is %T, want the wpa_supplicant client", w)
	}
	if ns := network(ctx); ns.WiFi != "home" || ns.AccessPoint != "" {
		t.Errorf("network %+v, want on home", ns)
	}
	fake.SetReply("STATUS", "wpa_state=SCANNING\n")
	if ns := network(ctx); ns.WiFi != "" {
		t.Errorf("network %+v while scanning, want no Wi-Fi", ns)
	}
	// The test's namespace has a veth with an address: that is a wire.
	if ns := network(ctx); !ns.Wired {
		t.Errorf("network %+v: the veth with an address was not seen as wired", ns)
	}

	if w, network := startWiFi(ctx, quiet, "", ":443"); w != nil || network(ctx).WiFi != "" {
		t.Errorf("no -wpa-socket: Wi-Fi %v", w)
	}
}
