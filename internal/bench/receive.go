package main

// The receive side's figures:
//
//   - decode_composite_ms_per_frame: four participants' 640x360 H.264
//     decoded and drawn in a grid on a 1920x1080 frame, per frame
//     (compose.DecodeCompositeGrid, as BenchmarkDecodeComposite1080p).
//   - content_decode_composite_ms_per_frame: the same with the first of
//     them also sharing 1920x1080 content, decoded and drawn large beside
//     the four (as BenchmarkContentDecodeComposite1080p).
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
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
	"github.com/callbox/callbox/pipeline/compose"
)

func receiveFigures() error {
	ms, err := decodeCompositeMs(false)
	if err != nil {
		return fmt.Errorf("decode_composite_ms_per_frame: %w", err)
	}
	fmt.Printf("decode_composite_ms_per_frame: %.2f ms\n", ms)
	if ms, err = decodeCompositeMs(true); err != nil {
		return fmt.Errorf("content_decode_composite_ms_per_frame: %w", err)
	}
	fmt.Printf("content_decode_composite_ms_per_frame: %.2f ms\n", ms)
	p95, err := receiveGlassToGlassP95()
	if err != nil {
		return fmt.Errorf("receive_glass_to_glass_p95_ms: %w", err)
	}
	fmt.Printf("receive_glass_to_glass_p95_ms: %.1f ms\n", p95)
	return nil
}

func softwareDecoder(c media.Codec) (media.VideoDecoder, error) {
	return avcodec.NewVideoDecoder(string(c))
}

const gridW, gridH = 640, 360

// decodeCompositeMs is the median of five rounds of 60 frames, per frame;
// with content, the first participant also shares 1920x1080 content.
func decodeCompositeMs(content bool) (float64, error) {
	coded, err := encodePattern(gridW, gridH, 60)
	if err != nil {
		return 0, err
	}
	g, err := compose.NewDecodeCompositeGrid(coded, media.CodecH264, 4, image.Pt(1920, 1080), softwareDecoder)
	if err != nil {
		return 0, err
	}
	defer g.Close()
	if content {
		shared, err := encodePattern(1920, 1080, len(coded))
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
