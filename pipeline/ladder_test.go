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

// ladderOf is a ladder of 720p's sizes whose encoders are sizeEncoders:
// encs[i] is size i's while open, a new one each time it is opened.
func ladderOf(t *testing.T, bitrate int) (l *ladder, encs func() []*sizeEncoder) {
	t.Helper()
	plan := PlanSimulcast(1280, 720, bitrate)
	var mu sync.Mutex
	var opened [][]*sizeEncoder // by size, each encoder opened
	open := func(i int) (media.VideoEncoder, error) {
		mu.Lock()
		defer mu.Unlock()
		e := &sizeEncoder{}
		opened[i] = append(opened[i], e)
		return e, nil
	}
	opened = make([][]*sizeEncoder, len(plan))
	l, err := newLadder(plan, 30, bitrate, open, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, func() []*sizeEncoder {
		mu.Lock()
		defer mu.Unlock()
		var all []*sizeEncoder
		for _, es := range opened {
			all = append(all, es...)
		}
		return all
	}
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
	for _, e := range encs() {
		if got := e.bitrate.Load(); got != 50_000 {
			t.Errorf("an encoder's bitrate is %d, want every open size at the stream's, 50000", got)
		}
	}
}

// sendNine has l send nine pictures of a 720p test pattern, calling after
// each the step of its count (1 to 9).
func sendNine(t *testing.T, l *ladder, step func(sent int)) {
	t.Helper()
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
		step(sent)
		if sent == 9 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLadderSendsOneSize: the pictures sent are the size the bitrate
// allows, made from the camera's, and a change of size starts with a
// keyframe; sizes not sent code nothing.
func TestLadderSendsOneSize(t *testing.T) {
	l, encs := ladderOf(t, 1_500_000)
	sendNine(t, l, func(sent int) {
		switch sent {
		case 3:
			l.setBitrate(250_000, time.Now()) // under half of 720p's threshold: at once
		case 6:
			l.setBitrate(60_000, time.Now())
		}
	})
	var got []string
	for _, e := range encs() {
		got = append(got, e.coded...)
	}
	want := []string{"1280x720", "1280x720", "1280x720", "640x360*", "640x360", "640x360", "320x180*", "320x180", "320x180"}
	if !slices.Equal(got, want) {
		t.Errorf("coded %v, want %v", got, want)
	}
	// Sizes left a moment ago keep their encoders, to come back to.
	for i, e := range encs() {
		if e.closed {
			t.Errorf("encoder %d was closed a moment after its size was left", i)
		}
	}
}

// TestLadderOpensASizeWhenSent: only the camera size's encoder is open
// until the stream goes down; a smaller size's encoder opens when that
// size is first sent, at the stream's bitrate, and a size unused for
// idleClose has its encoder closed, opened anew when sent again.
func TestLadderOpensASizeWhenSent(t *testing.T) {
	l, encs := ladderOf(t, 1_500_000)
	if n := len(encs()); n != 1 {
		t.Fatalf("%d encoders open before the first picture, want the camera size's alone", n)
	}
	l.idleClose = 0    // a size left is closed at the next picture
	var at360 []string // the encoders at the first 360p picture
	sendNine(t, l, func(sent int) {
		switch sent {
		case 3:
			l.setBitrate(250_000, time.Now()) // 360p at once
		case 4:
			for _, e := range encs() {
				at360 = append(at360, fmt.Sprintf("%d closed=%v", e.bitrate.Load(), e.closed))
			}
		case 6:
			now := time.Now()
			l.setBitrate(1_500_000, now)
			l.setBitrate(1_500_000, now.Add(ladderUpAfter)) // back to 720p
		}
	})
	// The first 720p encoder, closed once 360p was sent; 360p's, opened
	// at 250 kbit/s.
	if want := []string{"250000 closed=true", "250000 closed=false"}; !slices.Equal(at360, want) {
		t.Errorf("at the first 360p picture the encoders were %v, want %v", at360, want)
	}
	var coded [][]string
	var closed []bool
	for _, e := range encs() {
		coded = append(coded, e.coded)
		closed = append(closed, e.closed)
	}
	want := [][]string{
		{"1280x720", "1280x720", "1280x720"},  // 720p, closed at 360p
		{"1280x720*", "1280x720", "1280x720"}, // 720p opened again
		{"640x360*", "640x360", "640x360"},    // 360p, closed back at 720p
	}
	if !slices.EqualFunc(coded, want, slices.Equal) || !slices.Equal(closed, []bool{true, false, true}) {
		t.Errorf("encoders coded %v (closed %v), want %v (closed [true false true])", coded, closed, want)
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
