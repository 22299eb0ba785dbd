package v4l2m2m

import (
	"encoding/binary"

	"github.com/callbox/callbox/media"
)

// isKeyframe reads from the coded data whether it is a keyframe, for
// drivers that do not set V4L2_BUF_FLAG_KEYFRAME (vicodec does not).
func isKeyframe(c media.Codec, data []byte) bool {
	switch c {
	case media.CodecH264:
		key := false
		media.EachNAL(data, func(nal []byte) {
			if nal[0]&0x1f == 5 { // IDR slice
				key = true
			}
		})
		return key
	case media.CodecVP8:
		// The frame tag's lowest bit is 0 for a key frame.
		return len(data) > 0 && data[0]&1 == 0
	case media.CodecFWHT:
		// struct fwht_cframe_hdr: two magic words, version, width, height,
		// then the flags, all big-endian.
		return len(data) >= 24 && binary.BigEndian.Uint32(data[20:24])&fwhtFlagIFrame != 0
	}
	return false
}

// h264HasPicture reports whether an Annex-B buffer holds a coded slice, not
// only parameter sets or SEI (some encoders hand SPS/PPS over on their own).
func h264HasPicture(data []byte) bool {
	has := false
	media.EachNAL(data, func(nal []byte) {
		if t := nal[0] & 0x1f; t >= 1 && t <= 5 {
			has = true
		}
	})
	return has
}
