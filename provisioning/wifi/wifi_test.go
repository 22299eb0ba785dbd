package wifi

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/provisioning/wifi/wifitest"
)

// startFake serves a fake wpa_supplicant control socket (wifitest) and
// returns a client of it.
func startFake(t *testing.T, replies map[string]string) (*wifitest.Supplicant, *Client) {
	t.Helper()
	f := wifitest.Start(t, "wlan0", replies)
	return f, &Client{Socket: f.Path, LocalDir: f.Dir}
}

func TestScan(t *testing.T) {
	results := "bssid / frequency / signal level / flags / ssid\n" +
		"00:11:22:33:44:55\t2412\t-70\t[WPA2-PSK-CCMP][ESS]\thome\n" +
		"00:11:22:33:44:56\t5180\t-45\t[WPA2-PSK-CCMP][ESS]\thome\n" +
		"00:11:22:33:44:57\t2437\t-60\t[ESS]\tcaf\\xc3\\xa9 \\\"free\\\"\n" +
		"00:11:22:33:44:58\t2437\t-50\t[WPA2-PSK-CCMP][ESS]\t\n"
	f, c := startFake(t, map[string]string{"SCAN": "FAIL-BUSY\n", "SCAN_RESULTS": results})
	got, err := c.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Network{{"home", -45, true}, {`café "free"`, -60, false}}
	if !slices.Equal(got, want) {
		t.Errorf("scan found %+v, want %+v", got, want)
	}
	if s := f.Sent(); !slices.Equal(s, []string{"SCAN", "SCAN_RESULTS"}) {
		t.Errorf("sent %q", s)
	}
}

func TestConnect(t *testing.T) {
	f, c := startFake(t, map[string]string{"ADD_NETWORK": "3\n"})
	if err := c.Connect(context.Background(), "home", "passphrase-123"); err != nil {
		t.Fatal(err)
	}
	psk, _ := pbkdf2.Key(sha1.New, "passphrase-123", []byte("home"), 4096, 32)
	want := []string{"ADD_NETWORK", "SET_NETWORK 3 ssid " + hex.EncodeToString([]byte("home")),
		"SET_NETWORK 3 psk " + hex.EncodeToString(psk), "ENABLE_NETWORK 3", "SELECT_NETWORK 3", "SAVE_CONFIG"}
	if s := f.Sent(); !slices.Equal(s, want) {
		t.Errorf("sent %q\nwant %q", s, want)
	}
	for _, cmd := range f.Sent() {
		if strings.Contains(cmd, "passphrase-123") {
			t.Errorf("the passphrase went to wpa_supplicant in clear: %q", cmd)
		}
	}
}

func TestConnectOpenNetworkAndFailures(t *testing.T) {
	f, c := startFake(t, map[string]string{"ADD_NETWORK": "0\n"})
	if err := c.Connect(context.Background(), "cafe", ""); err != nil {
		t.Fatal(err)
	}
	if s := f.Sent(); !slices.Contains(s, "SET_NETWORK 0 key_mgmt NONE") {
		t.Errorf("an open network was not set as one: %q", s)
	}

	f, c = startFake(t, map[string]string{"ADD_NETWORK": "1\n", "SAVE_CONFIG": "FAIL\n"})
	err := c.Connect(context.Background(), "home", "passphrase-123")
	if err == nil || !strings.Contains(err.Error(), `SAVE_CONFIG answered "FAIL"`) || strings.Contains(err.Error(), "passphrase-123") {
		t.Errorf("a refused save: %v", err)
	}
	if s := f.Sent(); s[len(s)-1] != "REMOVE_NETWORK 1" {
		t.Errorf("the half-added network was not removed: %q", s)
	}
	// When the removal fails too, the error says that the network stays.
	_, c = startFake(t, map[string]string{"ADD_NETWORK": "1\n", "SAVE_CONFIG": "FAIL\n", "REMOVE_NETWORK": "FAIL\n"})
	err = c.Connect(context.Background(), "home", "passphrase-123")
	if err == nil || !strings.Contains(err.Error(), `SAVE_CONFIG answered "FAIL"`) || !strings.Contains(err.Error(), "network 1 stays") {
		t.Errorf("a refused save and a refused removal: %v", err)
	}
	for _, tt := range []struct{ ssid, pass string }{{"", "passphrase"}, {strings.Repeat("x", 33), ""}, {"home", "short"}} {
		if err := c.Connect(context.Background(), tt.ssid, tt.pass); err == nil {
			t.Errorf("Connect(%q, %q) accepted", tt.ssid, tt.pass)
		}
	}
}

