package main

// content_encode_cpu_ratio: the CPU of sending shared content (an HDMI
// input's 1080p at content's 5 fps) over that of sending the camera
// (720p30), for the same stretch of time.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

const (
	contentWidth, contentHeight, contentFPS = 1920, 1080, 5
	contentSeconds                          = 3 // of each, per round
)

// contentFigures prints content_encode_cpu_ratio.
func contentFigures() error {
	ratio, err := contentEncodeCPURatio()
	if err != nil {
		return fmt.Errorf("content: %w", err)
	}
	fmt.Printf("content_encode_cpu_ratio: %.3f\n", ratio)
	return nil
}

// contentEncodeCPURatio compares, over contentSeconds of each, the CPU
// time of callboxd's content send path (YUYV 1920x1080 test pattern
// pictures at 5 fps, as an HDMI input gives them, coded by the content
// sender: x264 tuned for still pictures, two simulcast layers, down to
// RTP packets) with its camera's (YUYV 1280x720 at 30 fps, the camera's
// sender with the default settings). The test pattern moves in every
// picture: slides, which mostly do not, cost less. Rounds alternate so
// that both see the same machine; the median round's ratio is the figure.
func contentEncodeCPURatio() (float64, error) {
	content, _, err := captureFramesOf(contentWidth, contentHeight, contentSeconds*contentFPS)
	if err != nil {
		return 0, err
	}
	cameraFrames, _, err := captureFramesOf(benchWidth, benchHeight, contentSeconds*benchFPS)
	if err != nil {
		return 0, err
	}
	for i := range content {
		content[i].Format.FPS = contentFPS
	}
	for i := range cameraFrames {
		cameraFrames[i].Format.FPS = benchFPS
	}
	cfg := config.Default()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// As callboxd makes them (cmd/callboxd: newContent, newVideoSender),
	// in software.
	contentSender := pipeline.ContentSenderOptions(media.CodecH264, cfg.Video.ContentBitsPerSecond(), contentFPS, config.EncoderSoftware, quiet)
	cameraSender := pipeline.VideoSenderOptions{Codec: media.CodecH264, BitsPerSecond: cfg.Video.BitsPerSecond(),
		KeyframeInterval: cfg.Video.KeyframeInterval, Mode: config.EncoderSoftware, Logger: quiet}
	return medianCPURatio(sendRounds,
		func() error { return senderPath(contentSender, content) },
		func() error { return senderPath(cameraSender, cameraFrames) })
}

// senderPath runs a video sender made as callboxd makes it over the
// frames, down to RTP packets, one packetizer per layer.
func senderPath(opts pipeline.VideoSenderOptions, frames []camera.Frame) error {
	var packetizers []rtp.Packetizer
	err := pipeline.NewVideoSender(opts).Send(context.Background(), &replay{frames: frames}, func(layer int, f media.EncodedFrame) error {
		for len(packetizers) <= layer {
			packetizers = append(packetizers, rtp.NewPacketizer(1200, 96, 1, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000))
		}
		packetizers[layer].Packetize(f.Data, uint32(90000/frames[0].Format.FPS))
		return nil
	})
	if errors.Is(err, errEndOfReplay) {
		return nil
	}
	return err
}
