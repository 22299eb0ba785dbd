package cec

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOneTouchPlayWakesTheTVThenTakesItsInput(t *testing.T) {
	dev := NewFake()
	dev.Physical = 0x2100 // HDMI 2, behind a receiver's input 1
	src := NewSource(dev, nil)
	if err := src.OneTouchPlay(); err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{From: 4, To: AddressTV, Opcode: OpImageViewOn},
		{From: 4, To: AddressBroadcast, Opcode: OpActiveSource, Operands: []byte{0x21, 0x00}},
	}
	if got := dev.Sent(); !sameMessages(got, want) {
		t.Fatalf("sent %v, want Image View On to the TV, then Active Source 2.1.0.0 to everyone: %v", got, want)
	}
	if got := dev.Sent()[1].Bytes(); !bytes.Equal(got, []byte{0x4f, 0x82, 0x21, 0x00}) {
		t.Errorf("Active Source on the bus is % x, want 4f 82 21 00", got)
	}
	if !src.Took() {
		t.Error("after One Touch Play the box does not hold the input")
	}
}

func TestGiveBackOnlyWhatTheBoxTook(t *testing.T) {
	t.Run("never took it", func(t *testing.T) {
		dev := NewFake()
		if err := NewSource(dev, nil).GiveBack(); err != nil {
			t.Fatal(err)
		}
		if got := dev.Sent(); len(got) != 0 {
			t.Errorf("sent %v though the box never took the input", got)
		}
	})
	t.Run("took it", func(t *testing.T) {
		dev := NewFake()
		src := NewSource(dev, nil)
		_ = src.OneTouchPlay()
		if err := src.GiveBack(); err != nil {
			t.Fatal(err)
		}
		want := Message{From: 4, To: AddressTV, Opcode: OpInactiveSource, Operands: []byte{0x10, 0x00}}
		if got := dev.Sent(); len(got) != 3 || !sameMessages(got[2:], []Message{want}) {
			t.Fatalf("sent %v, want it to end with Inactive Source 1.0.0.0 to the TV", got)
		}
		_ = src.GiveBack()
		if got := dev.Sent(); len(got) != 3 {
			t.Errorf("a second GiveBack sent %v again", got[3:])
		}
	})
	t.Run("someone else took it since", func(t *testing.T) {
		dev := NewFake()
		src := NewSource(dev, nil)
		_ = src.OneTouchPlay()
		ctx, cancel := context.WithCancel(context.Background())
		done := runSource(t, ctx, src, func(Press) {})
		dev.Deliver([]byte{0x8f, byte(OpActiveSource), 0x20, 0x00}) // a player at 2.0.0.0
		waitFor(t, func() bool { return !src.Took() }, "the other source's Active Source to be heard")
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run ended with %v", err)
		}
		_ = src.GiveBack()
		if got := dev.Sent(); len(got) != 2 {
			t.Errorf("sent %v after another source took the input: the box must not switch the TV away from it", got[2:])
		}
	})
}

func TestRemoteKeys(t *testing.T) {
	dev := NewFake()
	src := NewSource(dev, nil)
	var mu sync.Mutex
	var got []Press
	ctx, cancel := context.WithCancel(context.Background())
	done := runSource(t, ctx, src, func(p Press) { mu.Lock(); got = append(got, p); mu.Unlock() })
	for _, b := range [][]byte{
		{0x04, 0x44, 0x00}, // the TV to the box: Select pressed
		{0x04, 0x44, 0x00}, // held: repeated
		{0x04, 0x45},       // released
		{0x04, 0x44, 0x0d}, // Back
		{0x04, 0x45},
		{0x04, 0x44, 0x41}, // Volume Up, held
		{0x04, 0x44, 0x41},
	} {
		dev.Deliver(b)
	}
	want := []Press{
		{Key: KeySelect}, {Key: KeySelect, Repeat: true}, {Key: KeyBack},
		{Key: KeyVolumeUp}, {Key: KeyVolumeUp, Repeat: true},
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= len(want) }, "the keys")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run ended with %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
}

