package cec

import (
	"context"
	"sync"
)

// Fake is a Device for tests: it keeps what the box sends and hands the
// box what a test puts on the bus (Deliver). Its TV answers unless
// NoTV is set.
type Fake struct {
	// Address is the box's logical address (4, a playback device, when
	// made by NewFake) and Physical its physical address.
	Address  LogicalAddress
	Physical PhysicalAddress

	mu     sync.Mutex
	noTV   bool
	sent   []Message
	closed bool
	in     chan receiveResult
}

type receiveResult struct {
	m   Message
	err error
}

// NewFake makes a fake adapter: the box at logical address 4, physical
// address 1.0.0.0 (a TV's HDMI 1).
func NewFake() *Fake {
	return &Fake{Address: 4, Physical: 0x1000, in: make(chan receiveResult, 64)}
}

// SetNoTV makes directed messages go unacknowledged, as with a TV
// without CEC.
func (f *Fake) SetNoTV(noTV bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noTV = noTV
}

// Transmit implements Device.
func (f *Fake) Transmit(m Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m.From = f.Address
	if f.noTV && m.To != AddressBroadcast {
		return ErrNoAnswer
	}
	f.sent = append(f.sent, m)
	return nil
}

// Sent is what the box sent and the bus took, in order.
func (f *Fake) Sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.sent...)
}

// Deliver puts raw bytes on the bus for the box, as the kernel would hand
// them over: malformed ones come out of Receive as its error.
func (f *Fake) Deliver(b []byte) {
	m, err := ParseMessage(b)
	f.in <- receiveResult{m, err}
}

// Receive implements Device.
func (f *Fake) Receive(ctx context.Context) (Message, error) {
	select {
	case r := <-f.in:
		return r.m, r.err
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// PhysicalAddress implements Device.
func (f *Fake) PhysicalAddress() (PhysicalAddress, error) { return f.Physical, nil }

// LogicalAddress implements Device.
func (f *Fake) LogicalAddress() LogicalAddress { return f.Address }

// Close implements Device.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// Closed says whether Close was called.
func (f *Fake) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}
