package avcodec_test

import (
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// The pipeline picks between these and the hardware decoders through its
// interfaces.
var (
	_ media.VideoDecoder = (*avcodec.VideoDecoder)(nil)
)
