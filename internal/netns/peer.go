package netns

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// Peer is a second network namespace inside the first, joined to it by a
// veth pair of its own: another machine on its own small network, with
// Addr, that reaches the first namespace's Addr (the call server) through
// its gateway. Its traffic can be cut (Filter) without touching the
// server's or other participants', as a blocked or broken network at the
// box's end would be. Make one with NewPeer from inside a namespace made
// by Run; run programs in it with Command.
type Peer struct {
	// Addr is the peer's address, 10.99.N.2; the first namespace is
	// 10.99.N.1 on this link.
	Addr string

	link   string    // the veth end in the first namespace; the peer's end is link+"b"
	holder *exec.Cmd // keeps the namespace alive; its /proc entry names it
}

// NewPeer makes peer n (1 to 254: the link 10.99.n.0/24) and brings its
// links up. Close removes it.
func NewPeer(n int) (*Peer, error) {
	return newPeer(n, func(p *Peer) error {
		return run(exec.Command("ip", "link", "add", p.link, "type", "veth", "peer", "name", p.link+"b", "netns", p.nsPath()))
	})
}

// newPeer makes peer n's namespace, has link join it to this one with a
// device named p.link here and p.link+"b" there, and gives both their
// addresses and the peer its default route.
func newPeer(n int, link func(p *Peer) error) (*Peer, error) {
	if !Inside() {
		return nil, errors.New("netns: NewPeer: only inside a namespace made by Run")
	}
	if n < 1 || n > 254 {
		return nil, fmt.Errorf("netns: NewPeer(%d): n must be 1 to 254", n)
	}
	p := &Peer{Addr: fmt.Sprintf("10.99.%d.2", n), link: fmt.Sprintf("cbxp%d", n)}
	// A process that only sleeps holds the namespace; IPv6 is off before
	// its links exist, as in the first namespace (see disableIPv6).
	p.holder = exec.Command("sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && "+
		"echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; echo ready; exec sleep infinity")
	p.holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	ready, err := p.holder.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("netns: peer %d: %w", n, err)
	}
	if err := p.holder.Start(); err != nil {
		return nil, fmt.Errorf("netns: peer %d: start its namespace: %w", n, err)
	}
	if _, err := ready.Read(make([]byte, 6)); err != nil {
		p.Close()
		return nil, fmt.Errorf("netns: peer %d: its namespace did not start: %w", n, err)
	}
	if err := link(p); err != nil {
		p.Close()
		return nil, fmt.Errorf("netns: peer %d: %w", n, err)
	}
	gateway := fmt.Sprintf("10.99.%d.1", n)
	steps := [][]string{
		{"ip", "addr", "add", gateway + "/24", "dev", p.link},
		{"ip", "link", "set", p.link, "up"},
	}
	for _, args := range steps {
		if err := run(exec.Command(args[0], args[1:]...)); err != nil {
			p.Close()
			return nil, fmt.Errorf("netns: peer %d: %w", n, err)
		}
	}
	for _, args := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "addr", "add", p.Addr + "/24", "dev", p.link + "b"},
		{"ip", "link", "set", p.link + "b", "up"},
		{"ip", "route", "add", "default", "via", gateway},
	} {
		if err := run(p.Command(args[0], args[1:]...)); err != nil {
			p.Close()
			return nil, fmt.Errorf("netns: peer %d: %w", n, err)
		}
	}
	return p, nil
}

func (p *Peer) nsPath() string { return fmt.Sprintf("/proc/%d/ns/net", p.holder.Process.Pid) }

// Command is exec.Command for a program that runs in the peer's namespace.
// nsenter execs the program, so the process is the program itself: its
// pid, its signals, its exit status.
func (p *Peer) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + p.nsPath(), "--", name}, args...)...)
}

// Filter is what the peer's network lets through.
type Filter int

const (
	// Open lets everything through.
	Open Filter = iota
	// NoUDP drops every UDP packet in and out, as many office, school and
	// hotel networks do: TCP still works.
	NoUDP
	// Blackout drops every packet in and out: a cable pulled, Wi-Fi gone.
	Blackout
)

func (f Filter) String() string {
	switch f {
	case Open:
		return "open"
	case NoUDP:
		return "no UDP"
	case Blackout:
		return "blackout"
	}
	return fmt.Sprintf("Filter(%d)", int(f))
}

// filterTable is the nftables table that holds the peer's filter.
const filterTable = "callbox_filter"

// Filter sets what the peer's network lets through, replacing the filter
// before: nftables rules in the peer's own namespace, on every packet it
// sends or receives except over its loopback.
func (p *Peer) Filter(f Filter) error {
	var drop string
	switch f {
	case Open:
	case NoUDP:
		drop = "meta l4proto udp drop"
	case Blackout:
		drop = "drop"
	default:
		return fmt.Errorf("netns: filter %v: unknown", f)
	}
	// Adding the table first makes the delete work when there is none.
	rules := fmt.Sprintf("table inet %s {}\ndelete table inet %s\n", filterTable, filterTable)
	if drop != "" {
		rules += fmt.Sprintf("table inet %s {\n"+
			"  chain in { type filter hook input priority 0; iifname \"lo\" accept; %s; }\n"+
			"  chain out { type filter hook output priority 0; oifname \"lo\" accept; %s; }\n"+
			"}\n", filterTable, drop, drop)
	}
	cmd := p.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if err := run(cmd); err != nil {
		return fmt.Errorf("netns: peer %s: filter %v: %w", p.Addr, f, err)
	}
	return nil
}

// Close ends the process that holds the peer's namespace: the namespace,
// and its links with it, go when the last program running in it ends.
func (p *Peer) Close() error {
	if p.holder == nil || p.holder.Process == nil {
		return nil
	}
	_ = p.holder.Process.Kill()
	_ = p.holder.Wait()
	p.holder = nil
	return nil
}

func run(cmd *exec.Cmd) error {
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
