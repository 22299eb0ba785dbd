package wifi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/provisioning/wifi/wifitest"
)

// The tests run in a network namespace of their own (lo and a veth with
// an address): what the box's network looks like is then the test's, not
// the machine's.
func TestMain(m *testing.M) { netns.Run(m) }

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
	daemontest.CheckGoroutines(t)
	run := &apRunner{failAP: make(chan struct{})}
	addr := make(chan net.Addr, 1)
	h := hotspot{
		ap: AccessPoint{Interface: "wlan0", SSID: "Callbox-1A2B", Address: APAddress, RangeFrom: apRangeFrom,
			RangeTo: apRangeTo, RunDir: t.TempDir(), Runner: run},
		portal: captivePortal{Listen: "127.0.0.1:0", Page: SetupPageOnAccessPoint(":443"), ready: func(a net.Addr) { addr <- a }},
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
		if got := SetupPageOnAccessPoint(listen); got != want {
			t.Errorf("-listen %s: %s, want %s", listen, got, want)
		}
	}
}

func TestWirelessInterfaceAndNetworkStatus(t *testing.T) {
	sys := t.TempDir()
	for _, dir := range []string{"wlan0/wireless", "wlp2s0/phy80211", "eth0"} {
		if err := os.MkdirAll(filepath.Join(sys, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
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
	setup := NewSetup(SetupOptions{Socket: fake.Path, Listen: ":443", Logger: quiet, SysNet: sys})
	if _, isClient := setup.Chooser().(*Client); !isClient {
		t.Fatalf("the page's Wi-Fi is %T, want the wpa_supplicant client", setup.Chooser())
	}
	if ns := setup.Status(ctx); ns.WiFi != "home" || ns.AccessPoint != "" {
		t.Errorf("network %+v, want on home", ns)
	}
	fake.SetReply("STATUS", "wpa_state=SCANNING\n")
	if ns := setup.Status(ctx); ns.WiFi != "" {
		t.Errorf("network %+v while scanning, want no Wi-Fi", ns)
	}
	// The test's namespace has a veth with an address: that is a wire.
	if ns := setup.Status(ctx); !ns.Wired {
		t.Errorf("network %+v: the veth with an address was not seen as wired", ns)
	}

	if none := NewSetup(SetupOptions{Listen: ":443", Logger: quiet, SysNet: sys}); none.Chooser() != nil || none.Status(ctx).WiFi != "" {
		t.Errorf("no -wpa-socket: Wi-Fi %v", none.Chooser())
	}
}

// TestCaptivePortalProbes: on the box's access point every name resolves
// to the box, so the operating systems' "is there a captive portal?"
// requests reach port 80. Each must be sent to the setup page, never
// answered as the probe expects (that would say "you are online" and the
// phone would not open the page), and never to the Host it named.
func TestCaptivePortalProbes(t *testing.T) {
	const page = "https://192.168.4.1/"
	portal := CaptiveRedirect(page)
	for _, tt := range []struct{ who, method, host, path string }{
		{"Android", "GET", "connectivitycheck.gstatic.com", "/generate_204"},
		{"Android, older", "GET", "clients3.google.com", "/generate_204"},
		{"Chrome OS", "GET", "www.gstatic.com", "/gen_204"},
		{"iOS and macOS", "GET", "captive.apple.com", "/hotspot-detect.html"},
		{"iOS, older", "GET", "www.apple.com", "/library/test/success.html"},
		{"Windows", "GET", "www.msftconnecttest.com", "/connecttest.txt"},
		{"Windows, older", "GET", "www.msftncsi.com", "/ncsi.txt"},
		{"Firefox", "GET", "detectportal.firefox.com", "/canonical.html"},
		{"Firefox, success", "GET", "detectportal.firefox.com", "/success.txt"},
		{"GNOME", "GET", "nmcheck.gnome.org", "/check_network_status.txt"},
		{"a typed address", "GET", "example.org", "/"},
		{"a form", "POST", "example.org", "/login"},
		{"a probe by address", "HEAD", "192.168.4.1", "/generate_204?x=1"},
	} {
		t.Run(tt.who, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://"+tt.host+tt.path, strings.NewReader(""))
			rec := httptest.NewRecorder()
			portal.ServeHTTP(rec, req)
			if rec.Code != http.StatusFound {
				t.Errorf("%s %s%s: status %d, want 302", tt.method, tt.host, tt.path, rec.Code)
			}
			if loc := rec.Header().Get("Location"); loc != page {
				t.Errorf("%s %s%s: Location %q, want the setup page %s", tt.method, tt.host, tt.path, loc, page)
			}
			if body := rec.Body.String(); strings.Contains(body, "Success") || strings.Contains(body, "Microsoft") {
				t.Errorf("the answer looks like a probe's success: %q", body)
			}
		})
	}
}
