// Package media holds the plain media types every part of the box shares:
// codec names, coded frames, the encoder and decoder interfaces, and the
// bitstream helpers (Annex B NAL units, RBSP, I420 planes). It is pure Go
// and imports only the standard library and device/camera's frame types,
// so call and pipeline/v4l2m2m, which need these types and nothing of the
// software codecs, link no cgo (media's TestNoCgo checks it). It holds
// types and small helpers, never a policy: choosing and running encoders
// is pipeline's.
package media

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
	// CodecFWHT is the Fast Walsh-Hadamard Transform codec of the kernel's
	// vicodec test driver: the lab's stand-in for a hardware H.264 encoder.
	// No WebRTC receiver decodes it, so it is never published to a call; it
	// exists so the m2m code can be exercised and report honestly what it
	// produces.
	CodecFWHT Codec = "FWHT"
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
	// Silence is how much sound right before this frame was not sent
	// (Opus DTX), a whole number of Durations: the stream's clock moves
	// on by it.
	Silence time.Duration
}

// VideoEncoder turns raw pictures into coded frames. The software encoders
// (pipeline) and the hardware m2m encoder (pipeline/v4l2m2m) implement it;
// the rest of the box uses only this interface.
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
// AudioConcealer is an AudioDecoder that makes up sound for a packet that
// was lost: from the next packet's forward error correction when it has
// it (fec true), else from the sound before.
type AudioConcealer interface {
	Conceal(next []byte, pcm []int16) (n int, fec bool, err error)
}

type AudioEncoder interface {
	Codec() Codec
	// FrameSamples is how many samples Encode takes at a time.
	FrameSamples() int
	Encode(pcm []int16) ([]byte, error)
	Close() error
}
