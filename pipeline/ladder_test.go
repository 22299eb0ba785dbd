package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// sizeEncoder keeps the size of each picture it codes and whether it was
// asked for a keyframe first.
type sizeEncoder struct {
	fakeEncoder
	mu    sync.Mutex
	coded []string // "WxH", with a "*" for a keyframe
	want  bool     // a keyframe was asked for
}

func (e *sizeEncoder) ForceKeyFrame() { e.mu.Lock(); e.want = true; e.mu.Unlock() }
func (e *sizeEncoder) Encode(f camera.Frame) (media.EncodedFrame, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := fmt.Sprintf("%dx%d", f.Format.Width, f.Format.Height)
	if e.want {
		s += "*"
		e.want = false
	}
	e.coded = append(e.coded, s)
	return media.EncodedFrame{Data: []byte{1}, Keyframe: e.want}, nil
}

func ladderOf(t *testing.T, bitrate int) (*ladder, []*sizeEncoder) {
	t.Helper()
	var layers []SimulcastLayer
	var encs []*sizeEncoder
	for _, l := range PlanSimulcast(1280, 720, bitrate) {
		e := &sizeEncoder{}
		encs = append(encs, e)
		layers = append(layers, SimulcastLayer{Width: l.Width, Height: l.Height, Encoder: e})
	}
	return newLadder(layers, 30, bitrate, quietLog), encs
}

func TestLadderFollowsTheBitrate(t *testing.T) {
	l, encs := ladderOf(t, 1_500_000)
	start := time.Unix(1000, 0)
	for _, step := range []struct {
		at   time.Duration
		bits int
		want string
	}{
		{0, 1_500_000, "1280x720"},
		{time.Second, 600_000, "1280x720"},     // above 553 kbit/s: stays
		{2 * time.Second, 400_000, "1280x720"}, // under: down after a second
		{2500 * time.Millisecond, 600_000, "1280x720"},
		{2800 * time.Millisecond, 400_000, "1280x720"}, // a short cut passes
		{3700 * time.Millisecond, 400_000, "1280x720"},
		{3800 * time.Millisecond, 400_000, "640x360"},
		{3900 * time.Millisecond, 60_000, "320x180"}, // under half of 138 kbit/s for 360p: at once
		{4 * time.Second, 300_000, "320x180"},        // enough for 360p: after 3 s
		{5 * time.Second, 300_000, "320x180"},
		{6 * time.Second, 200_000, "320x180"}, // a dip starts the wait again
		{7 * time.Second, 300_000, "320x180"},
		{9 * time.Second, 300_000, "320x180"},
		{10 * time.Second, 300_000, "640x360"},
		{11 * time.Second, 800_000, "640x360"}, // not enough for 720p (970)
		{20 * time.Second, 1_000_000, "640x360"},
		{23 * time.Second, 1_000_000, "1280x720"},
		{24 * time.Second, 50_000, "320x180"}, // down at once, two sizes
	} {
		l.setBitrate(step.bits, start.Add(step.at))
		rung, _ := l.current()
		if got := l.size(rung); got != step.want {
			t.Errorf("at %v with %d kbit/s: %s, want %s", step.at, step.bits/1000, got, step.want)
		}
	}
	for _, e := range encs {
		if got := e.bitrate.Load(); got != 50_000 {
			t.Errorf("an encoder's bitrate is %d, want every size at the stream's, 50000", got)
		}
	}
}

// TestLadderSendsOneSize: the pictures sent are the size the bitrate
// allows, made from the camera's, and a change of size starts with a
// keyframe; sizes not sent code nothing.
func TestLadderSendsOneSize(t *testing.T) {
	l, encs := ladderOf(t, 1_500_000)
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: 1280, Height: 720, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sent := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = l.send(ctx, src, func(media.EncodedFrame) error {
		sent++
		switch sent {
		case 3:
			l.setBitrate(250_000, time.Now()) // under half of 720p's threshold: at once
		case 6:
			l.setBitrate(60_000, time.Now())
		case 9:
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range encs {
		got = append(got, e.coded...)
	}
	want := []string{"1280x720", "1280x720", "1280x720", "640x360*", "640x360", "640x360", "320x180*", "320x180", "320x180"}
	if !slices.Equal(got, want) {
		t.Errorf("coded %v, want %v", got, want)
	}
}

// TestLadderKeepsAnEasyPicture: the camera's size sending 300 kbit/s of
// an easy picture (capped, it sends what the picture needs) keeps its size
// while the estimate sits at gcc's 1.5 times that, under the 553 kbit/s
// that 720p30 needs when the network is short, and through a cut to 0.85
// of it; under 0.7 of what it needed, for a second, it goes down.
func TestLadderKeepsAnEasyPicture(t *testing.T) {
	l, _ := ladderOf(t, 1_500_000)
	start := time.Unix(1000, 0)
	for range 30 {
		l.coded(0, 300_000/8/30)
	}
	for _, step := range []struct {
		at   time.Duration
		bits int
		want string
	}{
		{0, 450_000, "1280x720"},
		{time.Second, 450_000, "1280x720"},
		{3 * time.Second, 450_000, "1280x720"},
		{3100 * time.Millisecond, 255_000, "1280x720"}, // gcc's 0.85: over 0.7 of the 300 it needed
		{4 * time.Second, 255_000, "1280x720"},
		{5100 * time.Millisecond, 200_000, "1280x720"}, // under 0.7 of 300, not yet for a second
		{6200 * time.Millisecond, 200_000, "640x360"},
	} {
		l.setBitrate(step.bits, start.Add(step.at))
		rung, _ := l.current()
		if got := l.size(rung); got != step.want {
			t.Errorf("at %v with %d kbit/s, sending 300: %s, want %s", step.at, step.bits/1000, got, step.want)
		}
	}
}
