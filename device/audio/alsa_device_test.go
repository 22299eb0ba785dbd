package audio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSoundTree makes /dev/snd and /proc/asound look-alikes: card 0 "PCH"
// with capture and playback device 0, card 2 "Loopback" with playback 0
// and 1 and capture 1 only.
func fakeSoundTree(t *testing.T) resolver {
	t.Helper()
	root := t.TempDir()
	r := resolver{devDir: filepath.Join(root, "dev"), procDir: filepath.Join(root, "proc")}
	for _, node := range []string{"controlC0", "pcmC0D0c", "pcmC0D0p", "controlC2", "pcmC2D0p", "pcmC2D1c", "pcmC2D1p", "timer"} {
		mustWrite(t, filepath.Join(r.devDir, node), "")
	}
	mustWrite(t, filepath.Join(r.procDir, "card0", "id"), "PCH\n")
	mustWrite(t, filepath.Join(r.procDir, "card2", "id"), "Loopback\n")
	return r
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolveDeviceNames(t *testing.T) {
	r := fakeSoundTree(t)
	tests := []struct {
		name      string
		dir       direction
		node      string
		subdevice int
	}{
		{"hw:0,0", directionCapture, "pcmC0D0c", -1},
		{"hw:0", directionPlayback, "pcmC0D0p", -1},
		{"default", directionCapture, "pcmC0D0c", -1},
		{"", directionPlayback, "pcmC0D0p", -1},
		{"Loopback", directionPlayback, "pcmC2D0p", -1},
		{"hw:Loopback,1", directionCapture, "pcmC2D1c", -1},
		{"hw:Loopback,1,3", directionCapture, "pcmC2D1c", 3},
		{"hw:CARD=Loopback,DEV=1,SUBDEV=2", directionPlayback, "pcmC2D1p", 2},
		{"plughw:2,1,0", directionCapture, "pcmC2D1c", 0},
		{" hw:2,0 ", directionPlayback, "pcmC2D0p", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.dir.String(), func(t *testing.T) {
			loc, err := r.resolve(tt.name, tt.dir)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if want := filepath.Join(r.devDir, tt.node); loc.path != want || loc.subdevice != tt.subdevice {
				t.Errorf("resolved to %s subdevice %d, want %s subdevice %d", loc.path, loc.subdevice, want, tt.subdevice)
			}
		})
	}
}

func TestResolveDeviceErrors(t *testing.T) {
	r := fakeSoundTree(t)
	empty := resolver{devDir: t.TempDir(), procDir: t.TempDir()}
	tests := []struct {
		name string
		r    resolver
		dir  direction
		want string
	}{
		{"hw:5,0", r, directionCapture, `no sound card 5 (cards: 0 "PCH", 2 "Loopback")`},
		{"hw:2,0", r, directionCapture, `card 2 has no capture device 0 (card 2 "Loopback" has capture devices 1)`},
		{"hw:0,4", r, directionPlayback, `card 0 has no playback device 4 (card 0 "PCH" has playback devices 0)`},
		{"USBMic", r, directionCapture, `no sound card named "USBMic" (cards: 0 "PCH", 2 "Loopback")`},
		{"hw:Loopback,one", r, directionCapture, `device "one" is not a number`},
		{"hw:0,0,x", r, directionCapture, `subdevice "x" is not a number`},
		{"hw:0,0,0,0", r, directionCapture, "too many fields"},
		{"hw:CARD=0,FOO=1", r, directionCapture, `unknown field "FOO"`},
		{"hw:,0", r, directionCapture, "no card in device name"},
		{"hw:-1,0", r, directionCapture, "card -1"},
		{"pulse:0", r, directionCapture, "not ALSA plugins"},
		{"default", empty, directionCapture, "no sound card with a capture device"},
		{"hw:0,0", empty, directionPlayback, "no sound card 0 (this system has no sound cards)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.r.resolve(tt.name, tt.dir)
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("resolve(%q) error = %v, want ErrNotFound saying %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestListDevices(t *testing.T) {
	r := fakeSoundTree(t)
	mustWrite(t, filepath.Join(r.procDir, "card0", "pcm0c", "info"), "card: 0\ndevice: 0\nsubdevice: 0\nstream: CAPTURE\nid: ALC892 Analog\nname: ALC892 Analog\nsubname: subdevice #0\n")
	got := r.list()
	want := []DeviceInfo{
		{ID: "hw:0,0", Card: "PCH", Name: "ALC892 Analog", Capture: true, Playback: true},
		{ID: "hw:2,0", Card: "Loopback", Playback: true},
		{ID: "hw:2,1", Card: "Loopback", Capture: true, Playback: true},
	}
	if len(got) != len(want) {
		t.Fatalf("devices %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("device %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if l := got[0].Label(); l != "ALC892 Analog (hw:0,0)" {
		t.Errorf("label %q", l)
	}
	if l := got[1].Label(); l != "Loopback (hw:2,0)" {
		t.Errorf("label of a PCM without a name: %q, want the card's id", l)
	}
	empty := resolver{devDir: filepath.Join(t.TempDir(), "none"), procDir: t.TempDir()}
	if got := empty.list(); len(got) != 0 {
		t.Errorf("no sound cards: %+v", got)
	}
}
