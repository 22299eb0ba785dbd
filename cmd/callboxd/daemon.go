package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/camera/v4l2"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// daemon wires the devices, the pipeline and the call together: newDaemon
// makes it, run runs it once.
type daemon struct {
	cfg     config.Config
	log     *slog.Logger
	beats   *heartbeat // what its loops beat while they run (heartbeat.go)
	session *call.Session
	// controller decides what each action does (buttons, keys, the local API).
	controller *call.Controller
	video      *pipeline.VideoSender // the camera's encoders: hardware or software, simulcast or not
	content    *content              // the content input's share (content.go); nil without one
	audio      soundEncoder          // the microphone's encoder, whichever runs
	rx         *receiver             // the others on the screen and in the speaker (receive.go)
	// factoryReset is the setup page's, for the factory-reset button
	// (controls.go); nil with -config, where there is no data directory.
	factoryReset func() error
	// sendFrames codes the camera's pictures and hands them to out: the
	// video sender's Send. Tests put a send loop with a fake encoder here.
	sendFrames func(ctx context.Context, src camera.Source, out func(layer int, f media.EncodedFrame) error) error
	// openLine opens the controls' GPIO lines: gpio.Open, or fake lines in tests.
	openLine openLine
	// openCEC opens the TV's CEC adapter: cec.OpenAdapter, or a fake in tests (cec.go).
	openCEC openCEC
	// invites are the box's, with per-member keys (e2ee.go); nil otherwise.
	invites *keys.InviteBook
	boxKey  []byte // the box's signing key, which invite links carry
	// meetings is the meeting room's calendar (meetings.go); nil without one.
	meetings *meetingRoom
}

// newDaemon makes the daemon for cfg; nothing runs until run. keyStore
// holds the box's identity and invites.
func newDaemon(cfg config.Config, log *slog.Logger, beats *heartbeat, keyStore *boxKeyStore) (*daemon, error) {
	key, group, invites, err := encryption(cfg, keyStore, log) // e2ee.go
	if err != nil {
		return nil, err
	}
	d := &daemon{cfg: cfg, log: log, beats: beats}
	d.rx = newReceiver(cfg, log)
	d.rx.beats = beats
	if group != nil {
		d.invites, d.boxKey = invites, group.Identity.SigKey()
		group.OnStatus = func(keys.Status) { d.rx.keysChanged() }
	}
	d.video = newVideoSender(cfg, log)
	d.content = newContent(cfg, d)
	d.sendFrames = d.video.Send
	d.session = call.New(call.Options{
		URL: cfg.Call.URL.First(), OtherURLs: cfg.Call.URL.Others(), Room: cfg.Call.Room, Identity: cfg.Call.Identity, Name: cfg.Call.Name,
		APIKey: cfg.Call.APIKey, APISecret: cfg.Call.APISecret, Token: cfg.Call.Token,
		VideoCodec: videoCodec(cfg), Width: cfg.Video.Width, Height: cfg.Video.Height,
		MaxVideoBitrate: cfg.Video.BitsPerSecond(),
		Encoder:         d.video,
		AudioEncoder:    &d.audio,
		Simulcast:       simulcastLayers(cfg),
		StartIdle:       !cfg.Controls.StartInCall,
		Remote:          d.rx.remote(),
		Logger:          log,
		RoomKey:         key,
		Group:           group,
		Line:            lineOptions(cfg), // ring.go
	})
	d.rx.session = d.session
	copts := call.ControllerOptions{Contacts: cfg.Controls.Contacts, Logger: log}
	if d.meetings = newMeetingRoom(cfg, log); d.meetings != nil {
		copts.Meeting = d.meetings.room
		d.rx.meetings = d.meetings
	}
	d.controller = call.NewController(d.session, copts)
	return d, nil
}

