package avcodec_test

import (
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// The pipeline picks between these and the hardware decoders through its
// interfaces.
var (
	_ pipeline.VideoDecoder = (*avcodec.VideoDecoder)(nil)
	_ pipeline.AudioDecoder = (*avcodec.OpusDecoder)(nil)
)
