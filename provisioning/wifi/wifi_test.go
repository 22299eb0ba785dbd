package wifi

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSupplicant answers on a unix datagram socket as wpa_supplicant's
// control interface does, from a table of replies, and records commands.
type fakeSupplicant struct {
	mu       sync.Mutex
	commands []string
	replies  map[string]string // by command verb; default "OK"
}

func startFake(t *testing.T, replies map[string]string) (*fakeSupplicant, *Client) {
	t.Helper()
	dir, err := os.MkdirTemp("", "wpa") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "wlan0")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeSupplicant{replies: replies}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			cmd := string(buf[:n])
			f.mu.Lock()
			f.commands = append(f.commands, cmd)
			reply, ok := f.replies[verb(cmd)]
			f.mu.Unlock()
			if !ok {
				reply = "OK\n"
			}
			conn.WriteToUnix([]byte("<3>CTRL-EVENT-SCAN-STARTED "), from) // events may come first
			conn.WriteToUnix([]byte(reply), from)
		}
	}()
	return f, &Client{Socket: path, LocalDir: dir}
}

func (f *fakeSupplicant) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.commands)
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
	if s := f.sent(); !slices.Equal(s, []string{"SCAN", "SCAN_RESULTS"}) {
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
	if s := f.sent(); !slices.Equal(s, want) {
		t.Errorf("sent %q\nwant %q", s, want)
	}
	for _, cmd := range f.sent() {
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
	if s := f.sent(); !slices.Contains(s, "SET_NETWORK 0 key_mgmt NONE") {
		t.Errorf("an open network was not set as one: %q", s)
	}

	f, c = startFake(t, map[string]string{"ADD_NETWORK": "1\n", "SAVE_CONFIG": "FAIL\n"})
	err := c.Connect(context.Background(), "home", "passphrase-123")
	if err == nil || !strings.Contains(err.Error(), `SAVE_CONFIG answered "FAIL"`) || strings.Contains(err.Error(), "passphrase-123") {
		t.Errorf("a refused save: %v", err)
	}
	if s := f.sent(); s[len(s)-1] != "REMOVE_NETWORK 1" {
		t.Errorf("the half-added network was not removed: %q", s)
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
