package netns_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/netns"
)

func TestMain(m *testing.M) {
	netns.Run(m)
}

// helperEnv makes TestHelper act; unset, TestHelper skips.
const helperEnv = "CALLBOX_NETNS_TEST_HELPER"

// TestHelper is run by TestRunPassesResultsThrough in a nested test binary.
func TestHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("only run by TestRunPassesResultsThrough")
	}
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("helper netns=%s", ns)
	if mode == "fail" {
		t.Error("failing on purpose")
	}
}

func TestLinksAreUp(t *testing.T) {
	tests := []struct {
		name     string
		wantAddr string // "" for a link that must only be up
	}{
		{name: "lo", wantAddr: "127.0.0.1"},
		{name: netns.LinkName, wantAddr: netns.Addr},
		{name: netns.PeerName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link, err := net.InterfaceByName(tt.name)
			if err != nil {
				t.Fatalf("interface %s: %v", tt.name, err)
			}
			if link.Flags&net.FlagUp == 0 {
				t.Errorf("interface %s is down", tt.name)
			}
			if tt.wantAddr == "" {
				return
			}
			addrs, err := link.Addrs()
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range addrs {
				if ipNet, ok := a.(*net.IPNet); ok && ipNet.IP.String() == tt.wantAddr {
					return
				}
			}
			t.Errorf("interface %s has %v, want %s among them", tt.name, addrs, tt.wantAddr)
		})
	}
}

func TestOnlyOurLinksExist(t *testing.T) {
	links, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Name)
	}
	if len(names) != 3 {
		t.Errorf("links in namespace = %v, want exactly lo, %s, %s", names, netns.LinkName, netns.PeerName)
	}
}

func TestTCPOnAddr(t *testing.T) {
	ln, err := net.Listen("tcp", net.JoinHostPort(netns.Addr, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", netns.Addr, err)
	}
	answered := make(chan struct{})
	t.Cleanup(func() {
		_ = ln.Close()
		<-answered
	})
	go func() {
		defer close(answered)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, _ := bufio.NewReader(conn).ReadString('\n')
		_, _ = conn.Write([]byte(strings.ToUpper(line)))
	}()

	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", ln.Addr(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if got != "HELLO\n" {
		t.Errorf("echo = %q, want %q", got, "HELLO\n")
	}
}

// TestRunPassesResultsThrough runs this test binary again, as `go test`
// would from outside, and checks that -run and -v reach the tests, that their
// output and exit code come back, and that they ran in a namespace of their own.
func TestRunPassesResultsThrough(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ourNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode     string
		wantCode int
		wantOut  []string
	}{
		{mode: "pass", wantCode: 0, wantOut: []string{"--- PASS: TestHelper", "\nPASS\n"}},
		{mode: "fail", wantCode: 1, wantOut: []string{"--- FAIL: TestHelper", "failing on purpose", "\nFAIL\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			cmd := exec.Command(self, "-test.run=^TestHelper$", "-test.v")
			cmd.Env = append(withoutMarker(os.Environ()), helperEnv+"="+tt.mode)
			out, err := cmd.CombinedOutput()
			code := 0
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			} else if err != nil {
				t.Fatalf("run %s: %v", self, err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; output:\n%s", code, tt.wantCode, out)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(string(out), "helper netns=") {
				t.Fatalf("helper did not report its namespace:\n%s", out)
			}
			if strings.Contains(string(out), "helper netns="+ourNS) {
				t.Errorf("helper ran in our namespace %s, want a new one:\n%s", ourNS, out)
			}
		})
	}
}

func withoutMarker(env []string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CALLBOX_TEST_NETNS=") {
			kept = append(kept, kv)
		}
	}
	return kept
}

// TestPeerFilter: a peer reaches the first namespace over TCP and UDP; with
// NoUDP only TCP gets through, with Blackout nothing, and Open brings both back.
func TestPeerFilter(t *testing.T) {
	peer, err := netns.NewPeer(7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	if peer.Addr != "10.99.7.2" {
		t.Errorf("peer address %s, want 10.99.7.2", peer.Addr)
	}
	tcp := echoServer(t, "tcp")
	udp := echoServer(t, "udp")
	for _, step := range []struct {
		filter   netns.Filter
		tcp, udp bool // what gets through
	}{
		{netns.Open, true, true},
		{netns.NoUDP, true, false},
		{netns.Blackout, false, false},
		{netns.Open, true, true},
	} {
		if err := peer.Filter(step.filter); err != nil {
			t.Fatal(err)
		}
		if got := probe(t, peer, "tcp", tcp); got != step.tcp {
			t.Errorf("%v: TCP from the peer gets through: %v, want %v", step.filter, got, step.tcp)
		}
		if got := probe(t, peer, "udp", udp); got != step.udp {
			t.Errorf("%v: UDP from the peer gets through: %v, want %v", step.filter, got, step.udp)
		}
	}
}

// echoServer answers "pong" to every line or datagram on netns.Addr, until
// the test ends, and returns its port.
func echoServer(t *testing.T, network string) string {
	t.Helper()
	addr := net.JoinHostPort(netns.Addr, "0")
	answered := make(chan struct{})
	var closer io.Closer
	var local net.Addr
	if network == "udp" {
		conn, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		closer, local = conn, conn.LocalAddr()
		go func() {
			defer close(answered)
			buf := make([]byte, 1500)
			for {
				_, from, err := conn.ReadFrom(buf)
				if err != nil {
					return
				}
				_, _ = conn.WriteTo([]byte("pong\n"), from) // the client says when no pong comes
			}
		}()
	} else {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		closer, local = ln, ln.Addr()
		go func() {
			defer close(answered)
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				_, _ = conn.Write([]byte("pong\n")) // the client says when no pong comes
				conn.Close()
			}
		}()
	}
	t.Cleanup(func() {
		closer.Close()
		<-answered
	})
	_, port, _ := net.SplitHostPort(local.String())
	return port
}

// probe says whether a "ping" from inside the peer to port on netns.Addr
// gets its "pong" back within a second (bash's /dev/tcp and /dev/udp; dd
// reads a datagram whole, where read would take its first byte).
func probe(t *testing.T, peer *netns.Peer, network, port string) bool {
	t.Helper()
	script := `exec 3<>/dev/` + network + `/` + netns.Addr + `/` + port + ` && echo ping >&3 && timeout 1 dd bs=64 count=1 status=none <&3`
	out, _ := peer.Command("timeout", "3", "bash", "-c", script).CombinedOutput()
	return strings.TrimSpace(string(out)) == "pong"
}
