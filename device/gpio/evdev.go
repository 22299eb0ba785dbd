package gpio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux input event types and values (linux/input-event-codes.h).
const (
	evKey       = 0x01
	keyReleased = 0
	keyPressed  = 1
	keyRepeated = 2
)

// KeyCode returns the code of a key or button named as the kernel names
// it: KEY_VOLUMEUP, KEY_MUTE, BTN_0.
func KeyCode(name string) (uint16, bool) {
	code, ok := keyCodes[strings.ToUpper(strings.TrimSpace(name))]
	return code, ok
}

// KeyEvent is one key event as the kernel reports it.
type KeyEvent struct {
	Code  uint16
	Value int32 // 0 released, 1 pressed, 2 autorepeat
	Time  time.Time
}

// wordSize is the size of the C long in this process's struct timeval, the
// first part of struct input_event: 8 on 64-bit systems, 4 on 32-bit ones.
const wordSize = int(unsafe.Sizeof(uintptr(0)))

// inputEventSize is sizeof(struct input_event) for a given word size.
func inputEventSize(word int) int { return 2*word + 8 }

// parseKeyEvents reads the key events out of whole struct input_event
// records (little-endian, as on every board the box runs on); other event
// types (EV_SYN, EV_MSC scan codes) are skipped. Bytes after the last whole
// record are returned as rest.
func parseKeyEvents(b []byte, word int) (keys []KeyEvent, rest []byte) {
	size := inputEventSize(word)
	for len(b) >= size {
		rec := b[:size]
		b = b[size:]
		var sec, usec int64
		if word == 8 {
			sec, usec = int64(binary.LittleEndian.Uint64(rec)), int64(binary.LittleEndian.Uint64(rec[8:]))
		} else {
			sec, usec = int64(int32(binary.LittleEndian.Uint32(rec))), int64(binary.LittleEndian.Uint32(rec[4:]))
		}
		typ := binary.LittleEndian.Uint16(rec[2*word:])
		code := binary.LittleEndian.Uint16(rec[2*word+2:])
		value := int32(binary.LittleEndian.Uint32(rec[2*word+4:]))
		if typ != evKey {
			continue
		}
		keys = append(keys, KeyEvent{Code: code, Value: value, Time: time.Unix(sec, usec*1000)})
	}
	return keys, b
}

// Keys reads key events from one evdev input device.
type Keys struct {
	path string
	name string
	f    *os.File
}

// OpenKeys opens an input device by path (/dev/input/event3, or a stable
// /dev/input/by-path or by-id link) or by the device's name as the kernel
// gives it ("gpio-keys", "vc4-hdmi", a keypad's product name).
func OpenKeys(device string) (*Keys, error) {
	path := device
	if !strings.HasPrefix(device, "/") {
		found, err := findInputByName(device)
		if err != nil {
			return nil, err
		}
		path = found
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("input device %s: %w", device, err)
	}
	name, err := inputName(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("input device %s: not an evdev input device: %w", device, err)
	}
	return &Keys{path: path, name: name, f: f}, nil
}

// Name is the device's name as the kernel gives it.
func (k *Keys) Name() string { return k.name }

// Path is the device file read.
func (k *Keys) Path() string { return k.path }

// Close releases the device.
func (k *Keys) Close() error { return k.f.Close() }

// Run tells emit of each press (and autorepeat) of the keys in names, a
// map from key code to the event name, until ctx ends or the device goes
// away (a keypad unplugged: the error says so). Releases are not told.
func (k *Keys) Run(ctx context.Context, names map[uint16]string, emit func(Event)) error {
	stop := context.AfterFunc(ctx, func() {
		if k.f.SetReadDeadline(time.Unix(1, 0)) != nil {
			_ = k.f.Close() // not pollable: closing is what ends the read
		}
	})
	defer stop()
	buf := make([]byte, 64*inputEventSize(wordSize))
	for {
		n, err := k.f.Read(buf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, unix.ENODEV) {
				return fmt.Errorf("input device %s (%s) went away: %w", k.path, k.name, err)
			}
			return fmt.Errorf("input device %s (%s): %w", k.path, k.name, err)
		}
		events, _ := parseKeyEvents(buf[:n], wordSize) // evdev reads whole records only
		for _, e := range events {
			name, wanted := names[e.Code]
			if !wanted || e.Value == keyReleased {
				continue
			}
			emit(Event{Name: name, Repeat: e.Value == keyRepeated, At: e.Time})
		}
	}
}

// eviocgname is EVIOCGNAME(len): _IOC(_IOC_READ, 'E', 0x06, len).
func eviocgname(size int) uint { return 2<<30 | uint(size)<<16 | 'E'<<8 | 0x06 }

func inputName(f *os.File) (string, error) {
	buf := make([]byte, 256)
	conn, err := f.SyscallConn()
	if err != nil {
		return "", err
	}
	var ioctlErr error
	if err := conn.Control(func(fd uintptr) {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, uintptr(eviocgname(len(buf))), uintptr(unsafe.Pointer(&buf[0])))
		if errno != 0 {
			ioctlErr = errno
		}
	}); err != nil {
		return "", err
	}
	if ioctlErr != nil {
		return "", ioctlErr
	}
	name, _, _ := strings.Cut(string(buf), "\x00")
	return name, nil
}

// inputDir is where the input devices are; tests cannot change it.
const inputDir = "/dev/input"

func findInputByName(name string) (string, error) {
	paths, _ := filepath.Glob(filepath.Join(inputDir, "event*"))
	var seen []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		got, err := inputName(f)
		f.Close()
		if err != nil {
			continue
		}
		if got == name {
			return p, nil
		}
		seen = append(seen, fmt.Sprintf("%q", got))
	}
	if len(seen) == 0 {
		return "", fmt.Errorf("input device %q: no readable input devices in %s", name, inputDir)
	}
	slices.Sort(seen)
	return "", fmt.Errorf("input device %q: no input device of that name; there are %s", name, strings.Join(seen, ", "))
}
