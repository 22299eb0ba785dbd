package v4l2m2m

import "github.com/callbox/callbox/media"

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
