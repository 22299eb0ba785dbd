package pipeline

// Simulcast's layers are each half the size of the one above, and a 2:1
// step is a 2x2 average. That loop takes a third of libswscale's time for
// the same step (SWS_BILINEAR; its generic scaler filters line by line and
// even SWS_POINT takes half again as long), and the average is the right
// filter for exactly 2:1: every source pixel counts once. Other ratios go
// to libswscale.

/*
#include <stdint.h>

// cbx_halve_plane averages each 2x2 block of src into one pixel of dst,
// rounding to nearest. Written plainly so that the compiler vectorizes it.
__attribute__((optimize("O3")))
static void cbx_halve_plane(const uint8_t *src, int stride, uint8_t *restrict dst, int dst_stride, int out_w, int out_h) {
	for (int y = 0; y < out_h; y++) {
		const uint8_t *a = src + (long)2 * y * stride, *b = a + stride;
		uint8_t *d = dst + (long)y * dst_stride;
		for (int x = 0; x < out_w; x++)
			d[x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
	}
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// isHalf reports whether out is exactly half of in, in both directions,
// with chroma planes that halve exactly too.
func isHalf(w, h, outW, outH int) bool {
	return outW*2 == w && outH*2 == h && outW%2 == 0 && outH%2 == 0
}

// halveI420 writes the 2x2 averages of the I420 picture src (w x h) into
// the planes y, u, v of a tightly packed w/2 x h/2 picture.
func halveI420(src planes, w, h int, y, u, v []byte) error {
	outW, outH := w/2, h/2
	if err := halvePlane(src.p0, src.stride0, y, outW, outH); err != nil {
		return fmt.Errorf("halve Y plane: %w", err)
	}
	if err := halvePlane(src.p1, src.stride1, u, outW/2, outH/2); err != nil {
		return fmt.Errorf("halve U plane: %w", err)
	}
	if err := halvePlane(src.p2, src.stride1, v, outW/2, outH/2); err != nil {
		return fmt.Errorf("halve V plane: %w", err)
	}
	return nil
}

// halvePlane halves one plane into the tightly packed dst (outW x outH).
func halvePlane(src []byte, stride int, dst []byte, outW, outH int) error {
	// Checked here so that no slip reads or writes past the slices in C.
	if outW <= 0 || outH <= 0 || stride < 2*outW || len(src) < stride*(2*outH-1)+2*outW || len(dst) < outW*outH {
		return fmt.Errorf("%dx%d from %d bytes with stride %d into %d bytes: sizes do not fit", outW, outH, len(src), stride, len(dst))
	}
	C.cbx_halve_plane((*C.uint8_t)(unsafe.Pointer(&src[0])), C.int(stride),
		(*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(outW), C.int(outW), C.int(outH))
	return nil
}
