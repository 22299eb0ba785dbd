package pipeline

// Raw camera formats are converted to I420 with libswscale: its SIMD
// converters are four times faster than a careful Go loop, and at 720p30
// this conversion is most of what the send path adds to the encoder's cost.
// Simulcast's smaller layers are scaled by it too (swsScaler) where the
// step is not exactly 2:1 (halve.go does those).

/*
#cgo pkg-config: libswscale libavutil
#include <stdint.h>
#include <libswscale/swscale.h>
#include <libavutil/pixfmt.h>

static struct SwsContext *cbx_sws_open(int w, int h, int src_format) {
	return sws_getContext(w, h, src_format, w, h, AV_PIX_FMT_YUV420P, SWS_POINT, NULL, NULL, NULL);
}

// cbx_sws_open_scale resizes I420 pictures. Bilinear is a fraction of the
// cost of the default bicubic at the 2:1 steps simulcast takes, and keeps
// the test pattern's stamp cells readable.
static struct SwsContext *cbx_sws_open_scale(int w, int h, int out_w, int out_h) {
	return sws_getContext(w, h, AV_PIX_FMT_YUV420P, out_w, out_h, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
}

static int cbx_sws_scale_i420(struct SwsContext *c, uint8_t *y, uint8_t *u, uint8_t *v, int stride, int cstride, int h,
                              uint8_t *oy, uint8_t *ou, uint8_t *ov, int out_w) {
	const uint8_t *src[4] = {y, u, v, NULL};
	int src_stride[4] = {stride, cstride, cstride, 0};
	uint8_t *dst[4] = {oy, ou, ov, NULL};
	int dst_stride[4] = {out_w, out_w / 2, out_w / 2, 0};
	return sws_scale(c, src, src_stride, 0, h, dst, dst_stride);
}

static int cbx_sws_to_i420(struct SwsContext *c, uint8_t *p0, int stride0, uint8_t *p1, int stride1,
                           uint8_t *y, uint8_t *u, uint8_t *v, int w, int h) {
	const uint8_t *src[4] = {p0, p1, NULL, NULL};
	int src_stride[4] = {stride0, stride1, 0, 0};
	uint8_t *dst[4] = {y, u, v, NULL};
	int dst_stride[4] = {w, w / 2, w / 2, 0};
	return sws_scale(c, src, src_stride, 0, h, dst, dst_stride);
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
)

// swsFormats are the camera formats libswscale converts for us.
var swsFormats = map[camera.PixelFormat]C.int{
	camera.PixelFormatYUYV: C.AV_PIX_FMT_YUYV422,
	camera.PixelFormatNV12: C.AV_PIX_FMT_NV12,
}

// swsConverter converts one format and size; it is remade when they change.
type swsConverter struct {
	ctx    *C.struct_SwsContext
	format camera.Format
}

func (s *swsConverter) toI420(f camera.Frame, y, u, v []byte) error {
	w, h := f.Format.Width, f.Format.Height
	if s.ctx == nil || s.format.Pixel != f.Format.Pixel || s.format.Width != w || s.format.Height != h {
		s.close()
		s.ctx = C.cbx_sws_open(C.int(w), C.int(h), swsFormats[f.Format.Pixel])
		if s.ctx == nil {
			return fmt.Errorf("swscale cannot convert %s %dx%d to I420", f.Format.Pixel, w, h)
		}
		s.format = f.Format
	}
	var p0, p1 []byte
	var stride0, stride1 int
	switch f.Format.Pixel {
	case camera.PixelFormatYUYV:
		stride0 = f.Format.Stride
		if stride0 == 0 {
			stride0 = 2 * w
		}
		if len(f.Data) < stride0*(h-1)+2*w {
			return fmt.Errorf("YUYV frame has %d bytes, want %d", len(f.Data), stride0*h)
		}
		p0, p1 = f.Data, f.Data // swscale reads no second plane; C wants a pointer
	case camera.PixelFormatNV12:
		p, err := yuvPlanes(f, w, h)
		if err != nil {
			return err
		}
		p0, p1, stride0, stride1 = p.p0, p.p1, p.stride0, p.stride1
	}
	rows := C.cbx_sws_to_i420(s.ctx,
		(*C.uint8_t)(unsafe.Pointer(&p0[0])), C.int(stride0),
		(*C.uint8_t)(unsafe.Pointer(&p1[0])), C.int(stride1),
		(*C.uint8_t)(unsafe.Pointer(&y[0])), (*C.uint8_t)(unsafe.Pointer(&u[0])), (*C.uint8_t)(unsafe.Pointer(&v[0])),
		C.int(w), C.int(h))
	if int(rows) != h {
		return fmt.Errorf("swscale converted %d of %d lines of %s", rows, h, f.Format.Pixel)
	}
	return nil
}

func (s *swsConverter) close() {
	if s.ctx != nil {
		C.sws_freeContext(s.ctx)
		s.ctx = nil
	}
}

// swsScaler resizes I420 pictures of one size to another; it is remade when
// either changes.
type swsScaler struct {
	ctx              *C.struct_SwsContext
	w, h, outW, outH int
}

func (s *swsScaler) scale(src planes, w, h int, y, u, v []byte, outW, outH int) error {
	if s.ctx == nil || s.w != w || s.h != h || s.outW != outW || s.outH != outH {
		s.close()
		s.ctx = C.cbx_sws_open_scale(C.int(w), C.int(h), C.int(outW), C.int(outH))
		if s.ctx == nil {
			return fmt.Errorf("swscale cannot scale %dx%d to %dx%d", w, h, outW, outH)
		}
		s.w, s.h, s.outW, s.outH = w, h, outW, outH
	}
	rows := C.cbx_sws_scale_i420(s.ctx,
		(*C.uint8_t)(unsafe.Pointer(&src.p0[0])), (*C.uint8_t)(unsafe.Pointer(&src.p1[0])), (*C.uint8_t)(unsafe.Pointer(&src.p2[0])),
		C.int(src.stride0), C.int(src.stride1), C.int(h),
		(*C.uint8_t)(unsafe.Pointer(&y[0])), (*C.uint8_t)(unsafe.Pointer(&u[0])), (*C.uint8_t)(unsafe.Pointer(&v[0])),
		C.int(outW))
	if int(rows) != outH {
		return fmt.Errorf("swscale made %d of %d lines scaling %dx%d to %dx%d", rows, outH, w, h, outW, outH)
	}
	return nil
}

func (s *swsScaler) close() {
	if s.ctx != nil {
		C.sws_freeContext(s.ctx)
		s.ctx = nil
	}
}
