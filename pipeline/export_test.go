package pipeline

// KeepIntraSliceType makes an x264 encoder hand over its keyframes as x264
// wrote them, for comparing them with the rewritten ones.
func KeepIntraSliceType(e *H264Encoder) { e.rewriteIntra = false }

// ShortenIntraSliceType is what the x264 encoder does to its keyframes
// (h264_slicetype.go).
func ShortenIntraSliceType(au []byte) []byte {
	out, ok := shortenIntraSliceType(au, nil)
	if !ok {
		return au
	}
	return out
}
