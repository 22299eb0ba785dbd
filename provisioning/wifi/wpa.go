// Package wifi owns the box's Wi-Fi: scanning and joining networks through
// wpa_supplicant's control socket, and the access point (hostapd + dnsmasq)
// the box opens when it knows no network, so a phone can reach the setup
// page, with its captive portal (setup.go: Setup builds it all from the
// socket's path for callboxd). It speaks wpa_supplicant's text protocol
// itself and starts the two AP programs through a Runner; it never touches
// the radio directly.
package wifi

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Network is one network a scan found.
type Network struct {
	SSID     string `json:"ssid"`
	SignalDB int    `json:"signal_dbm"`
	Secured  bool   `json:"secured"`
}

// Client talks to one wpa_supplicant control socket
// (/var/run/wpa_supplicant/wlan0): one command, one reply, over a unix
// datagram socket bound to a path of our own.
type Client struct {
	// Socket is wpa_supplicant's control socket for the interface.
	Socket string
	// LocalDir is where our end of the socket lives; "" is os.TempDir().
	LocalDir string
	// ScanWait is how long Scan lets the radio scan before reading results.
	ScanWait time.Duration

	mu sync.Mutex // one command at a time
}

var localSeq atomic.Uint64

// Command sends one control command and returns the reply, trimmed.
func (c *Client) Command(ctx context.Context, cmd string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dir := c.LocalDir
	if dir == "" {
		dir = os.TempDir()
	}
	local := filepath.Join(dir, fmt.Sprintf("callbox-wpa-%d-%d", os.Getpid(), localSeq.Add(1)))
	conn, err := net.DialUnix("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"}, &net.UnixAddr{Name: c.Socket, Net: "unixgram"})
	if err != nil {
		return "", fmt.Errorf("wpa_supplicant %s: %w (is wpa_supplicant running with ctrl_interface?)", c.Socket, err)
	}
	defer os.Remove(local)
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return "", fmt.Errorf("wpa_supplicant %s: %w", c.Socket, err)
	}
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", fmt.Errorf("wpa_supplicant %s: send %s: %w", c.Socket, verb(cmd), err)
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return "", fmt.Errorf("wpa_supplicant %s: reply to %s: %w", c.Socket, verb(cmd), err)
		}
		reply := string(buf[:n])
		if strings.HasPrefix(reply, "<") { // an event, not our reply
			continue
		}
		return strings.TrimRight(reply, "\n"), nil
	}
}

// verb is a command's first word: commands carry keys, logs and errors must not.
func verb(cmd string) string {
	v, _, _ := strings.Cut(cmd, " ")
	return v
}

func (c *Client) expectOK(ctx context.Context, cmd string) error {
	reply, err := c.Command(ctx, cmd)
	if err != nil {
		return err
	}
	if reply != "OK" {
		return fmt.Errorf("wpa_supplicant %s: %s answered %q", c.Socket, verb(cmd), reply)
	}
	return nil
}

// Scan asks for a scan, waits ScanWait, and returns what was found, the
// strongest first, one entry per name.
func (c *Client) Scan(ctx context.Context) ([]Network, error) {
	reply, err := c.Command(ctx, "SCAN")
	if err != nil {
		return nil, err
	}
	if reply != "OK" && reply != "FAIL-BUSY" { // busy: a scan is running already
		return nil, fmt.Errorf("wpa_supplicant %s: SCAN answered %q", c.Socket, reply)
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(c.ScanWait):
	}
	results, err := c.Command(ctx, "SCAN_RESULTS")
	if err != nil {
		return nil, err
	}
	return parseScanResults(results), nil
}

