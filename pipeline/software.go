package pipeline

import (
	"fmt"

	"github.com/callbox/callbox/media"
)

// NewSoftwareVideoEncoder opens the software encoder of codec: x264 for
// H.264, libvpx for VP8.
func NewSoftwareVideoEncoder(codec media.Codec, s VideoSettings) (media.VideoEncoder, error) {
	switch codec {
	case media.CodecH264:
		return NewH264Encoder(s)
	case media.CodecVP8:
		return NewVP8Encoder(s)
	}
	return nil, fmt.Errorf("no software encoder for %s", codec)
}
