package main

// The receive side's figures:
//
//   - decode_composite_ms_per_frame: four participants' 640x360 H.264
//     decoded and drawn in a grid on a 1920x1080 frame, per frame
//     (compose.DecodeCompositeGrid, as BenchmarkDecodeComposite1080p).
//   - content_decode_composite_ms_per_frame: the same with the first of
//     them also sharing 1920x1080 content at 5 fps, decoded and drawn
//     large beside the four, per 30 fps screen frame (as
//     BenchmarkContentDecodeComposite1080p).
//   - decode_composite_ms_per_frame_nine: the same as the first with nine
//     participants (the most the grid shows).
//   - receive_nine_cpu_s_per_min: callboxd's CPU seconds per minute (its
//     process, from /proc) while it shows nine participants at 360p30
//     through the real LiveKit server of the bench's namespace, on a
//     1920x1080 offscreen screen; received_fps_per_tile_min: of the nine
//     tiles, the fewest pictures per second callboxd decoded (read from
//     its screen: the frame numbers stamped in the pictures).
//   - receive_glass_to_glass_p95_ms: a synthetic participant's test
//     pattern, from the time drawn into each picture (its capture) to the
//     frame the box's screen presents with it, through the real LiveKit
//     server of the bench's namespace; the box's receive path in this
//     process (call.Session, compose.Screen at 1080p30 with libavcodec,
//     and the mixer with lip sync, so pictures wait for their sound as
//     they do in callboxd).

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
	"github.com/callbox/callbox/pipeline/compose"
)

func receiveFigures() error {
	ms, err := decodeCompositeMs(4, false)
	if err != nil {
		return fmt.Errorf("decode_composite_ms_per_frame: %w", err)
	}
	fmt.Printf("decode_composite_ms_per_frame: %.2f ms\n", ms)
	if ms, err = decodeCompositeMs(4, true); err != nil {
		return fmt.Errorf("content_decode_composite_ms_per_frame: %w", err)
	}
	fmt.Printf("content_decode_composite_ms_per_frame: %.2f ms\n", ms)
	if ms, err = decodeCompositeMs(compose.MaxTiles, false); err != nil {
		return fmt.Errorf("decode_composite_ms_per_frame_nine: %w", err)
	}
	fmt.Printf("decode_composite_ms_per_frame_nine: %.2f ms\n", ms)
	if err := receiveNine(); err != nil {
		return fmt.Errorf("receive_nine_cpu_s_per_min: %w", err)
	}
	p95, err := receiveGlassToGlassP95()
	if err != nil {
		return fmt.Errorf("receive_glass_to_glass_p95_ms: %w", err)
	}
	fmt.Printf("receive_glass_to_glass_p95_ms: %.1f ms\n", p95)
	return nil
}

func softwareDecoder(_ string, c media.Codec) (media.VideoDecoder, error) {
	return avcodec.NewVideoDecoder(string(c))
}

const gridW, gridH = 640, 360

// decodeCompositeMs is the median of five rounds of 60 frames, per frame,
// for this many participants; with content, the first also shares
// 1920x1080 content at 5 fps.
func decodeCompositeMs(participants int, content bool) (float64, error) {
	coded, err := encodePattern(gridW, gridH, 60)
	if err != nil {
		return 0, err
	}
	g, err := compose.NewDecodeCompositeGrid(coded, media.CodecH264, participants, image.Pt(1920, 1080), softwareDecoder)
	if err != nil {
		return 0, err
	}
	defer g.Close()
	if content {
		shared, err := encodePattern(1920, 1080, (len(coded)+compose.ContentEvery-1)/compose.ContentEvery)
		if err != nil {
			return 0, err
		}
		if err := g.ShareContent(shared); err != nil {
			return 0, err
		}
	}
	var rounds []float64
	for range 5 {
		start := time.Now()
		for range len(coded) {
			g.Frame()
		}
		rounds = append(rounds, float64(time.Since(start).Microseconds())/1000/float64(len(coded)))
	}
	slices.Sort(rounds)
	return rounds[len(rounds)/2], nil
}

// encodePattern is n frames of the test pattern coded by x264, a keyframe first.
func encodePattern(w, h, n int) ([][]byte, error) {
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	enc, err := pipeline.NewH264Encoder(pipeline.VideoSettings{Width: w, Height: h, FPS: 30, BitsPerSecond: 800_000, KeyframeInterval: 1000})
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	var out [][]byte
	for len(out) < n {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			return nil, err
		}
		coded, err := enc.Encode(f)
		if err != nil {
			return nil, err
		}
		if len(coded.Data) > 0 {
			out = append(out, slices.Clone(coded.Data))
		}
	}
	return out, nil
}

// pacedSink plays nothing at the pace of a sound card.
type pacedSink struct {
	start time.Time
	n     int
}