// run keeps the box in its call until ctx ends, and returns once every
// part has stopped: the call first, so that no frame reaches the receive
// side's mixer after it is closed.
func (d *daemon) run(ctx context.Context) error {
	cfg := d.cfg
	d.log.Info("callboxd starting", "url", cfg.Call.URL, "room", cfg.Call.Room,
		"camera", cfg.Video.Camera, "microphone", cfg.Audio.Microphone, "codec", cfg.Video.Codec)
	defer d.rx.close()
	var wg sync.WaitGroup
	defer wg.Wait()
	if err := d.startControls(ctx, &wg); err != nil { // controls.go; none configured: nothing
		return err
	}
	d.startCEC(ctx, &wg) // cec.go; off or no adapter: nothing
	wg.Go(func() { d.rx.run(ctx, d) })
	if d.meetings != nil {
		wg.Go(func() { d.meetings.run(ctx, d.session) }) // meetings.go
	}
	if q := quietHours(cfg); len(q) > 0 && cfg.Ring.Enabled {
		wg.Go(func() {
			tick := time.NewTicker(quietCheckEvery)
			defer tick.Stop()
			followQuietHours(ctx, q, time.Now, tick.C, d.session.SetDoNotDisturb, d.log) // quiet.go
		})
	}
	// Camera and microphone are open only while a call is wanted (ring.go).
	wg.Go(func() {
		d.whileCallWanted(ctx, func(ctx context.Context) { d.keepGoing(ctx, "camera "+cfg.Video.Camera, d.sendVideo) })
	})
	wg.Go(func() {
		d.whileCallWanted(ctx, func(ctx context.Context) { d.keepGoing(ctx, "microphone "+cfg.Audio.Microphone, d.sendAudio) })
	})
	if d.content != nil {
		wg.Go(func() {
			d.whileCallWanted(ctx, func(ctx context.Context) {
				d.keepGoing(ctx, "content input "+cfg.Video.ContentCamera, d.shareContent) // content.go
			})
		})
	}
	return d.session.Run(ctx)
}

func videoCodec(cfg config.Config) media.Codec {
	if cfg.Video.Codec == config.CodecVP8 {
		return media.CodecVP8
	}
	return media.CodecH264
}

// newVideoSender makes the camera's encoders as cfg says.
func newVideoSender(cfg config.Config, log *slog.Logger) *pipeline.VideoSender {
	return pipeline.NewVideoSender(pipeline.VideoSenderOptions{
		Codec: videoCodec(cfg), BitsPerSecond: cfg.Video.BitsPerSecond(), KeyframeInterval: cfg.Video.KeyframeInterval,
		Layers: len(simulcastLayers(cfg)), Mode: cfg.Video.Encoder,
		// The camera's buffers go to a hardware encoder without a copy
		// where the formats match; the test pattern has none to give.
		DMABUF: cfg.Video.Camera != config.CameraTestPattern,
		Logger: log,
	})
}

// simulcastLayers is what the call publishes for cfg: nil without
// simulcast, else the layers of the configured size. The camera may give
// another size; the video sender then sends its own sizes in these layers.
func simulcastLayers(cfg config.Config) []call.VideoLayer {
	if !cfg.Video.Simulcast {
		return nil
	}
	var layers []call.VideoLayer
	for _, l := range pipeline.PlanSimulcast(cfg.Video.Width&^1, cfg.Video.Height&^1, cfg.Video.BitsPerSecond()) {
		layers = append(layers, call.VideoLayer{Width: l.Width, Height: l.Height, MaxBitrate: l.BitsPerSecond})
	}
	if len(layers) < 2 {
		return nil // too small to split
	}
	return layers
}

