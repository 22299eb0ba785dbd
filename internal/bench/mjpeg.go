package main

// The figures of the send path from an MJPEG webcam, and of 1080p30.

import (
	"context"
	"fmt"
	"slices"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/jpegenc"
	"github.com/callbox/callbox/pipeline"
)

const sendRounds = 5

// mjpegFigures prints mjpeg_decode_ms_720p, mjpeg_encode_overhead_ratio
// and send_1080p_cpu_ratio.
func mjpegFigures() error {
	mjpeg, err := webcamFrames(benchWidth, benchHeight, overheadFrames)
	if err != nil {
		return err
	}
	ms, err := mjpegDecodeMs(mjpeg)
	if err != nil {
		return err
	}
	fmt.Printf("mjpeg_decode_ms_720p: %.2f ms\n", ms)
	// x264 alone codes the pictures the send path hands it, the JPEGs as
	// decoded: x264 spends about a tenth more on a JPEG's artefacts than
	// on the test pattern's own pictures, which is the camera's doing, not
	// the send path's.
	decoded, err := decodedFrames(mjpeg)
	if err != nil {
		return err
	}
	ratio, err := medianCPURatio(overheadRounds,
		func() error { return sendPath(sendSettings(benchWidth, benchHeight), mjpeg) },
		func() error { return rawEncode(sendSettings(benchWidth, benchHeight), decoded) })
	if err != nil {
		return err
	}
	fmt.Printf("mjpeg_encode_overhead_ratio: %.3f\n", ratio)
	ratio, err = send1080pCPURatio(mjpeg)
	if err != nil {
		return err
	}
	fmt.Printf("send_1080p_cpu_ratio: %.2f\n", ratio)
	return nil
}

// webcamFrames makes n test pattern pictures of w x h as an MJPEG webcam
// hands them over: 4:2:2 at a webcam's quality, coded by libjpeg-turbo.
func webcamFrames(w, h, n int) ([]camera.Frame, error) {
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var mjpeg []camera.Frame
	for range n {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			return nil, err
		}
		data, err := jpegenc.Encode(f, jpegenc.Subsampling422, jpegenc.WebcamQuality)
		if err != nil {
			return nil, err
		}
		f.Format.Pixel, f.Format.Stride, f.Data = camera.PixelFormatMJPEG, 0, data
		mjpeg = append(mjpeg, f)
	}
	return mjpeg, nil
}

// decodedFrames are the MJPEG frames decoded into I420, each with its
// own copy.
func decodedFrames(mjpeg []camera.Frame) ([]camera.Frame, error) {
	var conv pipeline.Converter
	defer conv.Close()
	var out []camera.Frame
	for _, f := range mjpeg {
		d, err := conv.ToI420(f)
		if err != nil {
			return nil, err
		}
		d.Data = slices.Clone(d.Data)
		out = append(out, d)
	}
	return out, nil
}

// mjpegDecodeMs is the CPU time of decoding one frame into I420, as the
// send path does: the median of sendRounds rounds over the frames.
func mjpegDecodeMs(frames []camera.Frame) (float64, error) {
	var conv pipeline.Converter
	defer conv.Close()
	var perFrame []float64
	for range sendRounds {
		cpu, err := cpuTime(func() error {
			for _, f := range frames {
				if _, err := conv.ToI420(f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		perFrame = append(perFrame, float64(cpu.Microseconds())/1000/float64(len(frames)))
	}
	slices.Sort(perFrame)
	return perFrame[len(perFrame)/2], nil
}

// sendSettings are the encoder's settings for a w x h camera at 30 fps,
// with the bitrate that goes with the size (config.Video.BitsPerSecond).
func sendSettings(w, h int) pipeline.VideoSettings {
	v := config.Video{Width: w, Height: h, FPS: benchFPS}
	return pipeline.VideoSettings{Width: w, Height: h, FPS: benchFPS, BitsPerSecond: v.BitsPerSecond(), KeyframeInterval: 120}
}

// send1080pCPURatio is the CPU time of the send path from a 1080p MJPEG
// webcam over that from a 720p one (frames720), per frame, each at the
// bitrate that goes with its size.
func send1080pCPURatio(frames720 []camera.Frame) (float64, error) {
	frames1080, err := webcamFrames(1920, 1080, overheadFrames)
	if err != nil {
		return 0, err
	}
	return medianCPURatio(sendRounds,
		func() error { return sendPath(sendSettings(1920, 1080), frames1080) },
		func() error { return sendPath(sendSettings(benchWidth, benchHeight), frames720) })
}
