package pipeline

import "fmt"

// NewSoftwareVideoEncoder opens the software encoder of codec: x264 for
// H.264, libvpx for VP8.
func NewSoftwareVideoEncoder(codec Codec, s VideoSettings) (VideoEncoder, error) {
	switch codec {
	case CodecH264:
		return NewH264Encoder(s)
	case CodecVP8:
		return NewVP8Encoder(s)
	}
	return nil, fmt.Errorf("no software encoder for %s", codec)
}
