package main

// Lip sync, end to end: a participant whose picture flashes white and
// whose sound beeps at the same capture instants (every second, 100 ms
// long) joins a real LiveKit server; the box's receive side (the same
// receiver callboxd runs, in this process) draws it offscreen and plays it
// into a file. The flash's first frame on the screen and the beep's first
// sample in the speaker must be within 80 ms of each other. The sound is
// held 200 ms for jitter here, so without lip sync the picture would come
// about 200 ms before its sound.

import (
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	byteorder "encoding/binary"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/compose"
)

// flashing reports whether t is in a flash (and beep): the first 100 ms of
// every second of the wall clock, which both of the sender's sources read.
func flashing(t time.Time) bool { return t.UnixMilli()%1000 < 100 }

// flashCamera is a 30 fps camera that sees black, and white in a flash.
type flashCamera struct {
	w, h int
	next time.Time
	seq  uint64
	buf  []byte
}

func (c *flashCamera) Format() camera.Format {
	return camera.Format{Width: c.w, Height: c.h, FPS: 30, Pixel: camera.PixelFormatI420}
}
func (c *flashCamera) Close() error { return nil }
func (c *flashCamera) ReadFrame(ctx context.Context) (camera.Frame, error) {
	if c.next.IsZero() {
		c.next = time.Now()
	}
	select {
	case <-ctx.Done():
		return camera.Frame{}, ctx.Err()
	case <-time.After(time.Until(c.next)):
	}
	c.next = c.next.Add(time.Second / 30)
	now := time.Now()
	if c.buf == nil {
		c.buf = make([]byte, c.w*c.h*3/2)
	}
	luma := byte(16)
	if flashing(now) {
		luma = 235
	}
	for i := range c.w * c.h {
		c.buf[i] = luma
	}
	for i := c.w * c.h; i < len(c.buf); i++ {
		c.buf[i] = 128
	}
	c.seq++
	return camera.Frame{Format: c.Format(), Data: c.buf, Seq: c.seq, Time: now}, nil
}

// beepMicrophone hears silence, and a 1 kHz beep in a flash.
type beepMicrophone struct {
	next time.Time
	n    int
}

func (m *beepMicrophone) Close() error { return nil }
func (m *beepMicrophone) Read(ctx context.Context, buf []int16) error {
	if m.next.IsZero() {
		m.next = time.Now()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(m.next)):
	}
	start := m.next
	m.next = m.next.Add(time.Duration(len(buf)) * time.Second / audio.SampleRate)
	for i := range buf {
		buf[i] = 0
		if at := start.Add(time.Duration(i) * time.Second / audio.SampleRate); flashing(at) {
			buf[i] = int16(12000 * math.Sin(2*math.Pi*1000*float64(m.n+i)/audio.SampleRate))
		}
	}
	m.n += len(buf)
	return nil
}

