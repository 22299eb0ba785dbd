// Package jpegenc codes I420 pictures as JPEGs with libjpeg-turbo, the way
// a webcam's MJPEG mode does, for the tests and benchmarks of the MJPEG
// path: real frames from a real encoder. callboxd itself never encodes JPEG.
package jpegenc

/*
#cgo pkg-config: libturbojpeg
#include <turbojpeg.h>

static int cbx_jpeg_encode(unsigned char *y, unsigned char *u, unsigned char *v, int w, int ystride, int cstride, int h,
                           int samp, int quality, unsigned char **out, unsigned long *size) {
	tjhandle t = tjInitCompress();
	if (!t) return -1;
	const unsigned char *planes[3] = {y, u, v};
	int strides[3] = {ystride, cstride, cstride};
	int rc = tjCompressFromYUVPlanes(t, planes, w, strides, h, samp, out, size, quality, 0);
	tjDestroy(t);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// Subsampling is how a JPEG's chroma is sampled.
type Subsampling int

// The subsamplings cameras send: most UVC webcams 4:2:2, some 4:2:0.
const (
	Subsampling422 Subsampling = C.TJSAMP_422
	Subsampling420 Subsampling = C.TJSAMP_420
	Subsampling444 Subsampling = C.TJSAMP_444
)

// WebcamQuality is the JPEG quality of a typical USB webcam's MJPEG: about
// what their DQT tables correspond to (80 to 90).
const WebcamQuality = 85

// Encode codes f, an I420 frame, as a JPEG of the given chroma subsampling
// and quality (1 to 100). Chroma finer than 4:2:0 repeats the I420 samples.
func Encode(f camera.Frame, samp Subsampling, quality int) ([]byte, error) {
	img, err := media.I420Planes(f)
	if err != nil {
		return nil, err
	}
	w, h := f.Format.Width, f.Format.Height
	u, v, cstride := img.Cb, img.Cr, img.CStride
	switch samp {
	case Subsampling420:
	case Subsampling422, Subsampling444:
		cw, ch := w/2, h
		if samp == Subsampling444 {
			cw = w
		}
		u, v = make([]byte, cw*ch), make([]byte, cw*ch)
		for row := range ch {
			for col := range cw {
				src := (row/2)*img.CStride + col*(w/2)/cw
				u[row*cw+col], v[row*cw+col] = img.Cb[src], img.Cr[src]
			}
		}
		cstride = cw
	default:
		return nil, fmt.Errorf("jpegenc: subsampling %d is not 4:2:2, 4:2:0 or 4:4:4", samp)
	}
	var out *C.uchar
	var size C.ulong
	if C.cbx_jpeg_encode((*C.uchar)(unsafe.Pointer(&img.Y[0])), (*C.uchar)(unsafe.Pointer(&u[0])), (*C.uchar)(unsafe.Pointer(&v[0])),
		C.int(w), C.int(img.YStride), C.int(cstride), C.int(h), C.int(samp), C.int(quality), &out, &size) != 0 {
		return nil, fmt.Errorf("jpegenc: %s", C.GoString(C.tjGetErrorStr2(nil)))
	}
	defer C.tjFree(out)
	return C.GoBytes(unsafe.Pointer(out), C.int(size)), nil
}
