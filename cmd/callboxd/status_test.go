package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/provisioning"
)

// TestStatusSaysWhichEncoderAndWhy: the status page tells the codec in use
// and why it was chosen, as the daemon decided it.
func TestStatusSaysWhichEncoderAndWhy(t *testing.T) {
	s := newSupervisor(slog.Default(), provisioning.Boot{Config: config.Default()})
	if st := s.Status(); st.State != "idle" {
		t.Fatalf("before the call starts: %q, want idle", st.State)
	}
	cfg := config.Default()
	cfg.Video.Encoder = config.EncoderSoftware
	video := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264, BitsPerSecond: 300_000,
		KeyframeInterval: 30, Mode: cfg.Video.Encoder, Logger: quietLog})
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: 64, Height: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// Send chooses and opens the encoder, then ends at once: ctx is over.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := video.Send(ctx, src, func(int, media.EncodedFrame) error { return nil }); err != nil {
		t.Fatal(err)
	}
	s.daemon = &daemon{cfg: cfg, session: call.New(call.Options{}), video: video}
	st := s.Status()
	if st.CodecReason != "software H264: software chosen in the settings" {
		t.Errorf("status gives the codec's reason as %q, want the video sender's choice", st.CodecReason)
	}
}

// TestHardwareEncoderModeNamesTheSetting: with video.encoder = hardware on
// a machine without a hardware H.264 encoder, the camera's send path fails
// with an error that names the setting and says why.
func TestHardwareEncoderModeNamesTheSetting(t *testing.T) {
	daemontest.CheckGoroutines(t)
	cfg := config.Default()
	cfg.Video.Encoder = config.EncoderHardware
	cfg.Video.Width, cfg.Video.Height = 64, 64
	d, err := newDaemon(cfg, quietLog, nil, &boxKeyStore{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.rx.close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = d.sendVideo(ctx)
	if err == nil {
		t.Skip("this machine has a hardware H.264 encoder: the call was sent with it")
	}
	if want := "video.encoder = hardware: no hardware encoder: no m2m device encodes H264"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want one saying %q", err, want)
	}
}

// TestPageOfABoxThatRings: the status page of a box whose calls ring says
// it waits for calls and lists its missed calls (none yet); its hang-up
// button leaves the box reachable in its line instead of stopping the call
// until "call now", as it does on a box that sits in one room.
func TestPageOfABoxThatRings(t *testing.T) {
	cfg := config.Default()
	cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity, cfg.Call.APIKey, cfg.Call.APISecret = config.ServerURLs{"ws://127.0.0.1:1"}, "line", "box", "key", "secret"
	cfg.Controls.StartInCall, cfg.Ring.Enabled = false, true
	s := newSupervisor(quietLog, provisioning.Boot{Config: cfg})
	d, err := newDaemon(cfg, quietLog, nil, &boxKeyStore{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.rx.close()
	s.daemon = d
	st := s.Status()
	if st.Ring == nil || st.Ring.State != call.Idle.String() || st.Ring.Missed == nil || len(st.Ring.Missed) != 0 {
		t.Errorf("the page's call of a box that rings: %+v, want idle with no missed calls", st.Ring)
	}
	s.HangUp()
	if s.hungUp {
		t.Errorf("the page's hang-up stopped the box's line: it can no longer be called")
	}
	s.daemon.cfg.Ring.Enabled = false
	if s.HangUp(); !s.hungUp {
		t.Errorf("the page's hang-up did not stop the call of a box that does not ring")
	}
}