func TestLipSync(t *testing.T) {
	daemontest.CheckGoroutines(t)
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	const room = "lipsync"

	// The box's receive side, as callboxd wires it.
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity = config.ServerURLs{srv.URL}, room, "box"
	cfg.Call.APIKey, cfg.Call.APISecret = srv.APIKey, srv.APISecret
	cfg.Display = config.Display{Output: "offscreen", Width: 640, Height: 360, FPS: 30}
	cfg.Speaker = config.Speaker{Device: "file:" + filepath.Join(dir, "sound.raw"), JitterMs: 200}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rx := newReceiver(cfg, log)
	var mu sync.Mutex
	var flashesShown []time.Time
	wasBright := false
	rx.onDrawn = func(f *display.Frame, l compose.Layout) {
		tile, ok := l.Tile("flasher")
		if !ok {
			return
		}
		bright := compose.MeanColor(f, tile.Rect.Inset(tile.Rect.Dy()/4))&0xff > 128
		if bright && !wasBright {
			mu.Lock()
			flashesShown = append(flashesShown, time.Now()) // presented right after this
			mu.Unlock()
		}
		wasBright = bright
	}
	var sink *audio.FileSink
	rx.openSink = func(context.Context) (audio.Sink, error) {
		s, err := audio.NewFileSink(filepath.Join(dir, "sound.raw"))
		sink = s
		return s, err
	}
	session := call.New(call.Options{URL: srv.URL, Room: room, Identity: "box", APIKey: srv.APIKey, APISecret: srv.APISecret,
		VideoCodec: media.CodecH264, Width: 320, Height: 180, Remote: rx.remote(), Logger: log})
	rx.session = session
	d := &daemon{cfg: cfg, log: log, session: session, rx: rx}
	var wg sync.WaitGroup
	runPart(t, ctx, &wg, "the box's call", session.Run)
	wg.Go(func() { rx.run(ctx, d) })
	defer rx.close()
	defer wg.Wait()
	defer cancel()

	// The participant that flashes and beeps.
	const w, h = 320, 180
	video := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264,
		BitsPerSecond: 500_000, KeyframeInterval: 60, Mode: config.EncoderSoftware, Logger: log})
	opus, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		t.Fatal(err)
	}
	defer opus.Close()
	sender := call.New(call.Options{URL: srv.URL, Room: room, Identity: "flasher", APIKey: srv.APIKey, APISecret: srv.APISecret,
		VideoCodec: media.CodecH264, Width: w, Height: h, MaxVideoBitrate: 500_000, Encoder: video, Logger: log})
	runPart(t, ctx, &wg, "the flasher's call", sender.Run)
	runPart(t, ctx, &wg, "the flasher's video", func(ctx context.Context) error {
		return video.Send(ctx, &flashCamera{w: w, h: h}, sender.WriteVideoLayer)
	})
	runPart(t, ctx, &wg, "the flasher's sound", func(ctx context.Context) error {
		return pipeline.SendAudio(ctx, &beepMicrophone{}, opus, sender.WriteAudio)
	})

	// Sender reports come every second or so; then measure for 10 s.
	const settle, measure = 6 * time.Second, 10 * time.Second
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(settle + measure):
	}
	cancel()
	wg.Wait()

	// The beeps' onsets in the speaker's sound, on the wall clock: the
	// file sink writes sample n at its start plus n/48000 s.
	data, err := os.ReadFile(filepath.Join(dir, "sound.raw"))
	if err != nil || sink == nil {
		t.Fatalf("no sound was played: %v", err)
	}
	var beeps []time.Time
	const win = 48 // 1 ms
	loud := false
	for i := 0; i+2*win <= len(data)/2; i += win {
		var e float64
		for k := range win {
			v := float64(int16(byteorder.LittleEndian.Uint16(data[2*(i+k):])))
			e += v * v
		}
		now := math.Sqrt(e/win) > 2000
		if now && !loud {
			beeps = append(beeps, sink.Started().Add(time.Duration(i)*time.Second/audio.SampleRate))
		}
		loud = now
	}

	// Pair each flash shown after the settling time with the nearest beep.
	mu.Lock()
	shown := slices.Clone(flashesShown)
	mu.Unlock()
	from := time.Now().Add(-measure)
	var offsets []time.Duration
	for _, f := range shown {
		if f.Before(from) {
			continue
		}
		best := time.Duration(math.MaxInt64)
		for _, b := range beeps {
			if d := f.Sub(b); d.Abs() < best.Abs() {
				best = d
			}
		}
		if best.Abs() < 500*time.Millisecond {
			offsets = append(offsets, best)
		}
	}
	t.Logf("%d flashes shown, %d beeps played; picture minus sound: %v", len(shown), len(beeps), offsets)
	if len(offsets) < int(measure.Seconds())/2 {
		t.Fatalf("only %d flashes could be paired with a beep in %v", len(offsets), measure)
	}
	slices.Sort(offsets)
	median := offsets[len(offsets)/2]
	t.Logf("median offset %v (positive: the picture comes after its sound)", median.Round(time.Millisecond))
	for _, o := range offsets {
		if o.Abs() > 80*time.Millisecond {
			t.Errorf("a flash was shown %v from its beep, want within ±80 ms", o.Round(time.Millisecond))
		}
	}
}
