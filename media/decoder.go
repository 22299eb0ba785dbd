package media

import "image"

// VideoDecoder turns complete coded frames into pictures. The software
// decoder (pipeline/avcodec) and the hardware one (pipeline/v4l2m2m) both
// implement it. A VideoDecoder is used by one goroutine at a time.
type VideoDecoder interface {
	// Decode takes one complete coded frame (an H.264 access unit in Annex-B
	// form, or one VP8 frame) and returns the picture it completes, or nil
	// with a nil error when the decoder needs more input (or the frame is not
	// shown, like a VP8 alt-ref frame).
	// The returned picture is I420 (SubsampleRatio420) and valid until the
	// next Decode or Close. A corrupt frame gives an error; the decoder stays
	// usable and recovers at the next key frame.
	Decode(frame []byte) (*image.YCbCr, error)
	Close() error
}

// AudioDecoder turns Opus packets into 48 kHz mono samples.
type AudioDecoder interface {
	// Decode decodes one Opus packet into pcm and returns the number of
	// samples written. pcm should hold 120 ms (5760 samples), the longest
	// packet Opus allows; a shorter pcm that the packet overflows gives an
	// error.
	Decode(packet []byte, pcm []int16) (int, error)
	Close() error
}
