package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/pipeline"
)

// fakeHDMI is an HDMI input at the V4L2 interface: its signal is set by
// the test, each setting a source-change event.
type fakeHDMI struct {
	mu      sync.Mutex
	sig     camera.Format
	err     error // camera.ErrNoSignal while unplugged
	changes chan struct{}
	asked   int // how often Signal was called; guarded by mu
}

func newFakeHDMI() *fakeHDMI {
	return &fakeHDMI{err: fmt.Errorf("fake HDMI: %w", camera.ErrNoSignal), changes: make(chan struct{}, 8)}
}

func (f *fakeHDMI) plug(w, h int) {
	f.mu.Lock()
	f.sig, f.err = camera.Format{Pixel: camera.PixelFormatI420, Width: w, Height: h, FPS: 60}, nil
	f.mu.Unlock()
	f.changes <- struct{}{}
}

func (f *fakeHDMI) unplug() {
	f.mu.Lock()
	f.sig, f.err = camera.Format{}, fmt.Errorf("fake HDMI: %w", camera.ErrNoSignal)
	f.mu.Unlock()
	f.changes <- struct{}{}
}

func (f *fakeHDMI) Signal() (camera.Format, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	return f.sig, f.err
}

// seen waits until Signal is asked after the n-th time: the share saw the
// last change.
func (f *fakeHDMI) seen(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		f.mu.Lock()
		asked := f.asked
		f.mu.Unlock()
		if asked > n {
			return
		}
	}
	t.Fatal("the share did not look at the signal after it changed")
}

func (f *fakeHDMI) asks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked
}

