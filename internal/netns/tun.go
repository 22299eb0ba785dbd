package netns

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// TUNLink is a peer's link made of two TUN devices instead of a veth
// pair: the kernel hands every packet to whoever holds the files, and
// nothing crosses unless a program moves it. What the peer sends is read
// from Inner and, written to Outer, arrives in the first namespace; what
// is read from Outer goes to the peer by a write to Inner.
// internal/netem moves them, with the delay, loss and rate of a network.
type TUNLink struct {
	Outer, Inner *os.File
}

// Close closes both devices' files; the devices go with them.
func (l *TUNLink) Close() error {
	err := l.Outer.Close()
	if err2 := l.Inner.Close(); err == nil {
		err = err2
	}
	return err
}

// NewTUNPeer is NewPeer with a TUNLink in place of the veth pair. Until a
// program moves the link's packets the peer is cut off. Close the link,
// then the peer.
func NewTUNPeer(n int) (*Peer, *TUNLink, error) {
	var tun *TUNLink
	p, err := newPeer(n, func(p *Peer) error {
		outer, err := openTUN(p.link)
		if err != nil {
			return err
		}
		inner, err := openTUN(p.link + "b")
		if err != nil {
			outer.Close()
			return err
		}
		tun = &TUNLink{Outer: outer, Inner: inner}
		// A long queue in front of the program that moves the packets:
		// a busy machine must not lose them before the emulated network
		// decides their fate (the kernel's 500 overflowed at 2000 a second).
		for _, dev := range []string{p.link, p.link + "b"} {
			if err := run(exec.Command("ip", "link", "set", dev, "txqueuelen", "10000")); err != nil {
				tun.Close()
				return err
			}
		}
		// Made here, the inner device moves into the peer's namespace;
		// its file keeps working from this one.
		if err := run(exec.Command("ip", "link", "set", p.link+"b", "netns", p.nsPath())); err != nil {
			tun.Close()
			return err
		}
		return nil
	})
	if err != nil {
		if tun != nil {
			tun.Close()
		}
		return nil, nil, err
	}
	return p, tun, nil
}

// openTUN makes the TUN device name (IP packets, no extra header), which
// lives as long as its file stays open.
func openTUN(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun for %s: %w", name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUN device %s: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUN device %s: TUNSETIFF: %w", name, err)
	}
	// Non-blocking, so Go's poller reads it and Close ends a read.
	return os.NewFile(uintptr(fd), "tun "+name), nil
}

// Do runs fn on a thread inside the peer's network namespace: sockets fn
// opens (net.Dial, net.ListenPacket) are the peer's, and stay so after fn
// returns. Goroutines fn starts run in the first namespace.
func (p *Peer) Do(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine rather than
		// run others' code in the peer's namespace.
		runtime.LockOSThread()
		ns, err := os.Open(p.nsPath())
		if err != nil {
			done <- fmt.Errorf("netns: peer %s: %w", p.Addr, err)
			return
		}
		err = unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
		ns.Close()
		if err != nil {
			done <- fmt.Errorf("netns: peer %s: enter its namespace: %w", p.Addr, err)
			return
		}
		done <- fn()
	}()
	return <-done
}
