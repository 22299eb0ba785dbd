package gpio

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// uinput ioctls (linux/uinput.h).
const (
	uiDevCreate  = 0x5501                       // _IO('U', 1)
	uiDevDestroy = 0x5502                       // _IO('U', 2)
	uiDevSetup   = 1<<30 | 92<<16 | 'U'<<8 | 3  // _IOW('U', 3, struct uinput_setup)
	uiSetEvBit   = 1<<30 | 4<<16 | 'U'<<8 | 100 // _IOW('U', 100, int)
	uiSetKeyBit  = 1<<30 | 4<<16 | 'U'<<8 | 101 // _IOW('U', 101, int)
	busVirtual   = 0x06
)

func ioctlInt(f *os.File, req, arg uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), req, arg); errno != 0 {
		return errno
	}
	return nil
}

// TestKeysFromAUinputKeyboard makes a virtual keyboard with the kernel's
// uinput, finds it by name, presses KEY_VOLUMEUP and expects the event. It
// needs /dev/uinput and root: the lab VM has both (make lab-test).
func TestKeysFromAUinputKeyboard(t *testing.T) {
	ui, err := os.OpenFile("/dev/uinput", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("needs /dev/uinput (the lab VM has it; run make lab-test): %v", err)
	}
	t.Cleanup(func() { ui.Close() })
	const volumeUp = 115
	for _, step := range []struct{ req, arg uintptr }{{uiSetEvBit, evKey}, {uiSetKeyBit, volumeUp}} {
		if err := ioctlInt(ui, step.req, step.arg); err != nil {
			t.Fatalf("uinput setup: %v", err)
		}
	}
	name := fmt.Sprintf("callbox test keys %d", os.Getpid())
	setup := make([]byte, 92) // struct uinput_setup: input_id (4×u16), name[80], ff_effects_max
	binary.LittleEndian.PutUint16(setup[0:], busVirtual)
	copy(setup[8:87], name)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, ui.Fd(), uiDevSetup, uintptr(unsafe.Pointer(&setup[0]))); errno != 0 {
		t.Fatalf("UI_DEV_SETUP: %v", errno)
	}
	if err := ioctlInt(ui, uiDevCreate, 0); err != nil {
		t.Fatalf("UI_DEV_CREATE: %v", err)
	}
	t.Cleanup(func() { _ = ioctlInt(ui, uiDevDestroy, 0) })

	// devtmpfs makes the event node a moment after UI_DEV_CREATE; there is
	// nothing to wait on without udev, so look a few times.
	var keys *Keys
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if keys, err = OpenKeys(name); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the uinput keyboard never appeared: %v", err)
		}
	}
	t.Cleanup(func() { keys.Close() })
	events := make(chan Event, 4)
	go keys.Run(t.Context(), map[uint16]string{volumeUp: "volume_up"}, func(e Event) { events <- e })

	for _, e := range [][]byte{inputEvent(evKey, volumeUp, keyPressed), inputEvent(0, 0, 0), inputEvent(evKey, volumeUp, keyReleased), inputEvent(0, 0, 0)} {
		if _, err := ui.Write(e); err != nil {
			t.Fatalf("write to uinput: %v", err)
		}
	}
	select {
	case e := <-events:
		if e.Name != "volume_up" || e.Repeat {
			t.Errorf("got %+v, want a volume_up press", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no key event from the uinput keyboard")
	}
}
