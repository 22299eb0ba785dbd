// Package netns runs a Go test binary (or program) inside a private network
// namespace that holds only `lo` and a veth pair, with Addr on one end.
//
// WebRTC needs it: pion leaves loopback out of its ICE candidates, so a call
// over 127.0.0.1 never connects. Inside the namespace, a LiveKit server and
// its participants talk over Addr, and nothing they send can leave the
// machine. Call Run from TestMain, or RunMain from main. A Peer (peer.go)
// is a namespace inside it for one participant, whose network a test can
// cut with nftables (no UDP, a blackout) without touching the server's.
//
// This package owns the namespaces and their links. It must not touch the
// host's network, and it must not skip tests quietly when namespaces are
// unavailable: it fails loudly instead.
package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// Addr is the IPv4 address, on link LinkName, that servers and participants
// use inside the namespace.
const Addr = "10.99.0.1"

// LinkName and PeerName are the two ends of the veth pair; LinkName holds Addr.
const (
	LinkName = "cbx0"
	PeerName = "cbx1"
)

// prefixLen is the length of Addr's network prefix (10.99.0.0/24).
const prefixLen = 24

// envMarker is set in the re-executed child, so it knows it is already
// inside the namespace and runs the tests instead of re-executing again.
const envMarker = "CALLBOX_TEST_NETNS"

// Inside reports whether this process runs inside a namespace made by Run
// or RunMain.
func Inside() bool {
	return os.Getenv(envMarker) != ""
}

// Run runs m inside a fresh user+network namespace and exits with the tests'
// exit code; it never returns.
//
// Outside the namespace it re-executes the same test binary with the same
// arguments (so -run, -v, -bench and the rest still apply) in a new user and
// network namespace, passing stdin, stdout, stderr and signals through.
// Inside, it brings up lo and the veth pair with Addr, then calls m.Run.
// If the namespace cannot be made, it prints why and exits with status 1.
func Run(m *testing.M) { RunMain(m.Run) }

// RunMain is Run for a program rather than a test binary: main runs inside
// the namespace and its result is the exit code.
func RunMain(main func() int) {
	if Inside() {
		if err := setUp(); err != nil {
			fmt.Fprintf(os.Stderr, "netns: set up network namespace: %v\n", err)
			os.Exit(1)
		}
		os.Exit(main())
	}
	os.Exit(reexec())
}

// reexec starts this binary again inside new namespaces and returns the
// child's exit code.
func reexec() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "netns: find own executable: %v\n", err)
		return 1
	}

	// A user namespace lets an ordinary user own the network namespace
	// (unshare --user --map-root-user --net). Root may be in a container
	// that forbids user namespaces but still allows a bare network one.
	attempts := []uintptr{syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET}
	if os.Geteuid() == 0 {
		attempts = append(attempts, syscall.CLONE_NEWNET)
	}
	var startErrs []error
	for _, flags := range attempts {
		cmd := childCommand(self, flags)
		if err := cmd.Start(); err != nil {
			startErrs = append(startErrs, fmt.Errorf("%s: %w", describeFlags(flags), err))
			continue
		}
		return waitForwardingSignals(cmd)
	}
	fmt.Fprintf(os.Stderr, "netns: FAIL: cannot create a network namespace (%v).\n"+
		"They need one to run WebRTC on %s. Enable user namespaces "+
		"(sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1, "+
		"kernel.apparmor_restrict_unprivileged_userns=0) or run as root.\n",
		errors.Join(startErrs...), Addr)
	return 1
}

func childCommand(self string, flags uintptr) *exec.Cmd {
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envMarker+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: flags,
		// The child must not outlive us if `go test` kills us on timeout.
		Pdeathsig: syscall.SIGKILL,
	}
	if flags&syscall.CLONE_NEWUSER != 0 {
		// Map our own ids to root inside, which owns the network namespace.
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	return cmd
}