func (s *pacedSink) Write(ctx context.Context, pcm []int16) error {
	if s.start.IsZero() {
		s.start = time.Now()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(s.start.Add(time.Duration(s.n) * time.Second / audio.SampleRate))):
	}
	s.n += len(pcm)
	return nil
}
func (s *pacedSink) Close() error { return nil }

func receiveGlassToGlassP95() (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	call.UseLogger(log) // the WebRTC stack's chatter: warnings only
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr})
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	const room = "receive-bench"

	// The box's receive side.
	r, err := display.NewOffscreen(display.OffscreenOptions{Width: 1920, Height: 1080})
	if err != nil {
		return 0, err
	}
	mixer := pipeline.NewMixer(func() (media.AudioDecoder, error) { return pipeline.NewOpusDecoder() }, 0)
	defer mixer.Close()
	var mu sync.Mutex
	var latencies []float64
	var lastFrame uint32
	measuring := false
	screen := compose.NewScreen(r, compose.ScreenOptions{FPS: 30, NewDecoder: softwareDecoder, ShowAt: mixer.ShowAt,
		OnDrawn: func(f *display.Frame, l compose.Layout) {
			tile, ok := l.Tile("sender")
			if !ok {
				return
			}
			size := image.Pt(gridW, gridH)
			stamp, err := compose.ReadTileStamp(f, compose.Fit(size, tile.Rect), size)
			now := time.Now() // presented right after this
			mu.Lock()
			defer mu.Unlock()
			if err != nil || stamp.Frame == lastFrame {
				return
			}
			lastFrame = stamp.Frame
			if measuring {
				latencies = append(latencies, float64(now.Sub(stamp.Time).Microseconds())/1000)
			}
		}})
	defer screen.Close()
	box := call.New(call.Options{URL: srv.URL, Room: room, Identity: "box", APIKey: srv.APIKey, APISecret: srv.APISecret,
		VideoCodec: media.CodecH264, Width: gridW, Height: gridH, Logger: log,
		Remote: call.RemoteOptions{Handlers: call.Handlers{
			Video: func(f call.Frame) { screen.VideoAt(f.From, f.Codec, f.Data, f.Captured) },
			Audio: func(f call.Frame) {
				if err := mixer.Push(f.From, pipeline.JitterPacket{Seq: f.Seq, Data: f.Data, Timestamp: f.Timestamp, Arrived: f.Arrived, Captured: f.Captured}); err != nil {
					log.Debug("sound dropped", "err", err)
				}
			},
		}, OnMembers: func(ms []call.Member) {
			var members []compose.Member
			for _, m := range ms {
				members = append(members, compose.Member{Identity: m.Identity, Name: m.Name, VideoCodec: m.VideoCodec})
			}
			screen.SetMembers(members)
		}},
	})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	// A part that ends before the measurement does says why when the
	// figure fails: a failed join would show only as too few pictures.
	ended := make(chan error, 6)
	run := func(part string, f func() error) {
		wg.Go(func() {
			if err := f(); err != nil && ctx.Err() == nil {
				ended <- fmt.Errorf("%s: %w", part, err)
			}
		})
	}
	run("the box's call", func() error { return box.Run(ctx) })
	run("the box's screen", func() error { return screen.Run(ctx) })
	run("the box's speaker", func() error { return pipeline.Play(ctx, mixer, &pacedSink{}, audio.SampleRate/100, nil) })

	// The participant: the test pattern at 360p30 and a tone.
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: gridW, Height: gridH, FPS: 30})
	if err != nil {
		return 0, err
	}
	video := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264,
		BitsPerSecond: 800_000, KeyframeInterval: 60, Mode: config.EncoderSoftware, Logger: log})
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: 440, Amplitude: 0.3})
	if err != nil {
		return 0, err
	}
	opus, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		return 0, err
	}
	sender := call.New(call.Options{URL: srv.URL, Room: room, Identity: "sender", APIKey: srv.APIKey, APISecret: srv.APISecret,
		VideoCodec: media.CodecH264, Width: gridW, Height: gridH, MaxVideoBitrate: 800_000, Encoder: video, Logger: log})
	run("the sender's call", func() error { return sender.Run(ctx) })
	// Each send path closes its own source and encoder when it ends: the
	// deferred wg.Wait above runs after any defer here would.
	run("the sender's video", func() error {
		defer src.Close()
		return video.Send(ctx, src, sender.WriteVideoLayer)
	})
	run("the sender's sound", func() error {
		defer tone.Close()
		defer opus.Close()
		return pipeline.SendAudio(ctx, tone, opus, sender.WriteAudio)
	})

	// Settle (the join, sender reports, the jitter buffer), then measure.
	const settle, measure = 5 * time.Second, 10 * time.Second
	time.Sleep(settle)
	mu.Lock()
	measuring = true
	mu.Unlock()
	time.Sleep(measure)
	mu.Lock()
	got := slices.Clone(latencies)
	mu.Unlock()
	if len(got) < int(measure.Seconds())*30/2 {
		err := fmt.Errorf("only %d pictures with readable stamps on the screen in %v", len(got), measure)
		select {
		case cause := <-ended:
			err = fmt.Errorf("%w: %w", err, cause)
		default:
		}
		return 0, err
	}
	slices.Sort(got)
	fmt.Printf("receive_glass_to_glass_p50_ms: %.1f ms\n", got[len(got)/2])
	return got[len(got)*95/100], nil
}