func (f *fakeHDMI) WaitChange(ctx context.Context) error {
	select {
	case <-f.changes:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeHDMI) Open(ctx context.Context, sig camera.Format) (camera.Source, error) {
	return &stillSource{format: sig}, nil
}

// stillSource gives a grey picture of its format, 60 a second.
type stillSource struct {
	format camera.Format
	seq    uint64
	at     time.Time
}

func (s *stillSource) Format() camera.Format { return s.format }
func (s *stillSource) Close() error          { return nil }
func (s *stillSource) ReadFrame(ctx context.Context) (camera.Frame, error) {
	if s.at.IsZero() {
		s.at = time.Now()
	}
	s.at = s.at.Add(time.Second / 60)
	s.seq++
	return camera.Frame{Format: s.format, Seq: s.seq, Time: s.at,
		Data: make([]byte, s.format.Width*s.format.Height*3/2)}, ctx.Err()
}

// shareLog runs a ContentShare of in and records what it does to the call.
type shareLog struct {
	events chan string
	share  *pipeline.ContentShare
}

func runShare(t *testing.T, in pipeline.ContentInput) *shareLog {
	t.Helper()
	l := &shareLog{events: make(chan string, 32)}
	l.share = pipeline.NewContentShare(pipeline.ContentOptions{
		Input: in, FPS: 5,
		Publish:   func(w, h int) error { l.events <- fmt.Sprintf("publish %dx%d", w, h); return nil },
		Unpublish: func() { l.events <- "unpublish" },
		Send: func(ctx context.Context, src camera.Source) error {
			f, err := src.ReadFrame(ctx)
			if err != nil {
				return err
			}
			l.events <- fmt.Sprintf("send %dx%d@%d", f.Format.Width, f.Format.Height, src.Format().FPS)
			<-ctx.Done()
			return nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.share.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return l
}

func (l *shareLog) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-l.events:
			if got != w {
				t.Fatalf("the share did %q, want %q", got, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the share did not %q within 5 s", w)
		}
	}
}

func TestContentShareFollowsTheSignal(t *testing.T) {
	in := newFakeHDMI()
	l := runShare(t, in)
	ctx := context.Background()
	if err := l.share.Start(ctx); !errors.Is(err, camera.ErrNoSignal) {
		t.Fatalf("Start without a signal: %v, want ErrNoSignal", err)
	}
	if st := l.share.Status(); st.Sharing || !st.NoSignal {
		t.Errorf("status without a signal: %+v, want NoSignal", st)
	}

	in.plug(1920, 1080)
	l.expect(t, "publish 1920x1080", "send 1920x1080@5")
	if st := l.share.Status(); !st.Sharing || st.Width != 1920 || st.FPS != 60 || st.NoSignal || !strings.Contains(st.Line, "1920x1080") {
		t.Errorf("status while sharing: %+v", st)
	}

	// A laptop changes its resolution: the encoders start again at the
	// new size, the share (the call's track) stays.
	in.plug(1280, 720)
	l.expect(t, "send 1280x720@5")

	in.unplug()
	l.expect(t, "unpublish")
	if st := l.share.Status(); st.Sharing || !st.NoSignal || !strings.Contains(st.Line, "no signal") {
		t.Errorf("status after the cable was pulled: %+v, want a line saying no signal", st)
	}

	in.plug(1024, 768)
	l.expect(t, "publish 1024x768", "send 1024x768@5")
}

func TestContentShareStopAndStart(t *testing.T) {
	in := newFakeHDMI()
	l := runShare(t, in)
	ctx := context.Background()
	in.plug(1920, 1080)
	l.expect(t, "publish 1920x1080", "send 1920x1080@5")

	if err := l.share.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	l.expect(t, "unpublish")
	if st := l.share.Status(); st.Sharing || !st.Stopped || st.NoSignal {
		t.Errorf("status after Stop: %+v, want Stopped", st)
	}
	// Stopped by hand: a timing change does not start it again...
	asked := in.asks()
	in.plug(1280, 720)
	in.seen(t, asked)
	if err := l.share.Stop(ctx); err != nil { // once this is answered, the change was acted on
		t.Fatal(err)
	}
	select {
	case ev := <-l.events:
		t.Fatalf("a timing change after Stop: %q, want nothing", ev)
	default:
	}
	if err := l.share.Start(ctx); err != nil { // ...Start does
		t.Fatal(err)
	}
	l.expect(t, "publish 1280x720", "send 1280x720@5")
	select {
	case ev := <-l.events:
		t.Fatalf("after Start: %q, want nothing more", ev)
	default:
	}
	if st := l.share.Status(); !st.Sharing || st.Stopped || st.Width != 1280 {
		t.Errorf("status after Start: %+v, want sharing 1280x720", st)
	}
}

// An HDMI input's 60 Hz thinned to content's 5 fps: every twelfth picture,
// 200 ms apart.
func TestAtMostFPS(t *testing.T) {
	src := pipeline.AtMostFPS(&stillSource{format: camera.Format{Pixel: camera.PixelFormatI420, Width: 64, Height: 36, FPS: 60}}, 5)
	if got := src.Format().FPS; got != 5 {
		t.Errorf("Format().FPS = %d, want 5", got)
	}
	var seqs []uint64
	var last time.Time
	for i := range 6 {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if gap := f.Time.Sub(last); i > 0 && (gap-200*time.Millisecond).Abs() > time.Millisecond {
			t.Errorf("picture %d came %v after the one before, want 200ms", f.Seq, gap)
		}
		last = f.Time
		seqs = append(seqs, f.Seq)
	}
	t.Logf("pictures kept: %v", seqs)
}

// brokenHDMI is an input that cannot say what its signal is (its device
// went away).
type brokenHDMI struct{ fakeHDMI }

func (*brokenHDMI) Signal() (camera.Format, error) {
	return camera.Format{}, fmt.Errorf("fake HDMI: %w", camera.ErrGone)
}

// An input that fails ends Run with its error, naming it, rather than
// hanging: callboxd then opens it again.
func TestContentShareEndsWhenTheInputFails(t *testing.T) {
	in := &brokenHDMI{*newFakeHDMI()}
	share := pipeline.NewContentShare(pipeline.ContentOptions{Input: in, FPS: 5,
		Publish: func(int, int) error { return nil }, Unpublish: func() {},
		Send: func(ctx context.Context, _ camera.Source) error { <-ctx.Done(); return nil }})
	done := make(chan error, 1)
	go func() { done <- share.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, camera.ErrGone) || !strings.Contains(err.Error(), "content input") {
			t.Errorf("Run: %v, want the input's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its input failed")
	}
}
