package netem

import (
	"errors"

	"github.com/callbox/callbox/internal/netns"
)

// Peer is a participant's own namespace (netns.Peer) whose link to the
// call server's namespace is an emulated network: Set changes it, Stats
// says what it did.
type Peer struct {
	*netns.Peer
	link *Link
}

// NewPeer makes peer n (netns.NewTUNPeer) on a network shaped by p. Only
// inside a namespace made by netns.Run or RunMain.
func NewPeer(n int, p Profile) (*Peer, error) {
	peer, tun, err := netns.NewTUNPeer(n)
	if err != nil {
		return nil, err
	}
	return &Peer{Peer: peer, link: Start(tun, p)}, nil
}

// Set shapes the peer's network with p from now on (Link.Set).
func (p *Peer) Set(profile Profile) { p.link.Set(profile) }

// Stats says what the network did to the peer's packets (Link.Stats).
func (p *Peer) Stats() (up, down Stats) { return p.link.Stats() }

// Close stops the link and removes the namespace. Programs still running
// in it lose their network.
func (p *Peer) Close() error {
	return errors.Join(p.link.Close(), p.Peer.Close())
}
