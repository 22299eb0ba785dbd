package lkserver

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/netns"
)

// TestStartChoosesAgainWhenAPortIsTaken: a free port Start found is taken
// by another process before the server binds it (seen in CI, with many
// servers starting at once): Start chooses again, and the server runs.
func TestStartChoosesAgainWhenAPortIsTaken(t *testing.T) {
	taken, err := net.ListenPacket("udp", net.JoinHostPort(netns.Addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	offered := false
	pickPort = func(network, addr string) (int, error) {
		if network == "udp" && !offered {
			offered = true
			return taken.LocalAddr().(*net.UDPAddr).Port, nil
		}
		return freePort(network, addr)
	}
	defer func() { pickPort = freePort }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := Start(ctx, Options{Addr: netns.Addr})
	if err != nil {
		t.Fatalf("Start with its first UDP port taken: %v", err)
	}
	defer srv.Close()
	if !offered {
		t.Fatal("the taken port was never offered: the test tested nothing")
	}
}
