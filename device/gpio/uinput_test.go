package gpio

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestKeysFromAUinputKeyboard makes a virtual keyboard with the kernel's
// uinput, finds it by name, presses KEY_VOLUMEUP and expects the event. It
// needs /dev/uinput and root: the lab VM has both (make lab-test, whose keys
// scenario fails if this skips).
func TestKeysFromAUinputKeyboard(t *testing.T) {
	if _, err := os.Stat(uinputPath); err != nil {
		t.Skipf("needs %s (the lab VM has it; run make lab-test): %v", uinputPath, err)
	}
	const volumeUp, mute = 115, 113
	name := fmt.Sprintf("callbox test keys %d", os.Getpid())
	kb, err := NewVirtualKeyboard(name, volumeUp, mute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kb.Close() })
	if !strings.HasPrefix(kb.Path(), "/dev/input/event") {
		t.Errorf("Path() = %q, want /dev/input/eventN", kb.Path())
	}

	keys, err := OpenKeys(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	if keys.Path() != kb.Path() {
		t.Errorf("OpenKeys(%q) read %s, the keyboard is %s", name, keys.Path(), kb.Path())
	}
	events := make(chan Event, 4)
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		err := keys.Run(ctx, map[uint16]string{volumeUp: "volume_up"}, func(e Event) {
			select {
			case events <- e:
			case <-ctx.Done():
			}
		})
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-ran }) // before the keys are closed

	// mute is not in the map: only volume_up may arrive, once.
	for _, code := range []uint16{mute, volumeUp} {
		if err := kb.Press(code); err != nil {
			t.Fatal(err)
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

func TestVirtualKeyboardRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []uint16
		want string
	}{
		{"", []uint16{1}, "the name must have 1 to 79 bytes"},
		{strings.Repeat("k", 80), []uint16{1}, "the name must have 1 to 79 bytes"},
		{"no keys", nil, "no keys"},
		{"too high", []uint16{0x300}, "above KEY_MAX"},
	} {
		kb, err := NewVirtualKeyboard(tc.name, tc.keys...)
		if err == nil {
			kb.Close()
			t.Errorf("NewVirtualKeyboard(%q, %v): no error, want one saying %q", tc.name, tc.keys, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewVirtualKeyboard(%q, %v): %v, want it to say %q", tc.name, tc.keys, err, tc.want)
		}
	}
}