// receiveNine prints receive_nine_cpu_s_per_min and
// received_fps_per_tile_min: callboxd (software decoding, a 1920x1080
// offscreen screen, its own camera the test pattern at 320x180) in a
// room with nine participants, each sending the test pattern at 360p30
// (x264 frames coded once, sent again in a loop, a keyframe every 2 s).
func receiveNine() error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	call.UseLogger(log)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, daemonPath, err := serverAndDaemon(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	coded, err := encodePattern(gridW, gridH, 60)
	if err != nil {
		return err
	}

	const room = "bench-nine"
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity = config.ServerURLs{srv.URL}, room, "box"
	cfg.Call.APIKey, cfg.Call.APISecret, cfg.Call.Encryption = srv.APIKey, srv.APISecret, config.EncryptionNone
	cfg.Video.Width, cfg.Video.Height, cfg.Video.FPS, cfg.Video.Encoder = 320, 180, 15, config.EncoderSoftware
	cfg.Display.Output, cfg.Display.Width, cfg.Display.Height, cfg.Display.FPS = "offscreen", 1920, 1080, 30
	cfg.Speaker.Device = config.SpeakerNone
	daemon, err := startBox(daemonPath, cfg)
	if err != nil {
		return err
	}
	defer daemon.stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := range compose.MaxTiles {
		s := call.New(call.Options{URL: srv.URL, Room: room, Identity: fmt.Sprintf("person-%d", i+1), APIKey: srv.APIKey, APISecret: srv.APISecret,
			VideoCodec: media.CodecH264, Width: gridW, Height: gridH, MaxVideoBitrate: 800_000, Logger: log})
		wg.Go(func() { _ = s.Run(ctx) }) // ends with ctx; a failed join shows as a tile without pictures
		wg.Go(func() { sendLoop(ctx, s, coded) })
	}

	shown := func() (map[string]int, error) {
		ps, err := daemon.api.Participants(ctx)
		if err != nil {
			return nil, err
		}
		counts := map[string]int{}
		for _, p := range ps {
			counts[p.Identity] = p.Pictures
		}
		return counts, nil
	}
	// Settle: everyone in, their pictures on the screen, the layers chosen.
	var before map[string]int
	err = daemontest.Poll(60*time.Second, time.Second, func() error {
		if before, err = shown(); err != nil {
			return err
		}
		for i := range compose.MaxTiles {
			if before[fmt.Sprintf("person-%d", i+1)] == 0 {
				return fmt.Errorf("the box shows no picture of person-%d yet (%v)", i+1, before)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, daemon.log.String())
	}
	time.Sleep(5 * time.Second)
	const measure = 20 * time.Second
	if before, err = shown(); err != nil {
		return err
	}
	cpuBefore, err := processCPUOf(daemon.cmd.Process.Pid)
	if err != nil {
		return err
	}
	time.Sleep(measure)
	cpuAfter, err := processCPUOf(daemon.cmd.Process.Pid)
	if err != nil {
		return err
	}
	after, err := shown()
	if err != nil {
		return err
	}
	minFPS := -1.0
	for id, n := range after {
		fps := float64(n-before[id]) / measure.Seconds()
		if minFPS < 0 || fps < minFPS {
			minFPS = fps
		}
	}
	fmt.Printf("receive_nine_cpu_s_per_min: %.1f s\n", (cpuAfter-cpuBefore).Seconds()*float64(time.Minute)/float64(measure))
	fmt.Printf("received_fps_per_tile_min: %.1f fps\n", minFPS)
	return nil
}

// sendLoop sends coded (a keyframe first) at 30 fps in a loop until ctx
// ends; frames sent outside a call are dropped by the session.
func sendLoop(ctx context.Context, s *call.Session, coded [][]byte) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			f := media.EncodedFrame{Data: coded[i%len(coded)], Keyframe: i%len(coded) == 0, Captured: now, Duration: time.Second / 30}
			_ = s.WriteVideo(f) // outside a call it is dropped; the tile's count shows it
		}
	}
}
