package compose

// Pictures are scaled and converted to XRGB8888 by libswscale, in two
// passes: its SIMD scaler first scales the I420 picture to the
// rectangle's size, then its unscaled converter turns that into XRGB8888.
// A 1080p share into the content area (about 1564x880) takes 2.5 ms so,
// against 3.2 ms for the one pass that scales and converts at once
// (libswscale 5.1 here), and a 360p picture into a tile 0.1 ms less;
// both are several times what a Go loop manages.

/*
#cgo pkg-config: libswscale libavutil
#include <stdint.h>
#include <libswscale/swscale.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/pixfmt.h>

// cbx_scaler scales sw x sh I420 pictures into dw x dh XRGB8888
// rectangles through an I420 picture of the destination's size.
struct cbx_scaler {
	struct SwsContext *scale, *convert; // the second is NULL when no scaling is needed
	uint8_t *mid;                       // I420 of dw x dh
	int dw, dh;
};

static void cbx_scaler_free(struct cbx_scaler *s) {
	if (!s) return;
	sws_freeContext(s->scale);
	sws_freeContext(s->convert);
	av_free(s->mid);
	av_free(s);
}

static struct cbx_scaler *cbx_scaler_new(int sw, int sh, int dw, int dh) {
	struct cbx_scaler *s = av_mallocz(sizeof *s);
	if (!s) return NULL;
	s->dw = dw;
	s->dh = dh;
	// BGRA in memory is XRGB8888 read as little-endian words.
	if (sw == dw && sh == dh) {
		s->scale = sws_getContext(sw, sh, AV_PIX_FMT_YUV420P, dw, dh, AV_PIX_FMT_BGRA, SWS_BILINEAR, NULL, NULL, NULL);
	} else {
		s->scale = sws_getContext(sw, sh, AV_PIX_FMT_YUV420P, dw, dh, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
		s->convert = sws_getContext(dw, dh, AV_PIX_FMT_YUV420P, dw, dh, AV_PIX_FMT_BGRA, SWS_BILINEAR, NULL, NULL, NULL);
		s->mid = av_malloc((size_t)dw * dh + 2 * (size_t)((dw + 1) / 2) * ((dh + 1) / 2));
		if (!s->convert || !s->mid) {
			cbx_scaler_free(s);
			return NULL;
		}
	}
	if (!s->scale) {
		cbx_scaler_free(s);
		return NULL;
	}
	return s;
}

// cbx_scale returns the number of lines written into dst: dh when all went well.
static int cbx_scale(struct cbx_scaler *s, uint8_t *y, uint8_t *u, uint8_t *v, int ystride, int cstride,
                     int sh, uint8_t *dst, int dstride) {
	const uint8_t *src[4] = {y, u, v, NULL};
	int src_stride[4] = {ystride, cstride, cstride, 0};
	uint8_t *out[4] = {dst, NULL, NULL, NULL};
	int out_stride[4] = {dstride, 0, 0, 0};
	if (!s->convert)
		return sws_scale(s->scale, src, src_stride, 0, sh, out, out_stride);
	int cw = (s->dw + 1) / 2, ch = (s->dh + 1) / 2;
	uint8_t *mid[4] = {s->mid, s->mid + s->dw * s->dh, s->mid + s->dw * s->dh + cw * ch, NULL};
	int mid_stride[4] = {s->dw, cw, cw, 0};
	if (sws_scale(s->scale, src, src_stride, 0, sh, mid, mid_stride) != s->dh)
		return 0;
	return sws_scale(s->convert, (const uint8_t *const *)mid, mid_stride, 0, s->dh, out, out_stride);
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
// cbx_scaler per source and destination size in use, and frees those a
// frame did not use.
type scaler struct {
	contexts map[scaleKey]*scaleContext
}

type scaleKey struct{ sw, sh, dw, dh int }

type scaleContext struct {
	c    *C.struct_cbx_scaler
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
		c := C.cbx_scaler_new(C.int(sw), C.int(sh), C.int(r.Dx()), C.int(r.Dy()))
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
			C.cbx_scaler_free(ctx.c)
			delete(s.contexts, k)
			continue
		}
		ctx.used = false
	}
}

func (s *scaler) close() {
	for k, ctx := range s.contexts {
		C.cbx_scaler_free(ctx.c)
		delete(s.contexts, k)
	}
}