// Whatever is on the bus, from any address, only a key sent to the box
// is a key, and nothing makes the box send or stop.
func TestHostileMessagesAreIgnored(t *testing.T) {
	dev := NewFake()
	var logs bytes.Buffer
	src := NewSource(dev, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	var mu sync.Mutex
	var got []Press
	ctx, cancel := context.WithCancel(context.Background())
	done := runSource(t, ctx, src, func(p Press) { mu.Lock(); got = append(got, p); mu.Unlock() })
	var bad [][]byte
	for from := range 16 {
		for _, to := range []byte{4, 0, 15, 8} {
			h := byte(from)<<4 | to
			bad = append(bad,
				[]byte{h},                      // a poll: no opcode
				[]byte{h, 0xff},                // an opcode nobody has
				[]byte{h, 0x44},                // a key press with no key
				[]byte{h, 0x82},                // Active Source with no address
				[]byte{h, 0x86, 0x10},          // Set Stream Path cut short
				[]byte{h, 0x80, 0x00, 0x00},    // Routing Change cut short
				bytes.Repeat([]byte{h}, 17),    // longer than CEC allows
				[]byte{h, 0x9d, 0x10, 0x00, 1}, // Inactive Source from someone else
			)
			if to != 4 {
				bad = append(bad, []byte{h, 0x44, 0x00}) // a key for someone else
			}
		}
	}
	// Nothing at all; the box's own broadcast; a key claiming to come
	// from the box itself (a loop, or a device spoofing it).
	bad = append(bad, []byte{}, []byte{0x4f, 0x44, 0x00}, []byte{0x44, 0x44, 0x00})
	for _, b := range bad {
		dev.Deliver(b)
	}
	dev.Deliver([]byte{0x04, 0x44, 0x71}) // then one real key: the bad ones did not stop the reader
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 }, "the real key after the bad messages")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run ended with %v", err)
	}
	if want := []Press{{Key: KeyBlue}}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want only %v", got, want)
	}
	if sent := dev.Sent(); len(sent) != 0 {
		t.Errorf("the box sent %v in answer to hostile messages", sent)
	}
	if !strings.Contains(logs.String(), "no opcode") {
		t.Errorf("the log does not say what was wrong with a message without opcode:\n%s", logs.String())
	}
}

func TestRequestActiveSourceIsAnsweredWhileTheBoxShows(t *testing.T) {
	dev := NewFake()
	src := NewSource(dev, nil)
	ctx, cancel := context.WithCancel(context.Background())
	keys := make(chan Press, 1)
	done := runSource(t, ctx, src, func(p Press) { keys <- p })
	dev.Deliver([]byte{0x0f, 0x85})       // not showing: no answer
	dev.Deliver([]byte{0x04, 0x44, 0x00}) // a key after it: the request was read before it
	<-keys
	if got := dev.Sent(); len(got) != 0 {
		t.Fatalf("answered %v while the box does not show", got)
	}
	_ = src.OneTouchPlay()
	dev.Deliver([]byte{0x0f, 0x85})
	waitFor(t, func() bool { return len(dev.Sent()) == 3 }, "an answer to Request Active Source")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run ended with %v", err)
	}
	if got := dev.Sent()[2]; got.Opcode != OpActiveSource || got.To != AddressBroadcast {
		t.Errorf("answered %v, want Active Source to everyone", got)
	}
}

func TestATVWithoutCECIsLoggedOnce(t *testing.T) {
	dev := NewFake()
	dev.SetNoTV(true)
	var logs bytes.Buffer
	src := NewSource(dev, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 3 {
		if err := src.OneTouchPlay(); err != nil {
			t.Fatalf("a TV without CEC is an error: %v", err)
		}
	}
	if n := strings.Count(logs.String(), "the TV did not answer"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}
	if src.Took() {
		t.Error("the box holds an input the TV never gave it")
	}
	if err := src.GiveBack(); err != nil || len(dev.Sent()) != 0 {
		t.Errorf("GiveBack without a TV: %v, sent %v", err, dev.Sent())
	}
}

func runSource(t *testing.T, ctx context.Context, src *Source, keys func(Press)) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, keys) }()
	return done
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %s", what)
		}
	}
}

func sameMessages(a, b []Message) bool {
	return slices.EqualFunc(a, b, func(x, y Message) bool { return bytes.Equal(x.Bytes(), y.Bytes()) })
}
