package gpio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// uinput ioctls (linux/uinput.h).
const (
	uiDevCreate  = 0x5501                                   // _IO('U', 1)
	uiDevDestroy = 0x5502                                   // _IO('U', 2)
	uiDevSetup   = 1<<30 | uinputSetupSize<<16 | 'U'<<8 | 3 // _IOW('U', 3, struct uinput_setup)
	uiSetEvBit   = 1<<30 | 4<<16 | 'U'<<8 | 100             // _IOW('U', 100, int)
	uiSetKeyBit  = 1<<30 | 4<<16 | 'U'<<8 | 101             // _IOW('U', 101, int)
	busVirtual   = 0x06
	// struct uinput_setup: input_id (4×u16), name[UINPUT_MAX_NAME_SIZE],
	// ff_effects_max (u32).
	uinputSetupSize = 92
	uinputSetupName = 8
	// uinputMaxName is UINPUT_MAX_NAME_SIZE, the name's room with its NUL.
	uinputMaxName = 80
	// keyMax is KEY_MAX, the highest key or button code.
	keyMax = 0x2ff
)

// uinputPath is the kernel's uinput device; tests cannot change it.
const uinputPath = "/dev/uinput"

// VirtualKeyboard is a keyboard made with the kernel's uinput: its presses
// reach evdev readers (OpenKeys) as a real keypad's would. The lab uses it
// to press keys without hardware; it needs /dev/uinput and, usually, root.
type VirtualKeyboard struct {
	f    *os.File
	name string
	path string
}

// NewVirtualKeyboard makes a keyboard named name that has the given keys
// (codes as KeyCode gives them) and returns once its event node is in
// /dev/input, so that OpenKeys(name) finds it.
func NewVirtualKeyboard(name string, keys ...uint16) (*VirtualKeyboard, error) {
	if name == "" || len(name) >= uinputMaxName {
		return nil, fmt.Errorf("virtual keyboard %q: the name must have 1 to %d bytes", name, uinputMaxName-1)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("virtual keyboard %q: no keys", name)
	}
	for _, k := range keys {
		if k > keyMax {
			return nil, fmt.Errorf("virtual keyboard %q: key code %d is above KEY_MAX (%d)", name, k, keyMax)
		}
	}
	f, err := os.OpenFile(uinputPath, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("virtual keyboard %q: %w", name, err)
	}
	kb := &VirtualKeyboard{f: f, name: name}
	if err := kb.create(keys); err != nil {
		f.Close()
		return nil, fmt.Errorf("virtual keyboard %q: %w", name, err)
	}
	// devtmpfs makes the event node a moment after UI_DEV_CREATE; without
	// udev there is nothing to wait on, so look a few times.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if kb.path, err = findInputByName(name); err == nil {
			return kb, nil
		}
		if time.Now().After(deadline) {
			kb.Close()
			return nil, fmt.Errorf("virtual keyboard %q: made, but its event node never appeared: %w", name, err)
		}
	}
}

func (kb *VirtualKeyboard) create(keys []uint16) error {
	if err := kb.ioctl(uiSetEvBit, evKey); err != nil {
		return fmt.Errorf("UI_SET_EVBIT: %w", err)
	}
	for _, k := range keys {
		if err := kb.ioctl(uiSetKeyBit, uintptr(k)); err != nil {
			return fmt.Errorf("UI_SET_KEYBIT %d: %w", k, err)
		}
	}
	setup := make([]byte, uinputSetupSize)
	binary.LittleEndian.PutUint16(setup[0:], busVirtual)
	copy(setup[uinputSetupName:uinputSetupName+uinputMaxName-1], kb.name)
	if err := kb.ioctl(uiDevSetup, uintptr(unsafe.Pointer(&setup[0]))); err != nil {
		return fmt.Errorf("UI_DEV_SETUP: %w", err)
	}
	if err := kb.ioctl(uiDevCreate, 0); err != nil {
		return fmt.Errorf("UI_DEV_CREATE: %w", err)
	}
	return nil
}

func (kb *VirtualKeyboard) ioctl(req, arg uintptr) error {
	conn, err := kb.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	if err := conn.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, arg)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// Name is the name the keyboard was made with.
func (kb *VirtualKeyboard) Name() string { return kb.name }

// Path is the keyboard's event node, /dev/input/eventN.
func (kb *VirtualKeyboard) Path() string { return kb.path }

// Press presses and releases one key, as a quick tap would.
func (kb *VirtualKeyboard) Press(code uint16) error {
	const synReport = 0 // EV_SYN, SYN_REPORT: the end of one report
	var b []byte
	for _, e := range [][]byte{
		inputEvent(evKey, code, keyPressed), inputEvent(synReport, 0, 0),
		inputEvent(evKey, code, keyReleased), inputEvent(synReport, 0, 0),
	} {
		b = append(b, e...)
	}
	if _, err := kb.f.Write(b); err != nil {
		return fmt.Errorf("virtual keyboard %q: press key %d: %w", kb.name, code, err)
	}
	return nil
}

// Close removes the keyboard; its readers see it go away.
func (kb *VirtualKeyboard) Close() error {
	return errors.Join(kb.ioctl(uiDevDestroy, 0), kb.f.Close())
}

// inputEvent encodes one struct input_event for this process's word size,
// with no time: the kernel stamps what uinput writes.
func inputEvent(typ, code uint16, value int32) []byte {
	b := make([]byte, inputEventSize(wordSize))
	binary.LittleEndian.PutUint16(b[2*wordSize:], typ)
	binary.LittleEndian.PutUint16(b[2*wordSize+2:], code)
	binary.LittleEndian.PutUint32(b[2*wordSize+4:], uint32(value))
	return b
}
