package media

// H.264 Annex B byte streams, as the encoders hand them over: what the m2m
// encoder, pipeline's keyframe rewrite (h264_slicetype.go) and call's E2EE
// share.

import "encoding/binary"

// EachNAL calls fn with every non-empty NAL unit of an Annex B stream,
// without its start code.
func EachNAL(data []byte, fn func(nal []byte)) {
	start := -1
	for i := 0; i+2 < len(data); i++ {
		if data[i] != 0 || data[i+1] != 0 || data[i+2] != 1 {
			continue
		}
		if start >= 0 {
			end := i
			for end > start && data[end-1] == 0 { // a four-byte start code, or trailing zeros
				end--
			}
			if end > start {
				fn(data[start:end])
			}
		}
		start = i + 3
		i += 2
	}
	if start >= 0 && start < len(data) {
		fn(data[start:])
	}
}

// UnescapeRBSP removes emulation prevention bytes (00 00 03 → 00 00).
func UnescapeRBSP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if i+2 < len(b) && b[i] == 0 && b[i+1] == 0 && b[i+2] == 3 {
			out = append(out, 0, 0)
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// IsKeyframe reports whether a coded frame starts a picture that decodes
// on its own: an H.264 access unit (Annex B) with an IDR slice, a VP8
// keyframe (the frame tag's inverse key frame bit, RFC 6386 9.1), or an
// FWHT I frame (vicodec's header flags). Drivers that do not flag their
// keyframes (vicodec) are read with it too.
func IsKeyframe(c Codec, frame []byte) bool {
	switch c {
	case CodecH264:
		idr := false
		EachNAL(frame, func(nal []byte) { idr = idr || nal[0]&0x1f == 5 })
		return idr
	case CodecVP8:
		return len(frame) > 0 && frame[0]&1 == 0
	case CodecFWHT:
		// struct fwht_cframe_hdr: two magic words, version, width, height,
		// then the flags, all big-endian.
		return len(frame) >= 24 && binary.BigEndian.Uint32(frame[20:24])&FWHTFlagIFrame != 0
	}
	return false
}

// FWHTFlagIFrame marks an intra-coded FWHT frame in its header's flags
// (V4L2_FWHT_FL_I_FRAME; pipeline/v4l2m2m's ABI test checks it against the
// kernel's header).
const FWHTFlagIFrame = 1 << 10
