package media

import "encoding/binary"

// PictureSize reads the width and height of the pictures a coded frame
// holds from its headers, without decoding it: an H.264 access unit's
// sequence parameter set (sent with each keyframe), a VP8 keyframe's
// header (RFC 6386 9.1), an FWHT frame's header. ok is false for a frame
// that does not say (an H.264 frame without an SPS, a VP8 interframe) or
// whose header is broken.
func PictureSize(c Codec, frame []byte) (width, height int, ok bool) {
	switch c {
	case CodecH264:
		EachNAL(frame, func(nal []byte) {
			if !ok && nal[0]&0x1f == 7 {
				width, height, ok = spsPictureSize(UnescapeRBSP(nal[1:]))
			}
		})
		return width, height, ok
	case CodecVP8:
		// The frame tag (3 bytes; bit 0 clear for a keyframe), the start
		// code 9d 01 2a, then width and height in 14 bits each, little-endian,
		// under a 2-bit scale.
		if len(frame) < 10 || frame[0]&1 != 0 || frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
			return 0, 0, false
		}
		width = int(binary.LittleEndian.Uint16(frame[6:]) & 0x3fff)
		height = int(binary.LittleEndian.Uint16(frame[8:]) & 0x3fff)
		return width, height, width > 0 && height > 0
	case CodecFWHT:
		// struct fwht_cframe_hdr: two magic words, version, width, height
		// (big-endian).
		if len(frame) < 20 {
			return 0, 0, false
		}
		width, height = int(binary.BigEndian.Uint32(frame[12:])), int(binary.BigEndian.Uint32(frame[16:]))
		return width, height, width > 0 && height > 0 && width <= maxPictureSide && height <= maxPictureSide
	}
	return 0, 0, false
}

// maxPictureSide is the largest width or height taken for real: VP8's
// fields hold at most 16383; an H.264 picture wider or taller is nothing
// a box receives.
const maxPictureSide = 1 << 14

// spsPictureSize reads the picture's size from an SPS's RBSP (after the
// NAL header): H.264 7.3.2.1.1, with frame cropping (7.4.2.1.1).
func spsPictureSize(rbsp []byte) (width, height int, ok bool) {
	r := NewBitReader(rbsp)
	profile := r.Bits(8)
	r.Bits(16) // constraint flags, level_idc
	r.UE()     // seq_parameter_set_id
	chromaFormat := uint32(1)
	separatePlanes := false
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chromaFormat = r.UE()
		if chromaFormat == 3 {
			separatePlanes = r.Bit() == 1
		}
		r.UE()            // bit_depth_luma_minus8
		r.UE()            // bit_depth_chroma_minus8
		r.Bit()           // qpprime_y_zero_transform_bypass_flag
		if r.Bit() == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if chromaFormat == 3 {
				lists = 12
			}
			for i := range lists {
				if r.Bit() == 1 {
					size := 64 // 8x8 lists
					if i < 6 {
						size = 16 // 4x4 lists
					}
					skipScalingList(r, size)
				}
			}
		}
	}
	r.UE()          // log2_max_frame_num_minus4
	switch r.UE() { // pic_order_cnt_type
	case 0:
		r.UE() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.Bit() // delta_pic_order_always_zero_flag
		r.SE()  // offset_for_non_ref_pic
		r.SE()  // offset_for_top_to_bottom_field
		cycle := r.UE()
		for i := uint32(0); i < cycle && r.Ok(); i++ {
			r.SE() // offset_for_ref_frame
		}
	}
	r.UE()  // max_num_ref_frames
	r.Bit() // gaps_in_frame_num_value_allowed_flag
	widthMBs, heightMapUnits := r.UE()+1, r.UE()+1
	frameMBsOnly := r.Bit()
	if frameMBsOnly == 0 {
		r.Bit() // mb_adaptive_frame_field_flag
	}
	r.Bit() // direct_8x8_inference_flag
	var cropLeft, cropRight, cropTop, cropBottom uint32
	if r.Bit() == 1 {
		cropLeft, cropRight, cropTop, cropBottom = r.UE(), r.UE(), r.UE(), r.UE()
	}
	if !r.Ok() || chromaFormat > 3 {
		return 0, 0, false
	}
	// Cropping counts in chroma samples (and field pairs): Table 6-1.
	unitX, unitY := uint32(1), 2-uint32(frameMBsOnly)
	if !separatePlanes && chromaFormat != 0 {
		if chromaFormat != 3 {
			unitX = 2
		}
		if chromaFormat == 1 {
			unitY *= 2
		}
	}
	w := uint64(widthMBs) * 16
	h := uint64(heightMapUnits) * 16 * uint64(2-frameMBsOnly)
	cropX := uint64(unitX) * (uint64(cropLeft) + uint64(cropRight))
	cropY := uint64(unitY) * (uint64(cropTop) + uint64(cropBottom))
	if cropX >= w || cropY >= h || w-cropX > maxPictureSide || h-cropY > maxPictureSide {
		return 0, 0, false // broken, or beyond any level's pictures
	}
	return int(w - cropX), int(h - cropY), true
}

// skipScalingList reads past a scaling_list() of size entries (7.3.2.1.1.1).
func skipScalingList(r *BitReader, size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			next = (last + r.SE() + 256) % 256
			if !r.Ok() {
				return
			}
		}
		if next != 0 {
			last = next
		}
	}
}