// keepGoing runs part until ctx ends, starting it again after a failure: a
// camera unplugged and plugged back in, a microphone that comes late. The
// first failure of a kind is an error in the log; repeats of it are not.
func (d *daemon) keepGoing(ctx context.Context, what string, part func(context.Context) error) {
	const first, last = time.Second, 30 * time.Second
	retry := first
	lastErr := ""
	for ctx.Err() == nil {
		started := time.Now()
		err := part(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = fmt.Errorf("stopped")
		}
		if time.Since(started) > last {
			retry = first // it ran well for a while: this is a new problem
		}
		if err.Error() != lastErr {
			d.log.Error(what+" does not work; trying again", "err", err, "retry_in", retry)
			lastErr = err.Error()
		} else {
			d.log.Debug(what+" still does not work", "err", err, "retry_in", retry)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
		retry = min(2*retry, last)
	}
}

func (d *daemon) sendVideo(ctx context.Context) error {
	v := d.cfg.Video
	src, err := openCamera(ctx, v)
	if err != nil {
		return err
	}
	defer src.Close()
	f := src.Format()
	if f.Width != v.Width || f.Height != v.Height || f.FPS != v.FPS {
		d.log.Info("the camera does not offer the configured size; using the nearest",
			"want", fmt.Sprintf("%dx%d@%d", v.Width, v.Height, v.FPS), "got", f.String())
	}
	moving := d.beats.join("camera " + v.Camera)
	defer moving.leave()
	err = d.sendFrames(ctx, d.rx.selfView(src), func(layer int, f media.EncodedFrame) error {
		moving.beat()
		return d.session.WriteVideoLayer(layer, f)
	})
	if errors.Is(err, pipeline.ErrNoHardwareEncoder) {
		err = fmt.Errorf("video.encoder = %s: %w", config.EncoderHardware, err)
	}
	return err
}

func openCamera(ctx context.Context, v config.Video) (camera.Source, error) {
	if v.Camera == config.CameraTestPattern {
		return camera.NewTestPattern(camera.TestPatternOptions{Width: v.Width, Height: v.Height, FPS: v.FPS})
	}
	return v4l2.Open(ctx, v4l2.OpenOptions{Device: v.Camera, Width: v.Width, Height: v.Height, FPS: v.FPS,
		Pixel: cameraPixelFormats[v.PixelFormat],
		// A hardware encoder reads the pictures from the camera's buffers
		// without a copy where the formats match (pipeline.VideoSender).
		ExportDMABUF: v.Encoder != config.EncoderSoftware})
}

// cameraPixelFormats maps video.pixel_format to the V4L2 fourcc; "" is
// missing on purpose: 0 lets the camera's offer decide.
var cameraPixelFormats = map[string]camera.PixelFormat{
	"YUYV": camera.PixelFormatYUYV, "NV12": camera.PixelFormatNV12,
	"I420": camera.PixelFormatI420, "MJPEG": camera.PixelFormatMJPEG,
}

func (d *daemon) sendAudio(ctx context.Context) error {
	a := d.cfg.Audio
	var src audio.Source
	var err error
	if a.Microphone == config.MicrophoneTone {
		src, err = audio.NewTone(audio.ToneOptions{Frequency: float64(a.ToneHz), Amplitude: 0.5})
	} else {
		src, err = audio.OpenCapture(ctx, audio.CaptureOptions{
			Device: a.Microphone, Period: time.Duration(a.PeriodMs) * time.Millisecond, Logger: d.log,
		})
	}
	if err != nil {
		return err
	}
	defer src.Close()
	enc, err := pipeline.NewOpusEncoder(a.BitrateKbps * 1000)
	if err != nil {
		return err
	}
	defer enc.Close()
	d.audio.use(enc)
	defer d.audio.use(nil)
	d.log.Info("sending audio", "microphone", a.Microphone)
	moving := d.beats.join("microphone " + a.Microphone)
	defer moving.leave()
	return pipeline.SendAudio(ctx, d.rx.cleanMicrophone(src), enc, func(f media.EncodedFrame) error {
		moving.beat()
		return d.session.WriteAudio(f)
	})
}

// soundEncoder passes the call's loss reports to the microphone's encoder
// of the moment (one per start of the microphone), and the last report to
// a new one.
type soundEncoder struct {
	mu   sync.Mutex
	enc  *pipeline.OpusEncoder // nil while none runs
	loss int                   // percent
}

func (s *soundEncoder) use(enc *pipeline.OpusEncoder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enc = enc
	if enc != nil {
		enc.SetPacketLoss(s.loss)
	}
}

// SetPacketLoss implements call.AudioEncoder.
func (s *soundEncoder) SetPacketLoss(percent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loss = percent
	if s.enc != nil {
		s.enc.SetPacketLoss(percent)
	}
}
