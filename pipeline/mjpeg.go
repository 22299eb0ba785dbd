package pipeline

// MJPEG cameras (most USB webcams at 720p30 and 1080p30) send one JPEG per
// frame. libjpeg-turbo's TurboJPEG API decodes them to YUV planes, without
// the colour conversion to RGB, straight into the I420 buffer the encoder
// reads: a 4:2:0 JPEG lands there as it is; the usual 4:2:2 one has its
// luma decoded in place and its chroma averaged two rows into one.
// image/jpeg took about 10 ms per 720p frame here, and is no longer used.

/*
#cgo pkg-config: libturbojpeg
#include <string.h>
#include <turbojpeg.h>

// cbx_jpeg_header reads a JPEG's size, chroma subsampling and colour space.
static int cbx_jpeg_header(tjhandle h, const unsigned char *buf, unsigned long size,
                           int *w, int *height, int *samp, int *colorspace) {
	return tjDecompressHeader3(h, buf, size, w, height, samp, colorspace);
}

// cbx_jpeg_chroma_size is the size of one chroma plane of a w x h JPEG
// of subsampling samp, as it is decoded: 0 for grey (none) or an unknown
// subsampling.
static long cbx_jpeg_chroma_size(int w, int h, int samp) {
	if (samp == TJSAMP_GRAY) return 0;
	int cw = tjPlaneWidth(1, w, samp), ch = tjPlaneHeight(1, h, samp);
	return cw > 0 && ch > 0 ? (long)cw * ch : 0;
}

// cbx_chroma_to_420 makes a w/2 x h/2 chroma plane from one of sw x sh:
// each output sample is the average of the block it covers (two rows for
// 4:2:2, 2x2 for 4:4:4), or the nearest sample where it covers less than
// one (4:1:1's columns).
static void cbx_chroma_to_420(const unsigned char *src, int sw, int sh, unsigned char *dst, int dw, int dh) {
	if (sw == dw && sh == 2 * dh) { // 4:2:2, the common case
		for (int r = 0; r < dh; r++) {
			const unsigned char *a = src + (long)2 * r * sw, *b = a + sw;
			unsigned char *d = dst + (long)r * dw;
			for (int c = 0; c < dw; c++) d[c] = (unsigned char)((a[c] + b[c] + 1) >> 1);
		}
		return;
	}
	for (int r = 0; r < dh; r++) {
		int r0 = (int)((long)r * sh / dh), r1 = (int)((long)(r + 1) * sh / dh);
		if (r1 <= r0) r1 = r0 + 1;
		for (int c = 0; c < dw; c++) {
			int c0 = (int)((long)c * sw / dw), c1 = (int)((long)(c + 1) * sw / dw);
			if (c1 <= c0) c1 = c0 + 1;
			unsigned sum = 0;
			for (int y = r0; y < r1; y++)
				for (int x = c0; x < c1; x++) sum += src[(long)y * sw + x];
			unsigned n = (unsigned)((r1 - r0) * (c1 - c0));
			dst[(long)r * dw + c] = (unsigned char)((sum + n / 2) / n);
		}
	}
}

// cbx_jpeg_to_i420 decodes a w x h JPEG of subsampling samp into I420
// planes: y (stride w), u and v (stride w/2). Chroma that is not 4:2:0 is
// decoded into scratch (two chroma planes, cbx_jpeg_chroma_size each) and
// brought to 4:2:0 from there. A warning (a truncated frame, a bad marker)
// stops the decoding: the frame is broken, not shown half grey.
static int cbx_jpeg_to_i420(tjhandle h, const unsigned char *buf, unsigned long size, int w, int height, int samp,
                            unsigned char *y, unsigned char *u, unsigned char *v, unsigned char *scratch) {
	const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
	int cw = w / 2, ch = height / 2;
	if (samp == TJSAMP_420) {
		unsigned char *planes[3] = {y, u, v};
		int strides[3] = {w, cw, cw};
		return tjDecompressToYUVPlanes(h, buf, size, planes, w, strides, height, flags);
	}
	if (samp == TJSAMP_GRAY) {
		unsigned char *planes[1] = {y};
		int strides[1] = {w};
		if (tjDecompressToYUVPlanes(h, buf, size, planes, w, strides, height, flags) != 0) return -1;
		memset(u, 128, (size_t)cw * ch);
		memset(v, 128, (size_t)cw * ch);
		return 0;
	}
	int sw = tjPlaneWidth(1, w, samp), sh = tjPlaneHeight(1, height, samp);
	unsigned char *su = scratch, *sv = scratch + (long)sw * sh;
	unsigned char *planes[3] = {y, su, sv};
	int strides[3] = {w, sw, sw};
	if (tjDecompressToYUVPlanes(h, buf, size, planes, w, strides, height, flags) != 0) return -1;
	cbx_chroma_to_420(su, sw, sh, u, cw, ch);
	cbx_chroma_to_420(sv, sw, sh, v, cw, ch);
	return 0;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
)

// ErrBrokenFrame is a captured frame that cannot be decoded (a truncated
// or garbled JPEG, a picture of another size than the camera's): webcams
// send some. The send path drops it, counts it and goes on.
var ErrBrokenFrame = errors.New("broken frame")

// mjpegDecoder decodes JPEG frames into I420. The zero mjpegDecoder is
// ready to use; close frees it.
type mjpegDecoder struct {
	h       C.tjhandle
	scratch []byte // chroma as decoded, when it is not 4:2:0
}

// toI420 decodes f, a JPEG of f.Format's size, into the I420 planes y, u
// and v. A frame that is not such a JPEG is an ErrBrokenFrame.
func (d *mjpegDecoder) toI420(f camera.Frame, y, u, v []byte) error {
	if d.h == nil {
		if d.h = C.tjInitDecompress(); d.h == nil {
			return fmt.Errorf("MJPEG: TurboJPEG: %s", C.GoString(C.tjGetErrorStr2(nil)))
		}
	}
	if len(f.Data) == 0 {
		return fmt.Errorf("MJPEG: %w: empty", ErrBrokenFrame)
	}
	src := (*C.uchar)(unsafe.Pointer(&f.Data[0]))
	size := C.ulong(len(f.Data))
	var w, h, samp, colorspace C.int
	if C.cbx_jpeg_header(d.h, src, size, &w, &h, &samp, &colorspace) != 0 {
		return d.broken()
	}
	if int(w) != f.Format.Width || int(h) != f.Format.Height {
		return fmt.Errorf("MJPEG: %w: the picture is %dx%d, the camera's %dx%d",
			ErrBrokenFrame, w, h, f.Format.Width, f.Format.Height)
	}
	if colorspace != C.TJCS_YCbCr && colorspace != C.TJCS_GRAY {
		return fmt.Errorf("MJPEG: %w: colour space %d is not YCbCr", ErrBrokenFrame, colorspace)
	}
	chroma := int(C.cbx_jpeg_chroma_size(w, h, samp))
	if samp != C.TJSAMP_GRAY && chroma == 0 {
		return fmt.Errorf("MJPEG: %w: unknown chroma subsampling %d", ErrBrokenFrame, samp)
	}
	var scratch *C.uchar
	if samp != C.TJSAMP_420 && chroma > 0 {
		if cap(d.scratch) < 2*chroma {
			d.scratch = make([]byte, 2*chroma)
		}
		scratch = (*C.uchar)(unsafe.Pointer(&d.scratch[0]))
	}
	if C.cbx_jpeg_to_i420(d.h, src, size, w, h, samp,
		(*C.uchar)(unsafe.Pointer(&y[0])), (*C.uchar)(unsafe.Pointer(&u[0])), (*C.uchar)(unsafe.Pointer(&v[0])),
		scratch) != 0 {
		return d.broken()
	}
	return nil
}

// broken is the decoder's last error as an ErrBrokenFrame. It also drops
// the TurboJPEG instance: one stopped in the middle of a frame takes the
// next frame's start for a second one ("two SOI markers") and would call
// every frame after it broken.
func (d *mjpegDecoder) broken() error {
	err := fmt.Errorf("MJPEG: %w: %s", ErrBrokenFrame, C.GoString(C.tjGetErrorStr2(d.h)))
	d.close()
	return err
}

func (d *mjpegDecoder) close() {
	if d.h != nil {
		C.tjDestroy(d.h)
		d.h = nil
	}
}

// mjpegSource decodes an MJPEG camera's frames into I420 as the send path
// reads them, once for every encoder and layer, and drops those that do
// not decode (ErrBrokenFrame), counting them in broken: webcams send a
// truncated frame now and then, and one must neither end the call nor be
// shown. Close frees the decoder; the camera stays its opener's.
type mjpegSource struct {
	camera.Source
	conv   Converter
	broken *atomic.Int64
	log    *slog.Logger
	logged time.Time // when a broken frame was last logged
	since  int64     // broken frames since then
}

// brokenFrameLogEvery is the least time between two log lines about
// broken frames: a camera that sends nothing else would fill the log.
const brokenFrameLogEvery = 10 * time.Second

func (s *mjpegSource) Format() camera.Format {
	f := s.Source.Format()
	f.Pixel, f.Stride = camera.PixelFormatI420, 0
	return f
}

// ReadFrame returns the camera's next frame that decodes, as I420; its
// Data is valid until the next call.
func (s *mjpegSource) ReadFrame(ctx context.Context) (camera.Frame, error) {
	for {
		f, err := s.Source.ReadFrame(ctx)
		if err != nil {
			return camera.Frame{}, err
		}
		out, err := s.conv.ToI420(f)
		if errors.Is(err, ErrBrokenFrame) {
			s.dropped(err)
			continue
		}
		return out, err
	}
}

func (s *mjpegSource) dropped(err error) {
	s.broken.Add(1)
	s.since++
	if now := time.Now(); now.Sub(s.logged) >= brokenFrameLogEvery {
		s.log.Warn("camera frames dropped: they do not decode", "last", err, "since_last_said", s.since, "total", s.broken.Load())
		s.logged, s.since = now, 0
	}
}

func (s *mjpegSource) Close() error {
	s.conv.Close()
	return nil
}
