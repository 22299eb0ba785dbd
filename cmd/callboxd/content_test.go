package main

// The box's content input shared through a real LiveKit server: callboxd
// with video.content_camera = "testpattern" publishes a 1920x1080
// SCREEN_SHARE beside its camera, in two simulcast layers; a participant
// decodes it at its size, one that asks for the low layer gets the half
// size, and callboxctl's share stop and share start end and start it
// again, with a line on the box's screen: shared again in the same
// connection, each gets its layer again.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/provisioning"
)

func TestContentInputIsShared(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	const room = "content-in"
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity = config.ServerURLs{srv.URL}, room, "box"
	cfg.Call.APIKey, cfg.Call.APISecret = srv.APIKey, srv.APISecret
	cfg.Call.Encryption = config.EncryptionNone
	cfg.Video.Width, cfg.Video.Height, cfg.Video.FPS, cfg.Video.Encoder = 320, 180, 10, config.EncoderSoftware
	cfg.Video.ContentCamera, cfg.Video.ContentFPS = config.CameraTestPattern, 5
	cfg.Display.Output, cfg.Display.Width, cfg.Display.Height, cfg.Display.FPS = "offscreen", 1280, 720, 5
	dir := t.TempDir()
	path, socket := filepath.Join(dir, "callbox.toml"), filepath.Join(dir, "control.sock")
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	screen := receiveVideo(t, srv, room, "big-screen", nil, true)
	phone := receiveVideo(t, srv, room, "phone", nil, true)
	d := startDaemon(t, "-config", path, "-control", socket)
	api := provisioning.LocalClient{Socket: socket}
	d.waitLog(t, "sharing content", 60*time.Second)

	wantSizes := func(what string) {
		t.Helper()
		for _, tc := range []struct {
			name    string
			r       *layerReceiver
			quality livekit.VideoQuality
			size    string
		}{{"screen", screen, livekit.VideoQuality_HIGH, "1920x1080"}, {"phone", phone, livekit.VideoQuality_LOW, "960x540"}} {
			// Each share is a new track: the SFU picks a layer until
			// asked, and is asked again until it follows.
			var frames []uint32
			err := daemontest.Poll(60*time.Second, 0, func() error {
				from := tc.r.count()
				tc.r.watcher.SetVideoQuality(tc.quality)
				wait, cancel := context.WithTimeout(ctx, 3*time.Second)
				defer cancel()
				var err error
				frames, err = tc.r.waitSize(wait, from, tc.size, 5)
				return err
			})
			if err != nil {
				t.Fatalf("%s: %s: %v", what, tc.name, err)
			}
			if !slices.IsSorted(frames) || frames[0] == frames[len(frames)-1] {
				t.Errorf("%s: %s: frame numbers %v, want increasing", what, tc.name, frames)
			}
			t.Logf("%s: %s: %d pictures of %s, frames %d to %d", what, tc.name, len(frames), tc.size, frames[0], frames[len(frames)-1])
		}
	}
	wantSizes("shared at start")
	waitText(t, api, "sharing the content input, 1920x1080") // screen_test.go

	did, err := api.Act(ctx, "share_stop")
	if err != nil || did != "content share stopped" {
		t.Fatalf("share_stop: %q, %v", did, err)
	}
	waitText(t, api, "content share stopped")
	d.waitLog(t, "content share ended", 10*time.Second)
	// The receivers are told: the box shares nothing.
	if err := daemontest.Poll(10*time.Second, 0, func() error {
		if slices.Contains(phone.watcher.Sharing(), "box") {
			return errors.New("the phone still sees the box's content published")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	did, err = api.Act(ctx, "share_start")
	if err != nil || !strings.Contains(did, "1920x1080") {
		t.Fatalf("share_start: %q, %v", did, err)
	}
	// Shared again in the same connection: each receiver gets the layer
	// it asks for again, the screen the full size.
	wantSizes("shared again")
	d.stop(t)
}

// TestShareWithoutContentInput: callboxctl share on a box without
// video.content_camera says what is missing.
func TestShareWithoutContentInput(t *testing.T) {
	srv := startServer(t)
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity = config.ServerURLs{srv.URL}, "no-content", "box"
	cfg.Call.APIKey, cfg.Call.APISecret = srv.APIKey, srv.APISecret
	cfg.Call.Encryption = config.EncryptionNone
	cfg.Video.Width, cfg.Video.Height, cfg.Video.FPS = 320, 180, 5
	dir := t.TempDir()
	path, socket := filepath.Join(dir, "callbox.toml"), filepath.Join(dir, "control.sock")
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "-config", path, "-control", socket)
	d.waitLog(t, "local API", 30*time.Second)
	_, err := provisioning.LocalClient{Socket: socket}.Act(context.Background(), "share_start")
	if err == nil || !strings.Contains(err.Error(), "video.content_camera") {
		t.Fatalf("share_start without a content input: %v, want an error naming video.content_camera", err)
	}
}

// noSignalInput is a content input with the cable out.
type noSignalInput struct{}

func (noSignalInput) Signal() (camera.Format, error) {
	return camera.Format{}, fmt.Errorf("fake HDMI: %w", camera.ErrNoSignal)
}
func (noSignalInput) WaitChange(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (noSignalInput) Open(context.Context, camera.Format) (camera.Source, error) {
	return nil, errors.New("no signal to open")
}

// TestShareStatusSaysWhy: the status page's words for the content share:
// no input, an input with no signal, stopped by hand, and sharing.
func TestShareStatusSaysWhy(t *testing.T) {
	cfg := config.Default()
	d := &daemon{cfg: cfg}
	if st := d.shareStatus(); st.Sharing || st.Input != "" || !strings.Contains(st.Summary, "no content input (video.content_camera)") {
		t.Errorf("without an input: %+v", st)
	}

	cfg.Video.ContentCamera, cfg.Video.ContentFPS = "/dev/video3", 5
	d = &daemon{cfg: cfg, content: &content{}}
	if st := d.shareStatus(); st.Sharing || !strings.Contains(st.Summary, "not open") {
		t.Errorf("before the input is open: %+v", st)
	}
	run := func(in pipeline.ContentInput) *pipeline.ContentShare {
		share := pipeline.NewContentShare(pipeline.ContentOptions{Input: in, FPS: 5, Logger: quietLog,
			Publish: func(int, int) error { return nil }, Unpublish: func() {},
			Send: func(ctx context.Context, _ camera.Source) error { <-ctx.Done(); return nil }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- share.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("the share's Run: %v", err)
			}
		})
		d.content.share.Store(share)
		return share
	}
	share := run(noSignalInput{})
	if err := share.Start(context.Background()); !errors.Is(err, camera.ErrNoSignal) {
		t.Fatalf("Start without a signal: %v", err)
	}
	if st := d.shareStatus(); st.Sharing || st.Input != "/dev/video3" || st.Summary != "not sharing: the content input has no signal (is the cable in, the laptop on?)" {
		t.Errorf("without a signal: %+v", st)
	}

	share = run(testPatternInput{fps: 5})
	if err := share.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := d.shareStatus(); !st.Sharing || st.Signal != "1920x1080@5" || st.Summary != "sharing the content input (/dev/video3), 1920x1080@5, sent at 5 fps" {
		t.Errorf("sharing: %+v", st)
	}
	if err := share.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := d.shareStatus(); st.Sharing || st.Summary != "not sharing: the share was stopped by hand" {
		t.Errorf("stopped: %+v", st)
	}
}
