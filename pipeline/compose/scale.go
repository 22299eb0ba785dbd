package compose

// Pictures are scaled and converted to XRGB8888 in one pass by libswscale:
// its SIMD bilinear scaler does a 360p picture into a 960x540 tile in about
// a millisecond, several times what a Go loop manages.

/*
#cgo pkg-config: libswscale libavutil
#include <stdint.h>
#include <libswscale/swscale.h>
#include <libavutil/log.h>
#include <libavutil/pixfmt.h>

static struct SwsContext *cbx_scaler(struct SwsContext *c, int sw, int sh, int dw, int dh) {
	// BGRA in memory is XRGB8888 read as little-endian words.
	return sws_getCachedContext(c, sw, sh, AV_PIX_FMT_YUV420P, dw, dh, AV_PIX_FMT_BGRA,
		SWS_BILINEAR, NULL, NULL, NULL);
}

static int cbx_scale(struct SwsContext *c, uint8_t *y, uint8_t *u, uint8_t *v, int ystride, int cstride,
                     int sh, uint8_t *dst, int dstride) {
	const uint8_t *src[4] = {y, u, v, NULL};
	int src_stride[4] = {ystride, cstride, cstride, 0};
	uint8_t *dstp[4] = {dst, NULL, NULL, NULL};
	int dst_stride[4] = {dstride, 0, 0, 0};
	return sws_scale(c, src, src_stride, 0, sh, dstp, dst_stride);
}

static void cbx_quiet(void) { av_log_set_level(AV_LOG_ERROR); }
*/
import "C"

import (
	"fmt"
	"image"
	"sync"
	"unsafe"

	"github.com/callbox/callbox/device/display"
)

var quietOnce sync.Once

// scaler scales I420 pictures into rectangles of a frame. It keeps one
// libswscale context per source and destination size in use, and frees
// those a frame did not use.
type scaler struct {
	contexts map[scaleKey]*scaleContext
}

type scaleKey struct{ sw, sh, dw, dh int }

type scaleContext struct {
	c    *C.struct_SwsContext
	used bool
}

// draw scales pic into dst's rectangle r, which must lie inside dst.
func (s *scaler) draw(dst *display.Frame, r image.Rectangle, pic *image.YCbCr) error {
	quietOnce.Do(func() { C.cbx_quiet() })
	sw, sh := pic.Rect.Dx(), pic.Rect.Dy()
	if sw < 2 || sh < 2 || r.Dx() < 2 || r.Dy() < 2 || pic.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return fmt.Errorf("scale %dx%d %v picture to %v: unsupported", sw, sh, pic.SubsampleRatio, r)
	}
	if !r.In(dst.Bounds()) {
		return fmt.Errorf("scale to %v: outside the %dx%d frame", r, dst.Width, dst.Height)
	}
	if s.contexts == nil {
		s.contexts = map[scaleKey]*scaleContext{}
	}
	key := scaleKey{sw, sh, r.Dx(), r.Dy()}
	ctx := s.contexts[key]
	if ctx == nil {
		c := C.cbx_scaler(nil, C.int(sw), C.int(sh), C.int(r.Dx()), C.int(r.Dy()))
		if c == nil {
			return fmt.Errorf("swscale cannot scale %dx%d to %dx%d", sw, sh, r.Dx(), r.Dy())
		}
		ctx = &scaleContext{c: c}
		s.contexts[key] = ctx
	}
	ctx.used = true
	y := pic.Y[pic.YOffset(pic.Rect.Min.X, pic.Rect.Min.Y):]
	cb := pic.Cb[pic.COffset(pic.Rect.Min.X, pic.Rect.Min.Y):]
	cr := pic.Cr[pic.COffset(pic.Rect.Min.X, pic.Rect.Min.Y):]
	if len(y) < pic.YStride*(sh-1)+sw || len(cb) < pic.CStride*((sh+1)/2-1)+(sw+1)/2 || len(cr) < len(cb) {
		return fmt.Errorf("scale %dx%d picture: planes too short", sw, sh)
	}
	out := dst.Pix[r.Min.Y*dst.Stride+4*r.Min.X:]
	rows := C.cbx_scale(ctx.c,
		(*C.uint8_t)(unsafe.Pointer(&y[0])), (*C.uint8_t)(unsafe.Pointer(&cb[0])), (*C.uint8_t)(unsafe.Pointer(&cr[0])),
		C.int(pic.YStride), C.int(pic.CStride), C.int(sh),
		(*C.uint8_t)(unsafe.Pointer(&out[0])), C.int(dst.Stride))
	if int(rows) != r.Dy() {
		return fmt.Errorf("swscale wrote %d of %d lines", rows, r.Dy())
	}
	return nil
}

// sweep frees the contexts no draw used since the last sweep.
func (s *scaler) sweep() {
	for k, ctx := range s.contexts {
		if !ctx.used {
			C.sws_freeContext(ctx.c)
			delete(s.contexts, k)
			continue
		}
		ctx.used = false
	}
}

func (s *scaler) close() {
	for k, ctx := range s.contexts {
		C.sws_freeContext(ctx.c)
		delete(s.contexts, k)
	}
}
