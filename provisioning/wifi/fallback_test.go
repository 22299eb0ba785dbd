package wifi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The fallback's tests run in a synctest bubble: time is the bubble's fake
// clock, so the 30 s grace period and the retries take no real time.

// fakeStation is wpa_supplicant as the fallback sees it.
type fakeStation struct {
	mu        sync.Mutex
	connected bool
	ssid      string
	joinable  map[string]bool // networks Connect will join
	known     int
	calls     []string
}

func (s *fakeStation) record(c string) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *fakeStation) Status(context.Context) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connected {
		return Status{State: "COMPLETED", SSID: s.ssid}, nil
	}
	return Status{State: "DISCONNECTED"}, nil
}

func (s *fakeStation) Scan(context.Context) ([]Network, error) {
	s.record("scan")
	return []Network{{SSID: "home", SignalDB: -50, Secured: true}}, nil
}

func (s *fakeStation) Connect(_ context.Context, ssid, passphrase string) error {
	s.record("connect " + ssid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joinable[ssid] {
		s.connected, s.ssid = true, ssid
	}
	return nil
}

func (s *fakeStation) Disconnect(context.Context) error { s.record("disconnect"); return nil }

func (s *fakeStation) Reconnect(context.Context) error {
	s.record("reconnect")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known > 0 && s.joinable["known"] {
		s.connected, s.ssid = true, "known"
	}
	return nil
}

func (s *fakeStation) KnownNetworks(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.known, nil
}

func (s *fakeStation) setConnected(v bool) {
	s.mu.Lock()
	s.connected = v
	s.mu.Unlock()
}

func (s *fakeStation) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// fakeHotspot is hostapd, dnsmasq and the portal: open until closed, or
// until failing says to stop at once with an error.
type fakeHotspot struct {
	mu      sync.Mutex
	up      bool
	opened  []time.Time
	failing int // the next this many opens fail at once
}

func (h *fakeHotspot) Run(ctx context.Context) error {
	h.mu.Lock()
	h.opened = append(h.opened, time.Now())
	if h.failing > 0 {
		h.failing--
		h.mu.Unlock()
		return errors.New("access point: hostapd: exit status 1: nl80211: Could not configure driver mode")
	}
	h.up = true
	h.mu.Unlock()
	<-ctx.Done()
	h.mu.Lock()
	h.up = false
	h.mu.Unlock()
	return nil
}

func (h *fakeHotspot) isUp() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

func (h *fakeHotspot) opens() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.opened)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// startFallback runs a fallback in the bubble until the test's end.
func startFallback(t *testing.T, st *fakeStation, hs *fakeHotspot, wired func() bool) (*Fallback, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	f := NewFallback(FallbackOptions{Station: st, Hotspot: hs, SSID: "Callbox-1A2B", Wired: wired,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if hs.isUp() {
			t.Errorf("the access point is still open after Run returned")
		}
	})
	return f, logs
}

func TestNoNetworkOpensTheAccessPointAfterTheGracePeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, hs := &fakeStation{}, &fakeHotspot{}
		f, logs := startFallback(t, st, hs, nil)
		time.Sleep(29 * time.Second)
		synctest.Wait()
		if hs.isUp() || f.State().Mode != ModeStation {
			t.Fatalf("the access point opened before the grace period ended: %+v", f.State())
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if !hs.isUp() {
			t.Fatalf("no access point 32 s without a network; log:\n%s", logs)
		}
		if got := f.State(); got.Mode != ModeAccessPoint || got.AccessPoint != "Callbox-1A2B" {
			t.Errorf("state %+v", got)
		}
		if calls := st.sent(); !slices.Equal(calls, []string{"scan", "disconnect"}) {
			t.Errorf("before opening, the station was asked %q; want a scan, then the radio freed", calls)
		}
		// The page's list comes from the scan made before: the radio is the AP's now.
		nets, err := f.Scan(context.Background())
		if err != nil || len(nets) != 1 || nets[0].SSID != "home" || len(st.sent()) != 2 {
			t.Errorf("scan while the access point is open: %v, %v (station asked %q)", nets, err, st.sent())
		}
		if !strings.Contains(logs.String(), "the box opens its own Wi-Fi network for setup") {
			t.Errorf("no log line says why the access point opened:\n%s", logs)
		}
	})
}

func TestANetworkKeepsTheAccessPointClosed(t *testing.T) {
	for _, tt := range []struct {
		name  string
		st    *fakeStation
		wired bool
	}{
		{"on Wi-Fi", &fakeStation{connected: true}, false},
		{"on Ethernet", &fakeStation{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				hs := &fakeHotspot{}
				startFallback(t, tt.st, hs, func() bool { return tt.wired })
				time.Sleep(10 * time.Minute)
				synctest.Wait()
				if len(hs.opens()) != 0 {
					t.Errorf("the access point opened although the box has a network")
				}
			})
		})
	}
}

