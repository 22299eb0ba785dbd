// Package cec is the box on the TV's HDMI-CEC bus, through the kernel's CEC
// API (/dev/cecN, linux/cec.h): a playback device that wakes the TV and
// takes its input (One Touch Play), gives the input back, and hears the TV
// remote's keys. It knows CEC messages, not calls: callboxd decides when
// the TV wakes and what a key does. Device is the seam: Adapter is the
// kernel's, Fake stands in for it in tests.
package cec

import (
	"context"
	"errors"
	"fmt"
)

// LogicalAddress is a device's address on the CEC bus (0 to 15): 0 is the
// TV, 4, 8 and 11 are playback devices; 15 is "unregistered" as a sender
// and "everyone" (broadcast) as a destination.
type LogicalAddress uint8

// Logical addresses the box uses (linux/cec.h CEC_LOG_ADDR_*).
const (
	AddressTV        LogicalAddress = 0
	AddressBroadcast LogicalAddress = 15
)

// PhysicalAddress is where a device sits in the HDMI tree, a.b.c.d in four
// bits each: the TV is 0.0.0.0, a box on its HDMI 2 input 2.0.0.0.
type PhysicalAddress uint16

// NoPhysicalAddress is the address of an adapter with nothing plugged in
// (or a TV that is unplugged or off at the mains): f.f.f.f.
const NoPhysicalAddress PhysicalAddress = 0xffff

func (p PhysicalAddress) String() string {
	v := uint16(p)
	return fmt.Sprintf("%x.%x.%x.%x", v>>12, v>>8&0xf, v>>4&0xf, v&0xf)
}

// Opcode says what a message is.
type Opcode uint8

// The opcodes the box sends or reads (linux/cec.h CEC_MSG_*); every other
// one it hears is ignored.
const (
	OpImageViewOn         Opcode = 0x04 // to the TV: turn on and show what the active source sends
	OpUserControlPressed  Opcode = 0x44 // a remote key, [UI command]
	OpUserControlReleased Opcode = 0x45
	OpRoutingChange       Opcode = 0x80 // the TV switched inputs: [from] [to]
	OpActiveSource        Opcode = 0x82 // broadcast: [physical address] now shows
	OpRequestActiveSource Opcode = 0x85 // broadcast: who is showing?
	OpSetStreamPath       Opcode = 0x86 // broadcast: [physical address] should show
	OpInactiveSource      Opcode = 0x9d // to the TV: [physical address] has nothing to show
	maxMessageSize               = 16   // CEC_MAX_MSG_SIZE: header, opcode, 14 operand bytes
)

// Key is a remote key as CEC names it, a UI command (linux/cec.h
// CEC_OP_UI_CMD_*). Only the keys the box acts on are named here.
type Key uint8

// The remote's keys the box acts on.
const (
	KeySelect       Key = 0x00 // OK
	KeyBack         Key = 0x0d // Back, Exit in CEC 1.4
	KeyVolumeUp     Key = 0x41
	KeyVolumeDown   Key = 0x42
	KeyMute         Key = 0x43
	KeyStop         Key = 0x45
	KeyMuteFunction Key = 0x65
	KeyBlue         Key = 0x71 // F1
	KeyRed          Key = 0x72 // F2
	KeyGreen        Key = 0x73 // F3
	KeyYellow       Key = 0x74 // F4
)

// Message is one CEC message: who sent it, to whom, what, and its operands.
type Message struct {
	From, To LogicalAddress
	Opcode   Opcode
	Operands []byte
}

// ParseMessage reads a message as it came off the bus. A message with no
// opcode (a poll) or longer than CEC allows is an error naming what is
// wrong; an opcode the box does not know is not.
func ParseMessage(b []byte) (Message, error) {
	switch {
	case len(b) < 2:
		return Message{}, fmt.Errorf("a CEC message of %d bytes has no opcode", len(b))
	case len(b) > maxMessageSize:
		return Message{}, fmt.Errorf("a CEC message of %d bytes is longer than the %d CEC allows", len(b), maxMessageSize)
	}
	return Message{From: LogicalAddress(b[0] >> 4), To: LogicalAddress(b[0] & 0xf), Opcode: Opcode(b[1]), Operands: b[2:]}, nil
}

// Bytes is the message as sent on the bus.
func (m Message) Bytes() []byte {
	return append([]byte{byte(m.From)<<4 | byte(m.To)&0xf, byte(m.Opcode)}, m.Operands...)
}

func (m Message) String() string {
	if len(m.Operands) == 0 {
		return fmt.Sprintf("%d→%d %#02x", m.From, m.To, byte(m.Opcode))
	}
	return fmt.Sprintf("%d→%d %#02x % x", m.From, m.To, byte(m.Opcode), m.Operands)
}

// physicalAddress reads the physical address operand of Active Source,
// Inactive Source and Set Stream Path.
func (m Message) physicalAddress() (PhysicalAddress, bool) {
	if len(m.Operands) < 2 {
		return 0, false
	}
	return PhysicalAddress(m.Operands[0])<<8 | PhysicalAddress(m.Operands[1]), true
}

func addressOperand(p PhysicalAddress) []byte { return []byte{byte(p >> 8), byte(p)} }

// Device is one CEC adapter with the box's logical address claimed on it.
type Device interface {
	// Transmit sends m from the box's logical address (m.From is set
	// here). An error says the bus did not take it: ErrNoAnswer when
	// nobody acknowledged a message sent to one device.
	Transmit(m Message) error
	// Receive waits for the next message to the box (or to everyone)
	// until ctx ends. A message that cannot be read is an error that does
	// not end the adapter; ctx's error ends it.
	Receive(ctx context.Context) (Message, error)
	// PhysicalAddress is the box's place in the HDMI tree now (it changes
	// when the TV or the cable does); NoPhysicalAddress when unplugged.
	PhysicalAddress() (PhysicalAddress, error)
	// LogicalAddress is the box's logical address.
	LogicalAddress() LogicalAddress
	Close() error
}

// ErrNoAnswer is a directed message that no device acknowledged: no TV on
// the bus, or one that does not speak CEC (or has it off in its menu).
var ErrNoAnswer = errors.New("no device on the HDMI-CEC bus acknowledged the message")
