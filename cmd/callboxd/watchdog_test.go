package main

// The systemd watchdog as systemd sees it (fakeSystemd, systemd_test.go)
// while callboxd runs in-process as its main runs it (runMode): fed while
// the box idles or calls, not fed while a loop of the call is stuck.

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// watchdogSec is the tests' WatchdogSec: fed every half of it, while
// every loop beat within it.
const watchdogSec = time.Second

// withWatchdog plays systemd with WatchdogSec for this process.
func withWatchdog(t *testing.T) *notifySocket {
	t.Helper()
	sd := fakeSystemd(t)
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(watchdogSec.Microseconds(), 10))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	return sd
}

// feeds counts the WATCHDOG=1 that come during d.
func (s *notifySocket) feeds(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		if msg, ok := s.within(time.Until(end)); ok && msg == "WATCHDOG=1" {
			n++
		}
	}
	return n
}

// startBox runs m as callboxd's main does, until the test ends.
func startBox(t *testing.T, m mode, controlSocket string) *daemontest.Log {
	t.Helper()
	logs := &daemontest.Log{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runMode(ctx, m, controlSocket, slog.New(slog.NewTextHandler(logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("callboxd stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("callboxd said:\n%s", logs.String())
		}
	})
	return logs
}

// idleBox is settings for a box that sends a small test pattern and a
// tone, with no screen and no speaker, and wants no call; its server
// refuses connections.
func idleBox(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.APIKey, cfg.Call.APISecret = config.ServerURLs{"ws://" + refusingAddr(t)}, "watchdog", "devkey", "secret"
	cfg.Video.Width, cfg.Video.Height, cfg.Video.FPS = 160, 90, 15
	cfg.Video.Encoder = config.EncoderSoftware
	cfg.Display.Output = config.DisplayNone
	cfg.Speaker.Device = config.SpeakerNone
	cfg.Controls.StartInCall = false
	return cfg
}

// refusingAddr is an address on 127.0.0.1 where nothing listens.
func refusingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestWatchdogIsFedWhileTheBoxIdlesOrCalls: whatever the box is doing
// when nothing is wrong (waiting for setup, idle, without its camera,
// unable to reach the server, in a call), systemd's watchdog is fed every
// half of WatchdogSec.
func TestWatchdogIsFedWhileTheBoxIdlesOrCalls(t *testing.T) {
	tests := []struct {
		name  string
		start func(t *testing.T) (mode, string)
		says  []string // what the box says once in that state
	}{
		{"waiting for setup", func(t *testing.T) (mode, string) {
			o, err := parseFlags([]string{"-data", t.TempDir(), "-listen", "127.0.0.1:0"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := openMode(o)
			if err != nil {
				t.Fatal(err)
			}
			return m, o.control
		}, []string{"waiting for setup", "local API"}},
		{"idle, no call wanted", func(t *testing.T) (mode, string) {
			return configMode{cfg: idleBox(t)}, "" // camera and microphone closed
		}, []string{"callboxd starting"}},
		{"the camera missing", func(t *testing.T) (mode, string) {
			cfg := idleBox(t)
			cfg.Controls.StartInCall = true // the camera opens for a call
			cfg.Video.Camera = "/dev/video-does-not-exist"
			return configMode{cfg: cfg}, ""
		}, []string{"camera /dev/video-does-not-exist does not work", "sending audio"}},
		{"the server refusing", func(t *testing.T) (mode, string) {
			cfg := idleBox(t)
			cfg.Controls.StartInCall = true
			return configMode{cfg: cfg}, ""
		}, []string{"cannot join the call", "sending video", "sending audio"}},
		{"in a call, with screen and speaker", func(t *testing.T) (mode, string) {
			srv := startServer(t)
			cfg := idleBox(t)
			cfg.Controls.StartInCall = true
			cfg.Call.URL, cfg.Call.APIKey, cfg.Call.APISecret = config.ServerURLs{srv.URL}, srv.APIKey, srv.APISecret
			cfg.Display.Output, cfg.Display.Width, cfg.Display.Height, cfg.Display.FPS = "offscreen", 160, 90, 10
			cfg.Speaker.Device = "file:" + filepath.Join(t.TempDir(), "speaker.raw")
			return configMode{cfg: cfg}, ""
		}, []string{"in the call", "sending video", "sending audio", "showing the call", "playing the call's sound"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			daemontest.CheckGoroutines(t)
			sd := withWatchdog(t)
			m, control := tt.start(t)
			logs := startBox(t, m, control)
			if got := sd.next(); got != "READY=1" {
				t.Fatalf("first message %q, want READY=1", got)
			}
			for _, line := range tt.says {
				logs.Wait(t, regexp.MustCompile(regexp.QuoteMeta(line)), 30*time.Second)
			}
			// Fed every 0.5 s: 6 in 3 s; a feed or two may come late on a
			// busy machine, none may be missing for long.
			if n := sd.feeds(3 * watchdogSec); n < 4 {
				t.Errorf("the watchdog was fed %d times in %v, want every %v", n, 3*watchdogSec, watchdogSec/2)
			}
		})
	}
}

// TestStuckLoopStarvesTheWatchdog: when a loop of the call stops moving
// (an encoder whose Encode never returns, a speaker whose write never
// does), systemd's watchdog is no longer fed, so systemd restarts
// callboxd; the log names the loop. Once it moves again it is fed again.
func TestStuckLoopStarvesTheWatchdog(t *testing.T) {
	tests := []struct {
		name  string
		stuck string // the loop, as the log names it
		hang  func(d *daemon, h *hang)
	}{
		{"an encoder that hangs", "camera testpattern", func(d *daemon, h *hang) {
			enc := &hangingEncoder{hang: h}
			d.sendFrames = func(ctx context.Context, src camera.Source, out func(int, media.EncodedFrame) error) error {
				return pipeline.SendVideo(ctx, src, enc, func(f media.EncodedFrame) error { return out(0, f) })
			}
		}},
		{"a speaker that hangs", "speaker hanging", func(d *daemon, h *hang) {
			d.rx.cfg.Speaker.Device = "hanging" // what the log calls it; openSink opens it
			d.rx.openSink = func(context.Context) (audio.Sink, error) { return &hangingSpeaker{hang: h}, nil }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			daemontest.CheckGoroutines(t)
			sd := withWatchdog(t)
			h := newHang()
			cfg := idleBox(t)
			cfg.Controls.StartInCall = true // the camera opens only for a call; the server refuses it
			logs := startBox(t, configMode{cfg: cfg, prepare: func(d *daemon) { tt.hang(d, h) }}, "")
			t.Cleanup(h.end) // before the box is stopped: a hung loop does not stop
			if got := sd.next(); got != "READY=1" {
				t.Fatalf("first message %q, want READY=1", got)
			}
			if n := sd.feeds(2 * watchdogSec); n < 2 {
				t.Fatalf("before anything hangs the watchdog was fed %d times in %v", n, 2*watchdogSec)
			}

			h.start()
			select {
			case <-h.hung:
			case <-time.After(10 * time.Second):
				t.Fatal("nothing hung within 10 s")
			}
			// WatchdogSec for the silence to count, half of it more for
			// the next feed that does not come.
			sd.feeds(watchdogSec + watchdogSec/2)
			if n := sd.feeds(3 * watchdogSec); n > 0 {
				t.Errorf("with %s stuck the watchdog was fed %d times in %v, want none", tt.stuck, n, 3*watchdogSec)
			}
			logs.Wait(t, regexp.MustCompile(`systemd watchdog is no longer fed.*stalled="`+regexp.QuoteMeta(tt.stuck)+` \(silent`), 5*time.Second)

			h.end()
			if n := sd.feeds(3 * watchdogSec); n < 2 {
				t.Errorf("after %s moved again the watchdog was fed %d times in %v", tt.stuck, n, 3*watchdogSec)
			}
			logs.Wait(t, regexp.MustCompile("the systemd watchdog is fed again"), 5*time.Second)
		})
	}
}

// hang is a part that works, hangs from start until end, and works again.
type hang struct {
	started, hung, ended chan struct{}
	once                 [3]sync.Once
}

func newHang() *hang {
	return &hang{started: make(chan struct{}), hung: make(chan struct{}), ended: make(chan struct{})}
}

func (h *hang) start() { h.once[0].Do(func() { close(h.started) }) }
func (h *hang) end()   { h.once[2].Do(func() { close(h.ended) }) }

// maybe hangs, as a stuck driver does (whatever its context says), from
// start until end.
func (h *hang) maybe() {
	select {
	case <-h.started:
		h.once[1].Do(func() { close(h.hung) })
		<-h.ended
	default:
	}
}

// hangingEncoder codes each picture as a few bytes, and hangs while h does.
type hangingEncoder struct{ hang *hang }

func (e *hangingEncoder) Codec() media.Codec              { return media.CodecH264 }
func (e *hangingEncoder) Accepts(camera.PixelFormat) bool { return true }
func (e *hangingEncoder) ForceKeyFrame()                  {}
func (e *hangingEncoder) SetBitrate(int)                  {}
func (e *hangingEncoder) Close() error                    { return nil }

func (e *hangingEncoder) Encode(camera.Frame) (media.EncodedFrame, error) {
	e.hang.maybe()
	return media.EncodedFrame{Data: []byte{0, 0, 0, 1, 0x65, 0x88}, Duration: time.Second / 15}, nil
}

// hangingSpeaker plays in real time, and hangs while h does.
type hangingSpeaker struct {
	hang *hang
	next time.Time
}

func (s *hangingSpeaker) Write(ctx context.Context, pcm []int16) error {
	s.hang.maybe()
	if s.next.IsZero() {
		s.next = time.Now()
	}
	s.next = s.next.Add(time.Duration(len(pcm)) * time.Second / audio.SampleRate)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(s.next)):
		return nil
	}
}

func (s *hangingSpeaker) Close() error { return nil }