func TestJoiningTheChosenNetworkClosesTheAccessPoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, hs := &fakeStation{joinable: map[string]bool{"home": true}}, &fakeHotspot{}
		f, logs := startFallback(t, st, hs, nil)
		time.Sleep(40 * time.Second)
		synctest.Wait()
		if !hs.isUp() {
			t.Fatal("no access point")
		}
		if err := f.Connect(context.Background(), "home", "short"); err == nil {
			t.Errorf("a 5-character passphrase was taken")
		}
		if err := f.Connect(context.Background(), "home", "passphrase-123"); err != nil {
			t.Fatalf("connect while the access point is open: %v", err)
		}
		synctest.Wait()
		if !hs.isUp() {
			t.Errorf("the access point closed before the page's answer could get out")
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if hs.isUp() {
			t.Fatalf("the access point is still open after the box joined; log:\n%s", logs)
		}
		if got := f.State(); got.Mode != ModeStation || got.JoinError != "" {
			t.Errorf("after joining: %+v", got)
		}
		if !slices.Contains(st.sent(), "connect home") {
			t.Errorf("the station was not asked to join: %q", st.sent())
		}
		// And it stays closed while the link holds.
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := len(hs.opens()); n != 1 {
			t.Errorf("the access point opened %d times", n)
		}
		if !strings.Contains(logs.String(), "joined the Wi-Fi network") {
			t.Errorf("no log line of the join:\n%s", logs)
		}
	})
}

func TestAWrongPasswordOpensTheAccessPointAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, hs := &fakeStation{}, &fakeHotspot{} // nothing joinable
		f, _ := startFallback(t, st, hs, nil)
		time.Sleep(40 * time.Second)
		if err := f.Connect(context.Background(), "home", "wrong-password"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if hs.isUp() || f.State().Mode != ModeJoining || f.State().Joining != "home" {
			t.Fatalf("while joining: up %v, %+v", hs.isUp(), f.State())
		}
		if err := f.Connect(context.Background(), "other", "passphrase-123"); err == nil {
			t.Errorf("a second network was taken while the first is tried")
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		got := f.State()
		if !hs.isUp() || got.Mode != ModeAccessPoint {
			t.Fatalf("the access point did not open again after the join failed: %+v", got)
		}
		if !strings.Contains(got.JoinError, "could not join home") || !strings.Contains(got.JoinError, "wrong password") {
			t.Errorf("join error %q does not say what failed", got.JoinError)
		}
	})
}

func TestTheAccessPointOpensAgainWithBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, hs := &fakeStation{}, &fakeHotspot{failing: 3}
		_, logs := startFallback(t, st, hs, nil)
		time.Sleep(30*time.Second + 10*time.Second)
		synctest.Wait()
		opens := hs.opens()
		if len(opens) != 4 || !hs.isUp() {
			t.Fatalf("opened %d times, up %v; want 3 failures and a fourth that holds; log:\n%s", len(opens), hs.isUp(), logs)
		}
		var gaps []time.Duration
		for i := 1; i < len(opens); i++ {
			gaps = append(gaps, opens[i].Sub(opens[i-1]))
		}
		if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(gaps, want) {
			t.Errorf("waits between opens %v, want %v", gaps, want)
		}
		if n := strings.Count(logs.String(), `level=ERROR msg="the setup access point stopped; opening it again" part=wifi err="access point: hostapd: exit status 1`); n != 3 {
			t.Errorf("%d log lines name the stopped program, want 3:\n%s", n, logs)
		}
	})
}

func TestEthernetOrAKnownNetworkClosesTheAccessPoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		wired := false
		st, hs := &fakeStation{}, &fakeHotspot{}
		startFallback(t, st, hs, func() bool { mu.Lock(); defer mu.Unlock(); return wired })
		time.Sleep(time.Minute)
		synctest.Wait()
		if !hs.isUp() {
			t.Fatal("no access point")
		}
		mu.Lock()
		wired = true
		mu.Unlock()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if hs.isUp() {
			t.Errorf("the access point stayed open with a cable plugged in")
		}
		if calls := st.sent(); calls[len(calls)-1] != "reconnect" {
			t.Errorf("wpa_supplicant was not given the radio back: %q", calls)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		st := &fakeStation{known: 1}
		hs := &fakeHotspot{}
		f, _ := startFallback(t, st, hs, nil)
		time.Sleep(time.Minute)
		synctest.Wait()
		if !hs.isUp() {
			t.Fatal("no access point")
		}
		st.mu.Lock()
		st.joinable = map[string]bool{"known": true} // the router came up
		st.mu.Unlock()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if hs.isUp() || f.State().Mode != ModeStation {
			t.Errorf("the known network came back, the access point stayed: %+v", f.State())
		}
	})
}

func TestConnectOnAWorkingLinkGoesStraightToWpaSupplicant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &fakeStation{connected: true, joinable: map[string]bool{"office": true}}
		f, _ := startFallback(t, st, &fakeHotspot{}, nil)
		if err := f.Connect(context.Background(), "office", "passphrase-123"); err != nil {
			t.Fatal(err)
		}
		if calls := st.sent(); !slices.Equal(calls, []string{"connect office"}) {
			t.Errorf("station asked %q", calls)
		}
		st.setConnected(true)
	})
}
