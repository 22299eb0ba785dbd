// Package pipeline owns the media graph between the devices and the call:
// raw frames and samples in, encoded frames out (and, for the receive side,
// back). It chooses and drives encoders and converts pixel formats. It sees
// devices only through the device/* interfaces and knows nothing of calls
// or networks.
package pipeline

import (
	"time"

	"github.com/callbox/callbox/device/camera"
)

// Codec names an encoding as RTP and the call server name it.
type Codec string

const (
	CodecH264 Codec = "H264"
	CodecVP8  Codec = "VP8"
	CodecOpus Codec = "opus"
)

// EncodedFrame is one coded picture or one coded block of sound.
type EncodedFrame struct {
	// Data is an H.264 access unit in Annex-B form, a VP8 frame or an Opus
	// packet. It is valid until the next Encode on the encoder that made it.
	Data     []byte
	Keyframe bool
	// Captured is when the source captured what Data holds.
	Captured time.Time
	// Duration is how long the frame lasts: 1/fps for video, the block
	// length for audio.
	Duration time.Duration
}

// VideoEncoder turns raw pictures into coded frames. The software encoders
// here and the hardware m2m encoder implement it; the rest of the box uses
// only this interface.
type VideoEncoder interface {
	// Codec is what the encoder produces.
	Codec() Codec
	// Accepts reports whether Encode takes frames in pixel format p as they
	// are; the pipeline converts other formats to I420 first.
	Accepts(p camera.PixelFormat) bool
	// Encode codes one picture. Frames with nothing to send (an encoder that
	// dropped the picture to keep to its bitrate) have empty Data.
	Encode(f camera.Frame) (EncodedFrame, error)
	// ForceKeyFrame makes the next encoded frame a keyframe. Safe to call
	// from any goroutine, e.g. when a receiver sends a PLI.
	ForceKeyFrame()
	// SetBitrate changes the target bitrate from the next frame on. Safe to
	// call from any goroutine, e.g. from congestion control.
	SetBitrate(bitsPerSecond int)
	Close() error
}

// AudioEncoder turns 48 kHz mono samples into coded packets.
type AudioEncoder interface {
	Codec() Codec
	// FrameSamples is how many samples Encode takes at a time.
	FrameSamples() int
	Encode(pcm []int16) ([]byte, error)
	Close() error
}

// VideoSettings are what a software video encoder is built with.
type VideoSettings struct {
	Width, Height int
	FPS           int
	BitsPerSecond int
	// KeyframeInterval is the most frames between two keyframes.
	KeyframeInterval int
	// LowEffort trades a little picture quality for CPU time (x264:
	// whole-pixel motion search; VP8 ignores it). Simulcast sets it on
	// the layers below the first (SimulcastLayerSettings).
	LowEffort bool
}
