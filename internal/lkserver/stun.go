package lkserver

import (
	"errors"
	"fmt"
	"net"

	"github.com/pion/stun/v4"
)

// stunServer answers STUN binding requests on one UDP address: the STUN
// server the LiveKit server names to its participants. A LiveKit server
// with none of its own names Google's and Twilio's, which the tests'
// participants must not reach. Naming an address where nothing answers
// is no way out: pion then waits out its gathering of server-reflexive
// candidates (5 s) on every connection, and with that the box in
// TestMembersKeysThroughLiveKit missed a member leaving and coming back
// at once.
type stunServer struct {
	conn net.PacketConn
	done chan struct{}
}

// startSTUN listens on a free UDP port of addr and answers there until close.
func startSTUN(addr string) (*stunServer, error) {
	conn, err := net.ListenPacket("udp4", net.JoinHostPort(addr, "0"))
	if err != nil {
		return nil, fmt.Errorf("STUN server on %s: %w", addr, err)
	}
	s := &stunServer{conn: conn, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

// addr is where the STUN server answers, host:port.
func (s *stunServer) addr() string { return s.conn.LocalAddr().String() }

// serve answers each binding request with the address it came from;
// anything else is ignored.
func (s *stunServer) serve() {
	defer close(s.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		udp, ok := from.(*net.UDPAddr)
		if err != nil || !ok {
			continue
		}
		req := &stun.Message{Raw: buf[:n]}
		if req.Decode() != nil || req.Type != stun.BindingRequest {
			continue
		}
		resp, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: udp.IP, Port: udp.Port}, stun.Fingerprint)
		if err != nil {
			continue
		}
		_, _ = s.conn.WriteTo(resp.Raw, from)
	}
}

// close stops answering and waits until serve has returned. Again, it
// does nothing.
func (s *stunServer) close() error {
	err := s.conn.Close()
	<-s.done
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