func describeFlags(flags uintptr) string {
	if flags&syscall.CLONE_NEWUSER != 0 {
		return "user+network namespace"
	}
	return "network namespace"
}

// waitForwardingSignals waits for cmd, passing on the signals a user or
// `go test` sends us, and returns the child's exit code.
func waitForwardingSignals(cmd *exec.Cmd) int {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP)
	defer signal.Stop(signals)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var exitErr *exec.ExitError
			switch {
			case err == nil:
				return 0
			case errors.As(err, &exitErr):
				if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() {
					fmt.Fprintf(os.Stderr, "netns: %s killed by %v\n", cmd.Path, status.Signal())
					return 128 + int(status.Signal())
				}
				return exitErr.ExitCode()
			default:
				fmt.Fprintf(os.Stderr, "netns: wait for %s: %v\n", cmd.Path, err)
				return 1
			}
		}
	}
}

// setUp brings up lo and the veth pair inside the (new, empty) namespace.
func setUp() error {
	if err := disableIPv6(); err != nil {
		return err
	}
	steps := [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", LinkName, "type", "veth", "peer", "name", PeerName},
		{"addr", "add", fmt.Sprintf("%s/%d", Addr, prefixLen), "dev", LinkName},
		{"link", "set", LinkName, "up"},
		{"link", "set", PeerName, "up"},
	}
	for _, args := range steps {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return checkAddr()
}

// disableIPv6 keeps link-local IPv6 addresses off the new links, so ICE
// gathers one candidate, Addr, instead of failing on fe80::…%cbx0.
// Set before the links exist; a kernel without IPv6 has nothing to disable.
func disableIPv6() error {
	for _, conf := range []string{"all", "default"} {
		path := "/proc/sys/net/ipv6/conf/" + conf + "/disable_ipv6"
		if err := os.WriteFile(path, []byte("1"), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("disable IPv6: %w", err)
		}
	}
	return nil
}

// checkAddr makes sure Addr sits on an interface that is up, so a stray
// environment marker cannot make tests run outside a working namespace.
func checkAddr() error {
	link, err := net.InterfaceByName(LinkName)
	if err != nil {
		return fmt.Errorf("interface %s: %w", LinkName, err)
	}
	if link.Flags&net.FlagUp == 0 {
		return fmt.Errorf("interface %s: not up", LinkName)
	}
	addrs, err := link.Addrs()
	if err != nil {
		return fmt.Errorf("interface %s: addresses: %w", LinkName, err)
	}
	for _, a := range addrs {
		if ipNet, ok := a.(*net.IPNet); ok && ipNet.IP.Equal(net.ParseIP(Addr)) {
			return nil
		}
	}
	return fmt.Errorf("interface %s: %s not assigned (has %v)", LinkName, Addr, addrs)
}

// AddAddr puts addr, another address of Addr's network (10.99.0.2 to
// 10.99.0.254), on LinkName beside Addr: one more machine on the
// namespace's network, such as a node of a cluster of call servers. Only
// inside a namespace made by Run; an address already there is no error.
func AddAddr(addr string) error {
	if !Inside() {
		return errors.New("netns: AddAddr: only inside a namespace made by Run")
	}
	ip := net.ParseIP(addr).To4()
	_, network, _ := net.ParseCIDR(fmt.Sprintf("%s/%d", Addr, prefixLen))
	if ip == nil || !network.Contains(ip) || ip.Equal(net.ParseIP(Addr)) || ip[3] == 0 || ip[3] == 255 {
		return fmt.Errorf("netns: AddAddr(%q): not an address of %s other than %s", addr, network, Addr)
	}
	out, err := exec.Command("ip", "addr", "replace", fmt.Sprintf("%s/%d", addr, prefixLen), "dev", LinkName).CombinedOutput()
	if err != nil {
		return fmt.Errorf("netns: add %s to %s: %w: %s", addr, LinkName, err, strings.TrimSpace(string(out)))
	}
	return nil
}
