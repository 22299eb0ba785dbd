package gpio

import (
	"bufio"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A press and release of KEY_VOLUMEUP as a USB keyboard reports it on a
// 64-bit system: EV_MSC/MSC_SCAN, EV_KEY 115 1, EV_SYN, then the same with 0.
// Each record is struct input_event: tv_sec, tv_usec (8 bytes each), type,
// code (2 bytes each), value (4 bytes), little-endian.
const volumeUpPress64 = "" +
	"d2029665000000004e3c000000000000" + "0400" + "0400" + "e9000700" + // EV_MSC MSC_SCAN 0x700e9
	"d2029665000000004e3c000000000000" + "0100" + "7300" + "01000000" + // EV_KEY KEY_VOLUMEUP pressed
	"d2029665000000004e3c000000000000" + "0000" + "0000" + "00000000" + // EV_SYN SYN_REPORT
	"d2029665000000009c23010000000000" + "0400" + "0400" + "e9000700" +
	"d2029665000000009c23010000000000" + "0100" + "7300" + "00000000" + // released
	"d2029665000000009c23010000000000" + "0000" + "0000" + "00000000"

// The same press of KEY_MUTE from a 32-bit system (a Raspberry Pi OS armhf
// userland), where the time fields are 4 bytes each; then half a record.
const mutePress32 = "" +
	"d2029665" + "4e3c0000" + "0100" + "7100" + "01000000" +
	"d2029665" + "4e3c0000" + "0000" + "0000" + "00000000" +
	"d2029665" + "4e3c"

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseKeyEvents(t *testing.T) {
	pressedAt := time.Unix(0x659602d2, 0x3c4e*1000)
	tests := []struct {
		name     string
		data     string
		word     int
		want     []KeyEvent
		leftOver int
	}{
		{"64-bit press and release", volumeUpPress64, 8, []KeyEvent{
			{Code: 115, Value: 1, Time: pressedAt},
			{Code: 115, Value: 0, Time: time.Unix(0x659602d2, 0x1239c*1000)},
		}, 0},
		{"32-bit press and half a record", mutePress32, 4, []KeyEvent{{Code: 113, Value: 1, Time: pressedAt}}, 6},
		{"nothing", "", 8, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest := parseKeyEvents(mustHex(t, tt.data), tt.word)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d key events %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i].Code != tt.want[i].Code || got[i].Value != tt.want[i].Value || !got[i].Time.Equal(tt.want[i].Time) {
					t.Errorf("event %d is %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if len(rest) != tt.leftOver {
				t.Errorf("%d bytes left over, want %d", len(rest), tt.leftOver)
			}
		})
	}
}

func TestKeyCodeByName(t *testing.T) {
	tests := []struct {
		name string
		code uint16
		ok   bool
	}{
		{"KEY_VOLUMEUP", 115, true},
		{"KEY_VOLUMEDOWN", 114, true},
		{"KEY_MUTE", 113, true},
		{"key_micmute", 248, true},
		{"KEY_OK", 0x160, true},
		{"BTN_0", 0x100, true},
		{"KEY_HANGEUL", 122, true}, // an alias in the header
		{"KEY_VOLUME_UP", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		code, ok := KeyCode(tt.name)
		if code != tt.code || ok != tt.ok {
			t.Errorf("KeyCode(%q) = %d, %v; want %d, %v", tt.name, code, ok, tt.code, tt.ok)
		}
	}
}

// The table is generated from the kernel header; where the header is
// installed (linux-libc-dev) every name in it must be in the table with its value.
func TestKeyNamesMatchTheKernelHeader(t *testing.T) {
	const header = "/usr/include/linux/input-event-codes.h"
	f, err := os.Open(header)
	if err != nil {
		t.Skipf("no kernel header to compare with: %v", err)
	}
	defer f.Close()
	defined := map[string]string{}
	checked := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 3 || fields[0] != "#define" || !(strings.HasPrefix(fields[1], "KEY_") || strings.HasPrefix(fields[1], "BTN_")) {
			continue
		}
		name, value := fields[1], fields[2]
		if alias, ok := defined[value]; ok {
			value = alias
		}
		defined[name] = value
		n, err := strconv.ParseUint(value, 0, 16)
		if err != nil || name == "KEY_MAX" || name == "KEY_MIN_INTERESTING" {
			continue
		}
		checked++
		if code, ok := KeyCode(name); !ok || uint64(code) != n {
			t.Errorf("%s: table has %d (found %v), header says %s; run testdata/gen_keynames.sh", name, code, ok, value)
		}
	}
	if checked < 500 {
		t.Errorf("only %d names checked: is the header what we think?", checked)
	}
}

func TestKeysTellPressesOfMappedKeys(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	keys := &Keys{path: "pipe", name: "test keypad", f: r}
	events := make(chan Event, 10)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- keys.Run(ctx, map[uint16]string{115: "volume_up", 113: "mute"}, func(e Event) { events <- e })
	}()
	var stream []byte
	for _, e := range [][]byte{
		inputEvent(evKey, 115, keyPressed), inputEvent(0, 0, 0),
		inputEvent(evKey, 115, keyRepeated), inputEvent(0, 0, 0),
		inputEvent(evKey, 115, keyReleased), inputEvent(0, 0, 0),
		inputEvent(evKey, 30, keyPressed), inputEvent(evKey, 30, keyReleased), // KEY_A: not mapped
		inputEvent(evKey, 113, keyPressed), inputEvent(evKey, 113, keyReleased), inputEvent(0, 0, 0),
	} {
		stream = append(stream, e...)
	}
	if _, err := w.Write(stream); err != nil {
		t.Fatal(err)
	}
	want := []Event{{Name: "volume_up"}, {Name: "volume_up", Repeat: true}, {Name: "mute"}}
	for _, w := range want {
		select {
		case got := <-events:
			if got.Name != w.Name || got.Repeat != w.Repeat || got.Long {
				t.Errorf("got %+v, want %+v", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event; want %+v", w)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after its context ended: %v, want nil", err)
	}
	select {
	case e := <-events:
		t.Errorf("an extra event %+v", e)
	default:
	}
}

func TestOpenKeysErrorsNameTheDevice(t *testing.T) {
	notInput := filepath.Join(t.TempDir(), "event0")
	if err := os.WriteFile(notInput, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ device, says string }{
		{"/dev/input/event99", "input device /dev/input/event99: open"},
		{notInput, "not an evdev input device"},
	}
	if _, err := os.Stat(inputDir); err != nil {
		tests = append(tests, struct{ device, says string }{"gpio-keys", `input device "gpio-keys": no readable input devices`})
	}
	for _, tt := range tests {
		k, err := OpenKeys(tt.device)
		if err == nil {
			k.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("OpenKeys(%q) = %v, want an error saying %q", tt.device, err, tt.says)
		}
	}
}
