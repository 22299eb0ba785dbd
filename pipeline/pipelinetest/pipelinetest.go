// Package pipelinetest makes coded video for tests of what receives it
// (the screen's decoders, the viewer): the test pattern, coded by
// pipeline's software encoders, as a sender would send it. It is used
// only by tests.
package pipelinetest

import (
	"context"
	"slices"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// EncodedPattern is n coded frames of a width x height test pattern, the
// first a keyframe and no other, each a copy.
func EncodedPattern(t testing.TB, codec media.Codec, width, height, n int) [][]byte {
	t.Helper()
	return EncodedPatternKeyframes(t, codec, width, height, n)
}

// EncodedPatternKeyframes is EncodedPattern with keyframes also at the
// frames numbered in keyframes.
func EncodedPatternKeyframes(t testing.TB, codec media.Codec, width, height, n int, keyframes ...int) [][]byte {
	t.Helper()
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: width, Height: height, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	settings := pipeline.VideoSettings{Width: width, Height: height, FPS: 30, BitsPerSecond: 800_000, KeyframeInterval: 1000}
	enc, err := pipeline.NewSoftwareVideoEncoder(codec, settings)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out [][]byte
	for len(out) < n {
		if slices.Contains(keyframes, len(out)) {
			enc.ForceKeyFrame()
		}
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		coded, err := enc.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(coded.Data) > 0 {
			out = append(out, append([]byte(nil), coded.Data...))
		}
	}
	return out
}
