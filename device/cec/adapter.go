package cec

// The kernel's CEC API over x/sys/unix ioctls, its structs written out
// from linux/cec.h (no cgo, as device/gpio does for evdev);
// TestCECABIMatchesHeader checks every size, offset and number here
// against the header on each architecture the tests are built for.

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cecCaps is struct cec_caps.
type cecCaps struct {
	driver            [32]byte
	name              [32]byte
	availableLogAddrs uint32
	capabilities      uint32
	version           uint32
}

// cecLogAddrs is struct cec_log_addrs.
type cecLogAddrs struct {
	logAddr           [4]uint8
	logAddrMask       uint16
	cecVersion        uint8
	numLogAddrs       uint8
	vendorID          uint32
	flags             uint32
	osdName           [15]byte
	primaryDeviceType [4]uint8
	logAddrType       [4]uint8
	allDeviceTypes    [4]uint8
	features          [4][12]uint8
}

// cecMsg is struct cec_msg.
type cecMsg struct {
	txTS, rxTS    uint64
	len           uint32
	timeout       uint32
	sequence      uint32
	flags         uint32
	msg           [maxMessageSize]byte
	reply         uint8
	rxStatus      uint8
	txStatus      uint8
	txArbLostCnt  uint8
	txNackCnt     uint8
	txLowDriveCnt uint8
	txErrorCnt    uint8
}

// cecEvent is struct cec_event; its union read as state_change.
type cecEvent struct {
	ts    uint64
	event uint32
	flags uint32
	raw   [16]uint32
}

// ioc makes an ioctl number as the kernel's _IOC macro does (the layout
// x86, arm and arm64 share) for the CEC type 'a'.
func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 'a'<<8 | nr }

const (
	iocWrite = 1
	iocRead  = 2
)

// The CEC ioctls (linux/cec.h).
var (
	cecAdapGCaps     = ioc(iocRead|iocWrite, 0, unsafe.Sizeof(cecCaps{}))
	cecAdapGPhysAddr = ioc(iocRead, 1, 2)
	cecAdapSLogAddrs = ioc(iocRead|iocWrite, 4, unsafe.Sizeof(cecLogAddrs{}))
	cecTransmit      = ioc(iocRead|iocWrite, 5, unsafe.Sizeof(cecMsg{}))
	cecReceive       = ioc(iocRead|iocWrite, 6, unsafe.Sizeof(cecMsg{}))
	cecDQEvent       = ioc(iocRead|iocWrite, 7, unsafe.Sizeof(cecEvent{}))
	cecSMode         = ioc(iocWrite, 9, 4)
)

// Values from linux/cec.h.
const (
	capLogAddrs          = 1 << 1 // CEC_CAP_LOG_ADDRS
	capTransmit          = 1 << 2 // CEC_CAP_TRANSMIT
	modeInitiator        = 0x1    // CEC_MODE_INITIATOR
	modeFollower         = 0x10   // CEC_MODE_FOLLOWER
	logAddrTypePlayback  = 3      // CEC_LOG_ADDR_TYPE_PLAYBACK
	logAddrTypeTV        = 0      // CEC_LOG_ADDR_TYPE_TV
	primDevTypeTV        = 0      // CEC_OP_PRIM_DEVTYPE_TV
	allDevTypeTV         = 0x80   // CEC_OP_ALL_DEVTYPE_TV
	primDevTypePlayback  = 4      // CEC_OP_PRIM_DEVTYPE_PLAYBACK
	allDevTypePlayback   = 0x10   // CEC_OP_ALL_DEVTYPE_PLAYBACK
	cecVersion14         = 5      // CEC_OP_CEC_VERSION_1_4
	vendorIDNone         = 0xffffffff
	logAddrInvalid       = 0xff // CEC_LOG_ADDR_INVALID
	txStatusOK           = 1 << 0
	txStatusNack         = 1 << 2
	eventStateChange     = 1 // CEC_EVENT_STATE_CHANGE
	eventLostMsgs        = 2 // CEC_EVENT_LOST_MSGS
	osdNameMax           = 14
	receivePollTimeoutMs = 250 // how often Receive looks at ctx
)

// Adapter is a kernel CEC adapter, /dev/cecN, with the box claimed on it
// as a playback device. It implements Device.
type Adapter struct {
	path string
	fd   int
	// address is the box's logical address: claimed at open, or later
	// when a TV appears (the adapter's state change events say which).
	address atomic.Uint32
	events  func(string) // tells of the adapter's state changes, in words
}

