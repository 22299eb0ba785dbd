package main

// Shared content from the box's content input (video.content_camera):
// the input's share (pipeline.ContentShare) wired to the call's
// SCREEN_SHARE track, its line on the screen, and the share_start,
// share_stop and share (a button's toggle) actions.

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/camera/v4l2"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/provisioning"
)

// The content actions, beside the call's and the box's own.
const (
	actionShare      = "share" // a button: start the share, or stop it
	actionShareStart = "share_start"
	actionShareStop  = "share_stop"
	// actionShareOther shows the other of several shares large on the
	// screen (receive.go's showOtherShare).
	actionShareOther = "share_other"
)

// content is the daemon's content share; nil without video.content_camera.
type content struct {
	sender *pipeline.VideoSender
	share  atomic.Pointer[pipeline.ContentShare] // the one running, nil between
}

func newContent(cfg config.Config, d *daemon) *content {
	if cfg.Video.ContentCamera == "" {
		return nil
	}
	return &content{sender: pipeline.NewVideoSender(pipeline.ContentSenderOptions(
		videoCodec(cfg), cfg.Video.ContentBitsPerSecond(), cfg.Video.ContentFPS, cfg.Video.Encoder, d.log))}
}

// shareContent runs the content input's share until ctx ends or the
// input fails.
func (d *daemon) shareContent(ctx context.Context) error {
	v := d.cfg.Video
	input, closeInput, err := openContentInput(v, d)
	if err != nil {
		return err
	}
	defer closeInput()
	share := pipeline.NewContentShare(pipeline.ContentOptions{
		Input: input, FPS: v.ContentFPS, Logger: d.log,
		Publish: func(width, height int) error {
			return d.session.ShareContent(call.ContentTrack{Width: width, Height: height,
				Layers: contentTrackLayers(width, height, v.ContentBitsPerSecond()), Encoder: d.content.sender})
		},
		Unpublish: d.session.StopContent,
		Send: func(ctx context.Context, src camera.Source) error {
			return d.content.sender.Send(ctx, src, d.session.WriteContentLayer)
		},
		Changed: func(st pipeline.ContentStatus) { d.rx.setContentLine(st.Line) },
	})
	d.content.share.Store(share)
	defer d.content.share.Store(nil)
	return share.Run(ctx)
}

// contentTrackLayers are the call's layers for content of width x height:
// as the content's sender plans them (pipeline.PlanSimulcast).
func contentTrackLayers(width, height, bitsPerSecond int) []call.VideoLayer {
	var layers []call.VideoLayer
	for _, l := range pipeline.PlanSimulcast(width&^1, height&^1, bitsPerSecond) {
		layers = append(layers, call.VideoLayer{Width: l.Width, Height: l.Height, MaxBitrate: l.BitsPerSecond})
	}
	return layers[:min(len(layers), pipeline.ContentLayers)]
}

// openContentInput opens video.content_camera: an HDMI input, or the test
// pattern as an input whose signal is always there.
func openContentInput(v config.Video, d *daemon) (pipeline.ContentInput, func(), error) {
	if v.ContentCamera == config.CameraTestPattern {
		return testPatternInput{fps: v.ContentFPS}, func() {}, nil
	}
	in, err := v4l2.OpenHDMI(v4l2.HDMIOptions{Device: v.ContentCamera,
		Width: camera.MaxContentWidth, Height: camera.MaxContentHeight, FPS: v.ContentFPS, Logger: d.log})
	if err != nil {
		return nil, nil, fmt.Errorf("video.content_camera: %w", err)
	}
	return in, func() { in.Close() }, nil
}

// testPatternInput is content's test pattern: a 1920x1080 signal at
// content's rate, always there.
type testPatternInput struct{ fps int }

func (t testPatternInput) Signal() (camera.Format, error) {
	return camera.Format{Pixel: camera.PixelFormatI420, Width: camera.MaxContentWidth, Height: camera.MaxContentHeight, FPS: t.fps}, nil
}

func (testPatternInput) WaitChange(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func (testPatternInput) Open(_ context.Context, sig camera.Format) (camera.Source, error) {
	return camera.NewTestPattern(camera.TestPatternOptions{Width: sig.Width, Height: sig.Height, FPS: sig.FPS})
}

// contentAction carries out a content action (share, share_start,
// share_stop) and says what it did.
func (d *daemon) contentAction(ctx context.Context, action string) (string, error) {
	share, why := d.runningShare()
	if share == nil {
		return "", &provisioning.LocalError{Status: http.StatusConflict, Message: why}
	}
	start := action == actionShareStart || action == actionShare && !share.Status().Sharing
	if !start {
		if err := share.Stop(ctx); err != nil {
			return "", err
		}
		return "content share stopped", nil
	}
	if err := share.Start(ctx); err != nil {
		return "", &provisioning.LocalError{Status: http.StatusConflict, Message: err.Error()}
	}
	st := share.Status()
	return fmt.Sprintf("sharing the content input, %dx%d", st.Width, st.Height), nil
}

// runningShare is the content input's share, or nil and why there is none.
func (d *daemon) runningShare() (*pipeline.ContentShare, string) {
	if d.content == nil {
		return nil, noContentInput
	}
	if share := d.content.share.Load(); share != nil {
		return share, ""
	}
	return nil, "the content input is not open: the box is not in a call, or the input does not work (see the log)"
}

// noContentInput is why a box without video.content_camera shares nothing.
const noContentInput = "the box has no content input (video.content_camera)"

// shareStatus is what the status page says of the content input's share.
func (d *daemon) shareStatus() *provisioning.ShareStatus {
	st := &provisioning.ShareStatus{Input: d.cfg.Video.ContentCamera}
	share, why := d.runningShare()
	if share == nil {
		st.Summary = "not sharing: " + why
		return st
	}
	cs := share.Status()
	switch {
	case cs.Sharing:
		st.Sharing = true
		st.Signal = fmt.Sprintf("%dx%d", cs.Width, cs.Height)
		if cs.FPS > 0 {
			st.Signal += fmt.Sprintf("@%d", cs.FPS)
		}
		st.Summary = fmt.Sprintf("sharing the content input (%s), %s, sent at %d fps", st.Input, st.Signal, d.cfg.Video.ContentFPS)
	case cs.NoSignal:
		st.Summary = "not sharing: the content input has no signal (is the cable in, the laptop on?)"
	case cs.Stopped:
		st.Summary = "not sharing: the share was stopped by hand"
	case cs.Line != "":
		st.Summary = "not sharing: " + cs.Line
	default:
		st.Summary = "not sharing yet"
	}
	return st
}
