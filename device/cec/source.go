package cec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Source is the box as a source on the TV's bus: it wakes the TV and
// takes its input (One Touch Play), gives the input back if it still has
// it, answers the TV's questions about who is showing, and tells of the
// remote's keys the TV sends it.
type Source struct {
	dev Device
	log *slog.Logger

	mu sync.Mutex // guards took and noTV; one Transmit sequence at a time
	// took: the box took the TV's input (OneTouchPlay) and nobody has taken it
	// since; only then does GiveBack send Inactive Source.
	took bool
	// noTV: the TV did not answer once already (logged once, not again).
	noTV bool
}

// Press is a remote key the TV sent to the box.
type Press struct {
	Key Key
	// Repeat: the key is held, and this press repeats the one before (a
	// TV repeats a held key about twice a second).
	Repeat bool
	From   LogicalAddress
}

// NewSource makes the box a source on dev's bus.
func NewSource(dev Device, log *slog.Logger) *Source {
	if log == nil {
		log = slog.Default()
	}
	return &Source{dev: dev, log: log}
}

// OneTouchPlay turns the TV on (Image View On) and makes it show the box
// (Active Source with the box's physical address). A TV that does not
// answer is told of once, in words, and is not an error after that: a
// TV without CEC changes nothing.
func (s *Source) OneTouchPlay() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	phys, err := s.dev.PhysicalAddress()
	if err != nil {
		return err
	}
	if phys == NoPhysicalAddress {
		return s.noAnswer(errors.New("the HDMI port has no physical address: no TV plugged in, or one off at the mains"))
	}
	if err := s.dev.Transmit(Message{To: AddressTV, Opcode: OpImageViewOn}); err != nil {
		return s.noAnswer(err)
	}
	if err := s.dev.Transmit(Message{To: AddressBroadcast, Opcode: OpActiveSource, Operands: addressOperand(phys)}); err != nil {
		return fmt.Errorf("take the TV's input (Active Source %v): %w", phys, err)
	}
	if s.noTV {
		s.log.Info("HDMI-CEC: the TV answers now")
		s.noTV = false
	}
	s.took = true
	return nil
}

// noAnswer logs a TV that does not answer, once until it answers again.
func (s *Source) noAnswer(err error) error {
	if !s.noTV {
		s.log.Warn("HDMI-CEC: the TV did not answer, so it is neither woken nor switched to the box (a TV without CEC, or with it off in its settings, changes nothing)", "err", err)
		s.noTV = true
	}
	return nil
}

// Took says whether the box holds the TV's input, taken by OneTouchPlay.
func (s *Source) Took() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.took
}

// GiveBack tells the TV the box has nothing more to show (Inactive
// Source), so it goes back to what it showed, if the box took the input
// and nobody has taken it since. Otherwise it sends nothing.
func (s *Source) GiveBack() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.took {
		return nil
	}
	s.took = false
	phys, err := s.dev.PhysicalAddress()
	if err != nil {
		return err
	}
	if err := s.dev.Transmit(Message{To: AddressTV, Opcode: OpInactiveSource, Operands: addressOperand(phys)}); err != nil {
		return fmt.Errorf("give the TV's input back (Inactive Source %v): %w", phys, err)
	}
	return nil
}

// Run reads the bus until ctx ends or the adapter fails, telling keys of
// each remote key sent to the box. Messages that are malformed, unknown,
// or not for the box are ignored.
func (s *Source) Run(ctx context.Context, keys func(Press)) error {
	held := map[LogicalAddress]Key{} // a key pressed and not yet released, by sender
	for {
		m, err := s.dev.Receive(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, ErrAdapterGone) {
				return err
			}
			s.log.Debug("HDMI-CEC: a message not read", "err", err)
			continue
		}
		s.handle(m, held, keys)
	}
}

// ErrAdapterGone ends Run: the adapter cannot be read any more.
var ErrAdapterGone = errors.New("the CEC adapter is gone")

func (s *Source) handle(m Message, held map[LogicalAddress]Key, keys func(Press)) {
	me := s.dev.LogicalAddress()
	if m.From == me && me != AddressBroadcast {
		return // the box's own, echoed
	}
	toMe := m.To == me && me != AddressBroadcast
	switch m.Opcode {
	case OpUserControlPressed:
		if !toMe || len(m.Operands) < 1 {
			return
		}
		k := Key(m.Operands[0])
		last, isHeld := held[m.From]
		held[m.From] = k
		keys(Press{Key: k, Repeat: isHeld && last == k, From: m.From})
	case OpUserControlReleased:
		delete(held, m.From)
	case OpActiveSource, OpSetStreamPath, OpRoutingChange:
		s.sourceChanged(m)
	case OpRequestActiveSource:
		if m.To == AddressBroadcast {
			s.reassert()
		}
	default:
		s.log.Debug("HDMI-CEC: message ignored", "message", m.String())
	}
}

// sourceChanged follows who shows on the TV: once another source (or
// another input) is shown, the input is no longer the box's to give back.
func (s *Source) sourceChanged(m Message) {
	if m.To != AddressBroadcast {
		return
	}
	p, ok := m.physicalAddress()
	if m.Opcode == OpRoutingChange { // [from][to]: the new route is the second
		if len(m.Operands) < 4 {
			return
		}
		p, ok = PhysicalAddress(m.Operands[2])<<8|PhysicalAddress(m.Operands[3]), true
	}
	if !ok {
		return
	}
	phys, err := s.dev.PhysicalAddress()
	if err != nil || p == phys {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.took {
		s.log.Info("HDMI-CEC: the TV shows another source now; the box will not switch it back", "source", p.String())
	}
	s.took = false
}

// reassert answers Request Active Source while the box shows.
func (s *Source) reassert() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.took {
		return
	}
	phys, err := s.dev.PhysicalAddress()
	if err != nil {
		return
	}
	if err := s.dev.Transmit(Message{To: AddressBroadcast, Opcode: OpActiveSource, Operands: addressOperand(phys)}); err != nil {
		s.log.Debug("HDMI-CEC: Active Source not sent", "err", err)
	}
}
