package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/cec"
)

// tv runs runCEC on a fake adapter and records the actions its keys ask.
type tv struct {
	dev      *cec.Fake
	statuses chan call.Status
	mu       sync.Mutex
	actions  []string
}

func startTV(t *testing.T) *tv {
	t.Helper()
	tv := &tv{dev: cec.NewFake(), statuses: make(chan call.Status)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runCEC(ctx, cec.NewSource(tv.dev, nil), tv.statuses, func(_ context.Context, a string) {
			tv.mu.Lock()
			tv.actions = append(tv.actions, a)
			tv.mu.Unlock()
		}, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return tv
}

// status hands runCEC a status and waits until it has taken it and the
// one after (so that what it sent for the first is sent).
func (tv *tv) status(st call.Status) {
	tv.statuses <- st
	tv.statuses <- st
}

func (tv *tv) opcodes() []cec.Opcode {
	var ops []cec.Opcode
	for _, m := range tv.dev.Sent() {
		ops = append(ops, m.Opcode)
	}
	return ops
}

func (tv *tv) waitActions(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		tv.mu.Lock()
		got := slices.Clone(tv.actions)
		tv.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %d actions, have %v", n, got)
		}
	}
}

func TestRingingWakesTheTVAndTheEndGivesItBack(t *testing.T) {
	tv := startTV(t)
	tv.status(call.Status{State: call.Idle, Line: true})
	if got := tv.dev.Sent(); len(got) != 0 {
		t.Fatalf("an idle box sent %v", got)
	}
	tv.status(call.Status{State: call.Ringing, Line: true})
	want := []cec.Opcode{cec.OpImageViewOn, cec.OpActiveSource}
	if got := tv.opcodes(); !slices.Equal(got, want) {
		t.Fatalf("ringing sent %x, want Image View On, Active Source %x", got, want)
	}
	if as := tv.dev.Sent()[1]; !bytes.Equal(as.Bytes(), []byte{0x4f, 0x82, 0x10, 0x00}) {
		t.Errorf("Active Source is % x, want the box's physical address 1.0.0.0: 4f 82 10 00", as.Bytes())
	}
	tv.status(call.Status{State: call.InCall, CallWanted: true}) // answered: the TV shows the box again
	want = append(want, cec.OpImageViewOn, cec.OpActiveSource)
	tv.status(call.Status{State: call.Idle, Line: true}) // hung up
	want = append(want, cec.OpInactiveSource)
	if got := tv.opcodes(); !slices.Equal(got, want) {
		t.Fatalf("sent %x, want %x", got, want)
	}
	if last := tv.dev.Sent()[4]; last.To != cec.AddressTV || !bytes.Equal(last.Operands, []byte{0x10, 0x00}) {
		t.Errorf("Inactive Source is %v, want it to the TV with 1.0.0.0", last)
	}
}

func TestTheInputIsGivenBackOnlyIfTheBoxTookIt(t *testing.T) {
	t.Run("a TV without CEC", func(t *testing.T) {
		tv := startTV(t)
		tv.dev.SetNoTV(true)
		tv.status(call.Status{State: call.Ringing})
		tv.status(call.Status{State: call.Idle})
		if got := tv.dev.Sent(); len(got) != 0 {
			t.Errorf("sent %v to a TV that never answered", got)
		}
	})
	t.Run("switched away during the call", func(t *testing.T) {
		tv := startTV(t)
		tv.status(call.Status{State: call.InCall, CallWanted: true})
		tv.dev.Deliver([]byte{0x0f, byte(cec.OpRoutingChange), 0x10, 0x00, 0x30, 0x00}) // the TV's remote: HDMI 3
		tv.dev.Deliver([]byte{0x04, byte(cec.OpUserControlPressed), byte(cec.KeyMute)}) // read after it
		tv.waitActions(t, 1)
		tv.status(call.Status{State: call.Idle})
		if got := tv.opcodes(); slices.Contains(got, cec.OpInactiveSource) {
			t.Errorf("sent %x: Inactive Source though the TV shows another input now", got)
		}
	})
}

func TestTheRemotesKeysAreTheBoxsActions(t *testing.T) {
	tv := startTV(t)
	press := func(k cec.Key, held bool) {
		tv.dev.Deliver([]byte{0x04, byte(cec.OpUserControlPressed), byte(k)})
		if !held {
			tv.dev.Deliver([]byte{0x04, byte(cec.OpUserControlReleased)})
		}
	}
	press(cec.KeySelect, true)
	press(cec.KeySelect, false) // held: the repeat does not answer twice
	press(cec.KeyMute, false)
	press(0x50, false) // Angle: not the box's
	press(cec.KeyVolumeUp, true)
	press(cec.KeyVolumeUp, false) // held: the volume goes on up
	press(cec.KeyRed, false)
	press(cec.KeyBack, false)
	press(cec.KeyYellow, false)
	press(cec.KeyBlue, false)
	want := []string{"answer", "mute", "volume_up", "volume_up", "hang_up", "hang_up", "share_other", "share"}
	if got := tv.waitActions(t, len(want)); !slices.Equal(got, want) {
		t.Errorf("actions %q, want %q", got, want)
	}
}

func TestCECOffOpensNothing(t *testing.T) {
	cfg := config.Default()
	cfg.CEC.Enabled = false
	cfg.CEC.Device = "/dev/cec-test" // named: opened at once if the setting were ignored
	d := &daemon{cfg: cfg, log: slog.New(slog.DiscardHandler), openCEC: func(path string) (cec.Device, error) {
		t.Errorf("cec.enabled = false, yet %s was opened", path)
		return nil, errors.New("no")
	}}
	var wg sync.WaitGroup
	d.startCEC(context.Background(), &wg)
	wg.Wait()
}

func TestChooseCECAdapter(t *testing.T) {
	addrs := map[string]cec.PhysicalAddress{"/dev/cec0": 0, "/dev/cec1": cec.NoPhysicalAddress, "/dev/cec2": 0x2000}
	physical := func(p string) (cec.PhysicalAddress, error) {
		a, ok := addrs[p]
		if !ok {
			return 0, errors.New("gone")
		}
		return a, nil
	}
	for _, tc := range []struct {
		setting  string
		adapters []string
		want     string // "" for an error
	}{
		{"/dev/cec9", nil, "/dev/cec9"},
		{"auto", nil, ""},
		{"auto", []string{"/dev/cec0", "/dev/cec1", "/dev/cec2"}, "/dev/cec2"}, // the one with a TV
		{"auto", []string{"/dev/cec0", "/dev/cec1"}, "/dev/cec1"},              // not the TV's own
		{"auto", []string{"/dev/cec0", "/dev/cec7"}, ""},
	} {
		got, err := chooseCECAdapter(tc.setting, tc.adapters, physical)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("%s of %v: %q, %v; want %q", tc.setting, tc.adapters, got, err, tc.want)
		}
	}
}