// AdapterOptions say how the box shows itself on the bus.
type AdapterOptions struct {
	// Name is the box's name on the TV's source list (CEC's OSD name),
	// cut to 14 bytes.
	Name string
	// TV claims the TV's logical address (0) instead of a playback
	// device's: for the lab's emulated TV, never for the box.
	TV bool
	// Events, if set, is told of the adapter's state changes in words (a
	// TV plugged in or out, messages lost).
	Events func(string)
}

// Adapters lists the CEC adapters, /dev/cec0 first.
func Adapters() []string {
	paths, _ := filepath.Glob("/dev/cec[0-9]*") // the pattern is well formed
	slices.Sort(paths)
	return paths
}

// OpenAdapter opens the adapter at path and claims a playback device's
// logical address on it, waiting until the bus answers (a moment). An
// adapter with no physical address (nothing plugged in) opens and claims
// its address once a TV appears; until then Transmit fails.
func OpenAdapter(path string, opts AdapterOptions) (*Adapter, error) {
	// A blocking descriptor, outside Go's poller: S_LOG_ADDRS and TRANSMIT
	// then wait for the bus's answer; Receive polls by itself.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("CEC adapter %s: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
	}
	a := &Adapter{path: path, fd: fd, events: opts.Events}
	a.address.Store(uint32(AddressBroadcast))
	if err := a.claim(opts.Name, opts.TV); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("CEC adapter %s: %w", path, err)
	}
	return a, nil
}

func (a *Adapter) claim(name string, tv bool) error {
	var caps cecCaps
	if err := a.ioctl(cecAdapGCaps, unsafe.Pointer(&caps)); err != nil {
		return fmt.Errorf("not a CEC adapter (CEC_ADAP_G_CAPS: %w)", err)
	}
	if caps.capabilities&(capLogAddrs|capTransmit) != capLogAddrs|capTransmit {
		return fmt.Errorf("driver %s cannot claim addresses or send (capabilities %#x)", cString(caps.driver[:]), caps.capabilities)
	}
	la := cecLogAddrs{
		cecVersion: cecVersion14, numLogAddrs: 1, vendorID: vendorIDNone,
		primaryDeviceType: [4]uint8{primDevTypePlayback},
		logAddrType:       [4]uint8{logAddrTypePlayback},
		allDeviceTypes:    [4]uint8{allDevTypePlayback},
	}
	if tv {
		la.primaryDeviceType[0], la.logAddrType[0], la.allDeviceTypes[0] = primDevTypeTV, logAddrTypeTV, allDevTypeTV
	}
	copy(la.osdName[:osdNameMax], name)
	err := a.ioctl(cecAdapSLogAddrs, unsafe.Pointer(&la))
	if errors.Is(err, unix.EBUSY) {
		// Addresses claimed before and never given up (a box killed, or
		// cec-ctl): give them up and claim the box's own.
		if err = a.release(); err == nil {
			err = a.ioctl(cecAdapSLogAddrs, unsafe.Pointer(&la))
		}
	}
	if err != nil {
		return fmt.Errorf("CEC_ADAP_S_LOG_ADDRS: %w", err)
	}
	if la.logAddr[0] != logAddrInvalid {
		a.address.Store(uint32(la.logAddr[0]))
	}
	mode := uint32(modeInitiator | modeFollower)
	if err := a.ioctl(cecSMode, unsafe.Pointer(&mode)); err != nil {
		return fmt.Errorf("CEC_S_MODE: %w", err)
	}
	return nil
}

// Path is the adapter's device file.
func (a *Adapter) Path() string { return a.path }

// LogicalAddress is the address claimed, AddressBroadcast (unregistered)
// while none is.
func (a *Adapter) LogicalAddress() LogicalAddress { return LogicalAddress(a.address.Load()) }

// PhysicalAddress asks the adapter where the box sits now.
func (a *Adapter) PhysicalAddress() (PhysicalAddress, error) {
	var p uint16
	if err := a.ioctl(cecAdapGPhysAddr, unsafe.Pointer(&p)); err != nil {
		return NoPhysicalAddress, fmt.Errorf("CEC adapter %s: CEC_ADAP_G_PHYS_ADDR: %w", a.path, err)
	}
	return PhysicalAddress(p), nil
}

