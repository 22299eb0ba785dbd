package daemontest

import (
	"net"
	"testing"
)

// ClosedAddr is an address on 127.0.0.1 where nothing listens: a port
// taken, then freed. For tests of a peer that does not answer.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
