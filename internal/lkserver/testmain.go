package lkserver

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/netns"
)

// buildTimeout bounds a first build of livekit-server (minutes on 2 cores).
const buildTimeout = 20 * time.Minute

// RunInNamespace is a TestMain for packages that test against a real
// LiveKit server: it makes sure the binary is built while the Go module
// proxy is still reachable, then runs the tests inside a private network
// namespace (netns.Run), where Start(ctx, Options{Addr: netns.Addr}) works.
// It never returns.
//
//	func TestMain(m *testing.M) { lkserver.RunInNamespace(m) }
func RunInNamespace(m *testing.M) { RunMainInNamespace(m.Run) }

// RunMainInNamespace is RunInNamespace for a program: main runs inside the
// namespace and its result is the exit code.
func RunMainInNamespace(main func() int) {
	if !netns.Inside() {
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		_, err := Binary(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "lkserver: FAIL: %v\n", err)
			os.Exit(1)
		}
	}
	netns.RunMain(main)
}

// NodeAddrs are the addresses of a cluster's n nodes on the namespace's
// network: 10.99.0.11, 10.99.0.12, … (scripts/netns.sh gives the same
// to make run's namespace with CLUSTER=n).
func NodeAddrs(n int) []string {
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.99.0.%d", 11+i)
	}
	return addrs
}

// StartClusterInNamespace starts a cluster of n nodes inside the namespace
// of RunInNamespace: Redis on netns.Addr, the nodes on NodeAddrs, which it
// puts on the namespace's link.
func StartClusterInNamespace(ctx context.Context, n int, logDir string) (*Cluster, error) {
	addrs := NodeAddrs(n)
	for _, a := range addrs {
		if err := netns.AddAddr(a); err != nil {
			return nil, fmt.Errorf("lkserver: %w", err)
		}
	}
	return StartCluster(ctx, ClusterOptions{RedisAddr: netns.Addr, NodeAddrs: addrs, LogDir: logDir})
}