// Transmit sends m and waits for the bus to take it.
func (a *Adapter) Transmit(m Message) error {
	m.From = a.LogicalAddress()
	b := m.Bytes()
	if len(b) > maxMessageSize {
		return fmt.Errorf("CEC adapter %s: %v is longer than %d bytes", a.path, m, maxMessageSize)
	}
	msg := cecMsg{len: uint32(len(b))}
	copy(msg.msg[:], b)
	if err := a.ioctl(cecTransmit, unsafe.Pointer(&msg)); err != nil {
		if errors.Is(err, unix.ENONET) {
			return fmt.Errorf("CEC adapter %s: no logical address yet (is a TV plugged in and on?): %w", a.path, err)
		}
		return fmt.Errorf("CEC adapter %s: send %v: %w", a.path, m, err)
	}
	switch {
	case msg.txStatus&txStatusOK != 0:
		return nil
	case msg.txStatus&txStatusNack != 0:
		return fmt.Errorf("CEC adapter %s: send %v: %w", a.path, m, ErrNoAnswer)
	}
	return fmt.Errorf("CEC adapter %s: send %v: transmit status %#x", a.path, m, msg.txStatus)
}

// Receive waits for the next message; it reads the adapter's events on
// the way and tells of them.
func (a *Adapter) Receive(ctx context.Context) (Message, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Message{}, err
		}
		fds := []unix.PollFd{{Fd: int32(a.fd), Events: unix.POLLIN | unix.POLLPRI}}
		n, err := unix.Poll(fds, receivePollTimeoutMs)
		switch {
		case errors.Is(err, unix.EINTR), err == nil && n == 0:
			continue
		case err != nil:
			return Message{}, fmt.Errorf("CEC adapter %s: poll: %w: %w", a.path, ErrAdapterGone, err)
		case fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0:
			return Message{}, fmt.Errorf("CEC adapter %s: %w (poll %#x)", a.path, ErrAdapterGone, fds[0].Revents)
		}
		if fds[0].Revents&unix.POLLPRI != 0 {
			a.readEvent()
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			continue
		}
		var msg cecMsg
		if err := a.ioctl(cecReceive, unsafe.Pointer(&msg)); err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ETIMEDOUT) {
				continue
			}
			return Message{}, fmt.Errorf("CEC adapter %s: CEC_RECEIVE: %w: %w", a.path, ErrAdapterGone, err)
		}
		m, err := ParseMessage(msg.msg[:min(int(msg.len), maxMessageSize)])
		if err != nil {
			return Message{}, fmt.Errorf("CEC adapter %s: %w", a.path, err)
		}
		return m, nil
	}
}

// readEvent dequeues one event and tells of it.
func (a *Adapter) readEvent() {
	var e cecEvent
	if a.ioctl(cecDQEvent, unsafe.Pointer(&e)) != nil {
		return
	}
	if e.event == eventStateChange {
		// The first logical address of the mask is the box's (it claims
		// one); none: unregistered until a TV appears.
		mask := e.raw[0] >> 16
		address := uint32(AddressBroadcast)
		if mask != 0 {
			address = uint32(bits.TrailingZeros32(mask))
		}
		a.address.Store(address)
	}
	if a.events == nil {
		return
	}
	switch e.event {
	case eventStateChange:
		phys := PhysicalAddress(e.raw[0] & 0xffff)
		mask := e.raw[0] >> 16
		if phys == NoPhysicalAddress {
			a.events("no TV on the HDMI port (no physical address)")
			return
		}
		a.events(fmt.Sprintf("on the HDMI bus at physical address %v (logical addresses %#04x)", phys, mask))
	case eventLostMsgs:
		a.events(fmt.Sprintf("%d CEC messages lost: the box read them too slowly", e.raw[0]))
	}
}

// Close gives the logical address up and closes the adapter.
// Receive must have returned: the owner closes the adapter after it.
func (a *Adapter) Close() error { return errors.Join(a.release(), unix.Close(a.fd)) }

// release gives the adapter's logical addresses up: addresses outlive the
// file, and an adapter with them claimed refuses another claim.
func (a *Adapter) release() error {
	var none cecLogAddrs
	if err := a.ioctl(cecAdapSLogAddrs, unsafe.Pointer(&none)); err != nil {
		return fmt.Errorf("CEC adapter %s: give up the logical address: %w", a.path, err)
	}
	return nil
}

// PhysicalAddressOf reads the physical address of the adapter at path
// without claiming anything on it: to choose an adapter.
func PhysicalAddressOf(path string) (PhysicalAddress, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return NoPhysicalAddress, fmt.Errorf("CEC adapter %s: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	return (&Adapter{path: path, fd: fd}).PhysicalAddress()
}

func (a *Adapter) ioctl(req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(a.fd), req, uintptr(arg))
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return errno
	}
}

func cString(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\x00")
	return s
}
