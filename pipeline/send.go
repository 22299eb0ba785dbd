package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// SendVideo is the video send path: it reads frames from src, converts them
// for enc where needed, encodes them and hands each coded frame to out,
// until ctx ends or src, enc or out fails.
func SendVideo(ctx context.Context, src camera.Source, enc media.VideoEncoder, out func(media.EncodedFrame) error) error {
	var conv Converter
	defer conv.Close()
	for {
		f, err := src.ReadFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !enc.Accepts(f.Format.Pixel) {
			if f, err = conv.ToI420(f); err != nil {
				return err
			}
		}
		if err := encodeAndSend(enc, f, out); err != nil {
			return err
		}
	}
}

// encodeAndSend codes f and hands what came out, if anything, to out.
func encodeAndSend(enc media.VideoEncoder, f camera.Frame, out func(media.EncodedFrame) error) error {
	coded, err := enc.Encode(f)
	if err != nil {
		return err
	}
	if len(coded.Data) == 0 {
		return nil // dropped to keep to the bitrate
	}
	if err := out(coded); err != nil {
		return fmt.Errorf("send video: %w", err)
	}
	return nil
}

// SendAudio is the audio send path: it reads blocks of samples from src,
// encodes them and hands each packet to out, until ctx ends or a part fails.
func SendAudio(ctx context.Context, src audio.Source, enc media.AudioEncoder, out func(media.EncodedFrame) error) error {
	pcm := make([]int16, enc.FrameSamples())
	duration := time.Duration(len(pcm)) * time.Second / audio.SampleRate
	var silence time.Duration // not sent since the last packet (DTX)
	for {
		if err := src.Read(ctx, pcm); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		// The block's first sample was captured one block before now.
		captured := time.Now().Add(-duration)
		packet, err := enc.Encode(pcm)
		if err != nil {
			return err
		}
		if enc.Codec() == media.CodecOpus && IsOpusDTX(packet) {
			silence += duration
			continue
		}
		if err := out(media.EncodedFrame{Data: packet, Captured: captured, Duration: duration, Silence: silence}); err != nil {
			return fmt.Errorf("send audio: %w", err)
		}
		silence = 0
	}
}
