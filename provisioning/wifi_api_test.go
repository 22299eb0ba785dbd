package provisioning

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/callbox/callbox/provisioning/wifi"
)

type recordingWiFi struct {
	joined []string
	fail   error
}

func (f *recordingWiFi) Scan(context.Context) ([]wifi.Network, error) { return nil, nil }
func (f *recordingWiFi) Connect(_ context.Context, ssid, pass string) error {
	f.joined = append(f.joined, ssid+"/"+pass)
	return f.fail
}

func TestSetupWithWiFi(t *testing.T) {
	for _, tt := range []struct {
		name       string
		choice     *WiFiChoice
		fail       error
		status     int
		field      string
		joined     string
		wifiError  string
		savedSetup bool
	}{
		{"no Wi-Fi chosen (on Ethernet)", nil, nil, 200, "", "", "", true},
		{"a secured network", &WiFiChoice{SSID: "home", Passphrase: "wifi-pass-123"}, nil, 200, "", "home/wifi-pass-123", "", true},
		{"an open network", &WiFiChoice{SSID: "cafe"}, nil, 200, "", "cafe/", "", true},
		{"a short passphrase", &WiFiChoice{SSID: "home", Passphrase: "short"}, nil, 400, "passphrase", "", "", false},
		{"no network name", &WiFiChoice{SSID: ""}, nil, 400, "ssid", "", "", false},
		{"wpa_supplicant refuses", &WiFiChoice{SSID: "home", Passphrase: "wifi-pass-123"}, errors.New(`SAVE_CONFIG answered "FAIL"`), 200, "",
			"home/wifi-pass-123", `the box could not join home: SAVE_CONFIG answered "FAIL"`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBox(t)
			w := &recordingWiFi{fail: tt.fail}
			b.srv.opts.WiFi = w
			r := b.post("/api/setup/code", map[string]string{"code": b.srv.SetupCode()})
			b.csrf = r.json(t)["csrf"].(string)
			r = b.post("/api/setup", setupRequest{Password: goodPassword, Settings: goodSettings, WiFi: tt.choice})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.field != "" && !strings.Contains(string(r.body), `"field":"`+tt.field+`"`) {
				t.Errorf("answer %s does not name %s", r.body, tt.field)
			}
			if got := strings.Join(w.joined, ","); got != tt.joined {
				t.Errorf("joined %q, want %q", got, tt.joined)
			}
			if got, _ := r.json(t)["wifi_error"].(string); got != tt.wifiError {
				t.Errorf("wifi_error %q, want %q", got, tt.wifiError)
			}
			if set := !b.store.Boot().SetupNeeded; set != tt.savedSetup {
				t.Errorf("set up: %v, want %v", set, tt.savedSetup)
			}
			if strings.Contains(b.log.String(), "wifi-pass-123") {
				t.Errorf("the Wi-Fi passphrase was logged")
			}
		})
	}
}

func TestNetworkStatusOnThePage(t *testing.T) {
	b := newBox(t)
	b.srv.opts.Network = func(context.Context) NetworkStatus {
		return NetworkStatus{AccessPoint: "Callbox-1A2B", WiFiError: "the box could not join home: not connected after 45s"}
	}
	if st := b.get("/api/state").json(t); st["network"] != nil {
		t.Errorf("the network is told before the setup code: %v", st)
	}
	r := b.post("/api/setup/code", map[string]string{"code": b.srv.SetupCode()})
	b.csrf = r.json(t)["csrf"].(string)
	net, _ := b.get("/api/state").json(t)["network"].(map[string]any)
	if net["access_point"] != "Callbox-1A2B" || net["wired"] != false || !strings.Contains(net["wifi_error"].(string), "could not join home") {
		t.Errorf("network during setup %v", net)
	}
	b.srv.opts.Network = func(context.Context) NetworkStatus { return NetworkStatus{Wired: true, WiFi: "home"} }
	b.setUpAgain()
	net, _ = b.get("/api/status").json(t)["network"].(map[string]any)
	if net["wired"] != true || net["wifi"] != "home" {
		t.Errorf("network on the status page %v", net)
	}
}

// setUpAgain finishes setup with a setup session already open.
func (b *box) setUpAgain() {
	b.t.Helper()
	r := b.post("/api/setup", setupRequest{Password: goodPassword, Settings: goodSettings})
	b.expect(r, 200, "setup")
	b.csrf = r.json(b.t)["csrf"].(string)
}
