// Package wifitest is a stand-in for wpa_supplicant in tests: a unix
// datagram socket that answers control commands as wpa_supplicant's
// control interface does, from a table, and records what it was sent. It
// never touches a radio; only tests import it.
package wifitest

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Supplicant is a fake wpa_supplicant control socket.
type Supplicant struct {
	// Path is the socket: give it to wifi.Client.Socket (or callboxd's -wpa-socket).
	Path string
	// Dir holds the socket; short, as unix socket paths must be. A client's
	// own end can live here too (wifi.Client.LocalDir).
	Dir string

	mu       sync.Mutex
	commands []string
	replies  map[string]string
}

// Start serves a fake control socket named name (wlan0) until the test
// ends. replies maps a command's first word (SCAN_RESULTS) to its answer;
// a command not in it is answered "OK". Every answer is sent after an
// unrelated event message, as wpa_supplicant may.
func Start(t testing.TB, name string, replies map[string]string) *Supplicant {
	t.Helper()
	dir, err := os.MkdirTemp("", "wpa") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Supplicant{Path: filepath.Join(dir, name), Dir: dir, replies: map[string]string{}}
	for k, v := range replies {
		s.replies[k] = v
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.Path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	answering := make(chan struct{})
	t.Cleanup(func() {
		conn.Close() // ends the goroutine that answers
		<-answering
	})
	go func() {
		defer close(answering)
		buf := make([]byte, 4096)
		for {
			n, from, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			cmd := string(buf[:n])
			s.mu.Lock()
			s.commands = append(s.commands, cmd)
			reply, ok := s.replies[verb(cmd)]
			s.mu.Unlock()
			if !ok {
				reply = "OK\n"
			}
			if from == nil { // the client did not bind a path: nowhere to answer
				continue
			}
			// A client that left before its answer: as wpa_supplicant, go on.
			_, _ = conn.WriteToUnix([]byte("<3>CTRL-EVENT-SCAN-STARTED "), from)
			_, _ = conn.WriteToUnix([]byte(reply), from)
		}
	}()
	return s
}

// SetReply changes the answer to a command from now on.
func (s *Supplicant) SetReply(verb, reply string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[verb] = reply
}

// Sent returns the commands received so far, in order.
func (s *Supplicant) Sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

func verb(cmd string) string {
	v, _, _ := strings.Cut(cmd, " ")
	return v
}