func TestNoSupplicant(t *testing.T) {
	dir := t.TempDir()
	c := &Client{Socket: filepath.Join(dir, "wlan0"), LocalDir: dir}
	_, err := c.Scan(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is wpa_supplicant running") {
		t.Errorf("no wpa_supplicant: %v", err)
	}
}

type recordRunner struct {
	mu   sync.Mutex
	runs [][]string
	fail string // this program exits at once with an error
}

func (r *recordRunner) Run(ctx context.Context, name string, args ...string) error {
	r.mu.Lock()
	r.runs = append(r.runs, append([]string{name}, args...))
	r.mu.Unlock()
	if name == r.fail {
		return errors.New("exit status 1")
	}
	if name == "ip" {
		return nil
	}
	<-ctx.Done()
	return nil
}

func TestAccessPoint(t *testing.T) {
	ap := AccessPoint{Interface: "wlan0", SSID: "Callbox-1A2B", Address: "192.168.4.1",
		RangeFrom: "192.168.4.10", RangeTo: "192.168.4.100", RunDir: t.TempDir()}
	conf, err := ap.HostapdConfig()
	if err != nil || !strings.Contains(conf, "ssid=Callbox-1A2B\n") || !strings.Contains(conf, "channel=6\n") {
		t.Errorf("hostapd.conf %q, %v", conf, err)
	}
	dns, _ := ap.DnsmasqConfig()
	if !strings.Contains(dns, "address=/#/192.168.4.1\n") || !strings.Contains(dns, "dhcp-range=192.168.4.10,192.168.4.100") {
		t.Errorf("dnsmasq.conf does not send every name to the box: %q", dns)
	}
	bad := ap
	bad.SSID = "evil\ninterface=eth0"
	if _, err := bad.HostapdConfig(); err == nil {
		t.Errorf("a network name with a newline was accepted")
	}

	run := &recordRunner{fail: "dnsmasq"}
	ap.Runner = run
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = ap.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "dnsmasq") {
		t.Errorf("dnsmasq failing: %v, want an error naming it", err)
	}
	if len(run.runs) != 3 || run.runs[0][0] != "ip" {
		t.Errorf("ran %q", run.runs)
	}
	if data, _ := os.ReadFile(filepath.Join(ap.RunDir, "hostapd.conf")); string(data) != conf {
		t.Errorf("hostapd.conf on disk differs")
	}
}

func TestStatusAndKnownNetworks(t *testing.T) {
	f, c := startFake(t, map[string]string{
		"STATUS":        "bssid=00:11:22:33:44:55\nfreq=2412\nssid=caf\\xc3\\xa9\nid=0\nmode=station\nwpa_state=COMPLETED\nip_address=192.168.1.20\n",
		"LIST_NETWORKS": "network id / ssid / bssid / flags\n0\thome\tany\t[CURRENT]\n1\toffice\tany\t\n",
	})
	st, err := c.Status(context.Background())
	if err != nil || !st.Connected() || st.SSID != "café" {
		t.Errorf("status %+v, %v; want connected to café", st, err)
	}
	if n, err := c.KnownNetworks(context.Background()); n != 2 || err != nil {
		t.Errorf("known networks %d, %v; want 2", n, err)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Error(err)
	}
	if err := c.Reconnect(context.Background()); err != nil {
		t.Error(err)
	}
	if s := f.Sent(); !slices.Equal(s, []string{"STATUS", "LIST_NETWORKS", "DISCONNECT", "RECONNECT"}) {
		t.Errorf("sent %q", s)
	}
	f.SetReply("STATUS", "wpa_state=DISCONNECTED\n")
	if st, err := c.Status(context.Background()); err != nil || st.Connected() || st.State != "DISCONNECTED" {
		t.Errorf("status %+v, %v; want disconnected", st, err)
	}
	f.SetReply("STATUS", "FAIL\n")
	if _, err := c.Status(context.Background()); err == nil {
		t.Errorf("a STATUS without wpa_state was taken as a status")
	}
}