// parseScanResults reads "bssid / frequency / signal level / flags / ssid"
// lines, tab-separated after a header.
func parseScanResults(text string) []Network {
	best := map[string]Network{}
	var order []string
	for i, line := range strings.Split(text, "\n") {
		if i == 0 || line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			continue
		}
		ssid, err := unescapeSSID(f[4])
		if err != nil || ssid == "" { // hidden networks have no name to pick
			continue
		}
		signal, _ := strconv.Atoi(f[2])
		n := Network{SSID: ssid, SignalDB: signal, Secured: strings.Contains(f[3], "WPA") || strings.Contains(f[3], "WEP") || strings.Contains(f[3], "SAE")}
		old, seen := best[ssid]
		if !seen {
			order = append(order, ssid)
		}
		if !seen || n.SignalDB > old.SignalDB {
			best[ssid] = n
		}
	}
	out := make([]Network, 0, len(order))
	for _, s := range order {
		out = append(out, best[s])
	}
	for i := 1; i < len(out); i++ { // insertion sort by signal, strongest first
		for j := i; j > 0 && out[j].SignalDB > out[j-1].SignalDB; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// unescapeSSID undoes wpa_supplicant's printf_encode (\\, \", \e, \n, \r, \t, \xNN).
func unescapeSSID(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i >= len(s) {
			return "", errors.New("ssid ends in a backslash")
		}
		switch s[i] {
		case '\\', '"':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'e':
			b.WriteByte(0x1b)
		case 'x':
			if i+2 >= len(s) {
				return "", errors.New("short \\x escape in ssid")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad \\x escape in ssid: %w", err)
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", fmt.Errorf("unknown escape \\%c in ssid", s[i])
		}
	}
	return b.String(), nil
}

// Connect adds a network, makes it the one to use, and saves
// wpa_supplicant's configuration so it is joined again after a reboot. An
// empty passphrase is an open network. The passphrase never leaves the box
// in clear: wpa_supplicant gets the derived PSK, and errors name only the
// command that failed.
func (c *Client) Connect(ctx context.Context, ssid, passphrase string) error {
	if err := CheckNetwork(ssid, passphrase); err != nil {
		return err
	}
	reply, err := c.Command(ctx, "ADD_NETWORK")
	if err != nil {
		return err
	}
	id, err := strconv.Atoi(reply)
	if err != nil {
		return fmt.Errorf("wpa_supplicant %s: ADD_NETWORK answered %q", c.Socket, reply)
	}
	cmds := []string{fmt.Sprintf("SET_NETWORK %d ssid %s", id, hex.EncodeToString([]byte(ssid)))}
	if passphrase == "" {
		cmds = append(cmds, fmt.Sprintf("SET_NETWORK %d key_mgmt NONE", id))
	} else {
		psk, err := pbkdf2.Key(sha1.New, passphrase, []byte(ssid), 4096, 32)
		if err != nil {
			return fmt.Errorf("wifi: derive the key: %w", err)
		}
		cmds = append(cmds, fmt.Sprintf("SET_NETWORK %d psk %s", id, hex.EncodeToString(psk)))
	}
	cmds = append(cmds, fmt.Sprintf("ENABLE_NETWORK %d", id), fmt.Sprintf("SELECT_NETWORK %d", id), "SAVE_CONFIG")
	for _, cmd := range cmds {
		if err := c.expectOK(ctx, cmd); err != nil {
			if rmErr := c.expectOK(ctx, fmt.Sprintf("REMOVE_NETWORK %d", id)); rmErr != nil {
				return fmt.Errorf("%w; and the half-made network %d stays: %w", err, id, rmErr)
			}
			return err
		}
	}
	return nil
}

// Status is what wpa_supplicant says about the link.
type Status struct {
	// State is wpa_state: COMPLETED when joined, DISCONNECTED, SCANNING,
	// ASSOCIATING, INACTIVE...
	State string `json:"state"`
	SSID  string `json:"ssid,omitempty"` // the network joined or being joined
}

// Connected reports whether the box has joined a network.
func (s Status) Connected() bool { return s.State == "COMPLETED" }

// Status asks wpa_supplicant for the link's state (STATUS).
func (c *Client) Status(ctx context.Context) (Status, error) {
	reply, err := c.Command(ctx, "STATUS")
	if err != nil {
		return Status{}, err
	}
	var st Status
	for _, line := range strings.Split(reply, "\n") {
		key, value, _ := strings.Cut(line, "=")
		switch key {
		case "wpa_state":
			st.State = value
		case "ssid":
			if ssid, err := unescapeSSID(value); err == nil {
				st.SSID = ssid
			}
		}
	}
	if st.State == "" {
		return Status{}, fmt.Errorf("wpa_supplicant %s: STATUS answered without a wpa_state", c.Socket)
	}
	return st, nil
}

// Disconnect makes wpa_supplicant leave the radio alone (DISCONNECT): it
// stays away from networks until Reconnect or Connect, so the access point
// can have the interface.
func (c *Client) Disconnect(ctx context.Context) error { return c.expectOK(ctx, "DISCONNECT") }

// Reconnect lets wpa_supplicant join the networks it knows again (RECONNECT).
func (c *Client) Reconnect(ctx context.Context) error { return c.expectOK(ctx, "RECONNECT") }

// KnownNetworks counts the networks wpa_supplicant has saved (LIST_NETWORKS).
func (c *Client) KnownNetworks(ctx context.Context) (int, error) {
	reply, err := c.Command(ctx, "LIST_NETWORKS")
	if err != nil {
		return 0, err
	}
	if strings.HasPrefix(reply, "FAIL") {
		return 0, fmt.Errorf("wpa_supplicant %s: LIST_NETWORKS answered %q", c.Socket, reply)
	}
	n := 0
	for i, line := range strings.Split(reply, "\n") {
		if i > 0 && strings.TrimSpace(line) != "" { // the first line is the header
			n++
		}
	}
	return n, nil
}

// CheckNetwork says what is wrong with a network name and passphrase
// before anything is sent: 1 to 32 bytes of name, and no passphrase (an
// open network) or one of 8 to 63 characters.
func CheckNetwork(ssid, passphrase string) error {
	if ssid == "" || len(ssid) > 32 {
		return errors.New("wifi: the network name must have 1 to 32 bytes")
	}
	if passphrase != "" && (len(passphrase) < 8 || len(passphrase) > 63) {
		return errors.New("wifi: a WPA passphrase has 8 to 63 characters")
	}
	return nil
}
