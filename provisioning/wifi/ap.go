package wifi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Runner starts a program and returns when it ends or ctx is cancelled.
// The box uses ExecRunner; tests record what would run.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) error
}

// ExecRunner runs programs for real.
type ExecRunner struct{}

func (ExecRunner) Run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(lastLine(string(out))))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// AccessPoint is the box's own open network for setting it up: hostapd
// makes the network, dnsmasq hands out addresses and answers every DNS
// name with the box's address, so a phone's captive-portal check lands on
// the setup page (served by the provisioning package's redirect on port 80).
type AccessPoint struct {
	Interface string // wlan0
	SSID      string // "Callbox-1A2B"
	Address   string // the box's address on it: 192.168.4.1
	RangeFrom string // DHCP range: 192.168.4.10
	RangeTo   string // 192.168.4.100
	Channel   int    // 1..13; 0 is 6
	RunDir    string // where the two config files are written
	Runner    Runner // nil: ExecRunner
}

// HostapdConfig is hostapd.conf for the access point.
func (ap AccessPoint) HostapdConfig() (string, error) {
	if err := ap.check(); err != nil {
		return "", err
	}
	ch := ap.Channel
	if ch == 0 {
		ch = 6
	}
	return fmt.Sprintf("interface=%s\ndriver=nl80211\nssid=%s\nhw_mode=g\nchannel=%d\nauth_algs=1\nwmm_enabled=1\nignore_broadcast_ssid=0\n",
		ap.Interface, ap.SSID, ch), nil
}

// DnsmasqConfig is dnsmasq.conf: DHCP on the interface, every name to the box.
func (ap AccessPoint) DnsmasqConfig() (string, error) {
	if err := ap.check(); err != nil {
		return "", err
	}
	return fmt.Sprintf("interface=%s\nbind-interfaces\nno-resolv\nno-hosts\ndhcp-range=%s,%s,255.255.255.0,1h\ndhcp-option=option:router,%s\naddress=/#/%s\n",
		ap.Interface, ap.RangeFrom, ap.RangeTo, ap.Address, ap.Address), nil
}

func (ap AccessPoint) check() error {
	bad := func(field, v string) bool { return v == "" || strings.ContainsAny(v, "\n\r\x00") }
	switch {
	case bad("interface", ap.Interface) || strings.ContainsAny(ap.Interface, "/ "):
		return errors.New("access point: interface must be a name such as wlan0")
	case bad("ssid", ap.SSID) || len(ap.SSID) > 32:
		return errors.New("access point: the network name must have 1 to 32 bytes on one line")
	case bad("address", ap.Address) || bad("range", ap.RangeFrom) || bad("range", ap.RangeTo):
		return errors.New("access point: address and DHCP range are needed")
	case ap.Channel < 0 || ap.Channel > 13:
		return fmt.Errorf("access point: channel %d is not from 1 to 13", ap.Channel)
	}
	return nil
}

// Run gives the interface its address, starts hostapd and dnsmasq, and
// keeps them until ctx ends or one of them stops (its error is returned).
func (ap AccessPoint) Run(ctx context.Context) error {
	hostapd, err := ap.HostapdConfig()
	if err != nil {
		return err
	}
	dnsmasq, _ := ap.DnsmasqConfig()
	hostapdPath := filepath.Join(ap.RunDir, "hostapd.conf")
	dnsmasqPath := filepath.Join(ap.RunDir, "dnsmasq.conf")
	if err := os.WriteFile(hostapdPath, []byte(hostapd), 0o600); err != nil {
		return fmt.Errorf("access point: %w", err)
	}
	if err := os.WriteFile(dnsmasqPath, []byte(dnsmasq), 0o600); err != nil {
		return fmt.Errorf("access point: %w", err)
	}
	run := ap.Runner
	if run == nil {
		run = ExecRunner{}
	}
	if err := run.Run(ctx, "ip", "addr", "replace", ap.Address+"/24", "dev", ap.Interface); err != nil {
		return fmt.Errorf("access point: ip addr replace %s: %w", ap.Interface, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, argv := range [][]string{{"hostapd", hostapdPath}, {"dnsmasq", "--keep-in-foreground", "--conf-file=" + dnsmasqPath}} {
		wg.Go(func() {
			err := run.Run(ctx, argv[0], argv[1:]...)
			if ctx.Err() == nil {
				if err == nil {
					err = errors.New("stopped")
				}
				errs <- fmt.Errorf("access point: %s: %w", argv[0], err)
			}
			cancel()
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
