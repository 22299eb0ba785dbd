package pipeline

// x264 writes the slice_type of an I slice as 7 ("I, and so is every slice
// of this picture"), never 2 ("I"). Both mean the same to a decoder, but 7
// is four bits longer: the slice header of an IDR picture begins
// first_mb_in_slice (1 bit), slice_type (7 bits), pic_parameter_set_id, so
// the PPS id starts in the third byte of the NAL unit. LiveKit's
// end-to-end encryption leaves only the NAL header and one more byte of a
// slice in clear, and Chromium reads the PPS id of every keyframe before
// it decrypts (its SPS/PPS check): with slice_type 7 it reads ciphertext,
// finds no such PPS in half the keyframes and drops them, and the guest's
// picture freezes until a keyframe happens to pass. Written as 2, the PPS
// id is in the clear byte. The rewrite is for CAVLC only (x264's baseline
// profile): with CABAC the slice data is byte-aligned after the header,
// and shifting the header would break that.

import (
	"math/bits"

	"github.com/callbox/callbox/media"
)

// shortenIntraSliceType rewrites, in the Annex B access unit au, every
// slice whose slice_type is 7 to slice_type 2. The result is appended to
// buf[:0] (reused; it grows as needed); false, and nothing written, when
// au has no such slice.
func shortenIntraSliceType(au, buf []byte) ([]byte, bool) {
	needed := false
	media.EachNAL(au, func(nal []byte) { needed = needed || isLongIntraSlice(nal) })
	if !needed {
		return nil, false
	}
	out := buf[:0]
	media.EachNAL(au, func(nal []byte) {
		out = append(out, 0, 0, 0, 1)
		if !isLongIntraSlice(nal) {
			out = append(out, nal...)
			return
		}
		out = append(out, nal[0])
		out = appendEscaped(out, rewriteIntraSliceType(media.UnescapeRBSP(nal[1:])))
	})
	return out, true
}

// isLongIntraSlice reports whether nal is a coded slice (NAL type 1 or 5)
// whose slice_type is 7. Both Exp-Golomb codes it reads lie in the first
// bytes, which hold no emulation prevention: first_mb_in_slice and
// slice_type of any real slice fit in less than four bytes.
func isLongIntraSlice(nal []byte) bool {
	if len(nal) < 2 || (nal[0]&0x1f != 1 && nal[0]&0x1f != 5) {
		return false
	}
	r := media.NewBitReader(media.UnescapeRBSP(nal[1:min(len(nal), 8)]))
	r.UE() // first_mb_in_slice
	t := r.UE()
	return r.Ok() && t == 7
}

// rewriteIntraSliceType takes a slice's RBSP (after the NAL header) whose
// slice_type is 7 and returns it with slice_type 2: the rest of the
// header and the slice data follow, four bits earlier, up to the RBSP stop
// bit, then zero bits to the byte boundary.
func rewriteIntraSliceType(rbsp []byte) []byte {
	r := media.NewBitReader(rbsp)
	firstMB := r.UE()
	r.UE() // 7
	stop := lastSetBit(rbsp)
	var w bitWriter
	w.ue(firstMB)
	w.ue(2)
	for pos := r.Pos(); pos <= stop; pos++ {
		w.bit(rbsp[pos/8] >> (7 - pos%8) & 1)
	}
	return w.b
}

// lastSetBit is the position of the RBSP stop bit: the last bit set.
func lastSetBit(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0 {
			return i*8 + 7 - bits.TrailingZeros8(b[i])
		}
	}
	return -1
}

// appendEscaped appends rbsp with emulation prevention: a 03 after any
// two zero bytes that a byte of 00 to 03 follows.
func appendEscaped(out, rbsp []byte) []byte {
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// bitWriter writes bits most significant first.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) bit(v byte) {
	if w.n%8 == 0 {
		w.b = append(w.b, 0)
	}
	w.b[len(w.b)-1] |= v << (7 - w.n%8)
	w.n++
}

// ue writes an unsigned Exp-Golomb code.
func (w *bitWriter) ue(v uint32) {
	v++
	bits := 0
	for x := v; x > 1; x >>= 1 {
		bits++
	}
	for range bits {
		w.bit(0)
	}
	for i := bits; i >= 0; i-- {
		w.bit(byte(v >> i & 1))
	}
}
