package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/callbox/callbox/pipeline"
)

// countingSink plays at no pace and stops after a number of blocks.
type countingSink struct {
	blocks int
	cancel context.CancelFunc
}

func (s *countingSink) Write(ctx context.Context, pcm []int16) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.blocks--
	if s.blocks == 0 {
		s.cancel() // this block is played; the next Write is refused
	}
	return nil
}
func (s *countingSink) Close() error { return nil }

// ShowAt maps a picture's capture time to when the sound captured at the
// same instant is heard: pictures follow the speaker.
func TestMixerShowAtFollowsTheSound(t *testing.T) {
	m := pipeline.NewMixer(opusDecoder, 60*time.Millisecond)
	defer m.Close()
	m.OutputDelay = 30 * time.Millisecond
	if _, ok := m.ShowAt("alice", time.Now()); ok {
		t.Fatal("ShowAt knows a time before any sound was played")
	}
	captured0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) // the sender's clock, far from ours
	for i, p := range opusPackets(t, 440, 0.3, 0.1) {         // 20 ms packets, fewer than the buffer holds
		if err := m.Push("alice", pipeline.JitterPacket{Seq: uint16(i), Data: p, Captured: captured0.Add(time.Duration(i) * 20 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Push("bob", pipeline.JitterPacket{Seq: 1, Data: opusPackets(t, 440, 0.3, 0.2)[0]}); err != nil { // no capture times: no lip sync
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sink := &countingSink{blocks: 5, cancel: cancel} // 5 blocks of 10 ms: sound captured at +40 ms is heard last
	before := time.Now()
	if err := pipeline.Play(ctx, m, sink, 480, nil); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	// A picture captured 100 ms after the last block's sound is due 100 ms
	// after that block is heard (its write, plus the output delay).
	due, ok := m.ShowAt("alice", captured0.Add(140*time.Millisecond))
	if !ok {
		t.Fatal("ShowAt does not know alice's sound")
	}
	lo, hi := before.Add(130*time.Millisecond), after.Add(130*time.Millisecond)
	if due.Before(lo) || due.After(hi) {
		t.Errorf("due %v after the start, want %v to %v", due.Sub(before), lo.Sub(before), hi.Sub(before))
	}
	if _, ok := m.ShowAt("bob", captured0); ok {
		t.Error("ShowAt gave a time for a sender without capture times")
	}
	if _, ok := m.ShowAt("alice", time.Time{}); ok {
		t.Error("ShowAt gave a time for a picture without a capture time")
	}
}
