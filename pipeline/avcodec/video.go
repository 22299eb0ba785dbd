package avcodec

/*
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
*/
import "C"

import (
	"fmt"
	"image"
	"sync"
	"unsafe"
)

// VideoDecoder decodes H.264 access units or VP8 frames into I420 pictures.
// It implements media.VideoDecoder.
type VideoDecoder struct {
	codec string // as the caller named it: "H264", "VP8"

	mu      sync.Mutex // guards dec against Close while Decode runs
	dec     *decoder
	picture *image.YCbCr // reused while the size stays the same
}

// videoDecoderNames maps the codec names the pipeline uses (as in WebRTC's
// MIME types) to libavcodec's software decoders.
var videoDecoderNames = map[string]string{
	"H264": "h264",
	"VP8":  "vp8",
}

// NewVideoDecoder opens a software decoder for codec, "H264" or "VP8".
func NewVideoDecoder(codec string) (*VideoDecoder, error) {
	name, ok := videoDecoderNames[codec]
	if !ok {
		return nil, fmt.Errorf("video decoder: unsupported codec %q (want H264 or VP8)", codec)
	}
	dec, err := openDecoder(name, func(ctx *C.AVCodecContext) {
		// One frame in, its picture out: no reordering delay, and threads
		// only across the slices of one frame (frame threads each hold
		// back a frame).
		ctx.flags |= C.AV_CODEC_FLAG_LOW_DELAY
		ctx.thread_type = C.FF_THREAD_SLICE
		ctx.thread_count = 0 // one per core
	})
	if err != nil {
		return nil, err
	}
	return &VideoDecoder{codec: codec, dec: dec}, nil
}

// Decode decodes one complete coded frame: an H.264 access unit in Annex-B
// form, or one VP8 frame. It returns the picture the frame completes, or nil
// and no error when there is none yet (or the frame is not shown). The
// picture is valid until the next Decode or Close. A corrupt frame gives an
// error, and so does one that libavcodec could only patch up (a slice
// missing, a reference lost: ErrDamaged) rather than a damaged picture;
// the decoder stays usable and recovers at the next key frame.
func (v *VideoDecoder) Decode(frame []byte) (*image.YCbCr, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.dec == nil {
		return nil, fmt.Errorf("%s decoder: %w", v.codec, ErrClosed)
	}
	if err := v.dec.send(frame); err != nil {
		return nil, fmt.Errorf("%s decoder: decode frame of %d bytes: %w", v.codec, len(frame), err)
	}
	// With low delay there is at most one picture; should there be more,
	// the last one is the newest.
	var picture *image.YCbCr
	for {
		got, err := v.dec.receive()
		if err != nil {
			return nil, fmt.Errorf("%s decoder: decode frame of %d bytes: %w", v.codec, len(frame), err)
		}
		if !got {
			return picture, nil
		}
		if flags := v.dec.frame.decode_error_flags; flags != 0 || v.dec.frame.flags&C.AV_FRAME_FLAG_CORRUPT != 0 {
			C.av_frame_unref(v.dec.frame)
			return nil, fmt.Errorf("%s decoder: frame of %d bytes (decode error flags %#x): %w", v.codec, len(frame), int(flags), ErrDamaged)
		}
		picture, err = v.copyPicture()
		C.av_frame_unref(v.dec.frame)
		if err != nil {
			return nil, err
		}
	}
}

// copyPicture copies the decoded frame's planes into v.picture.
func (v *VideoDecoder) copyPicture() (*image.YCbCr, error) {
	f := v.dec.frame
	format := int32(f.format)
	if format != C.AV_PIX_FMT_YUV420P && format != C.AV_PIX_FMT_YUVJ420P {
		name := C.av_get_pix_fmt_name(int32(f.format))
		desc := "unknown"
		if name != nil {
			desc = C.GoString(name)
		}
		return nil, fmt.Errorf("%s decoder: picture in pixel format %s, want yuv420p", v.codec, desc)
	}
	width, height := int(f.width), int(f.height)
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("%s decoder: picture of size %dx%d", v.codec, width, height)
	}
	p := v.picture
	if p == nil || p.Rect.Dx() != width || p.Rect.Dy() != height {
		p = image.NewYCbCr(image.Rect(0, 0, width, height), image.YCbCrSubsampleRatio420)
		v.picture = p
	}
	chromaWidth, chromaHeight := (width+1)/2, (height+1)/2
	copyPlane(p.Y, p.YStride, f.data[0], int(f.linesize[0]), width, height)
	copyPlane(p.Cb, p.CStride, f.data[1], int(f.linesize[1]), chromaWidth, chromaHeight)
	copyPlane(p.Cr, p.CStride, f.data[2], int(f.linesize[2]), chromaWidth, chromaHeight)
	return p, nil
}

// copyPlane copies rows of width bytes from C memory with stride srcStride
// (negative for bottom-up pictures) into dst.
func copyPlane(dst []byte, dstStride int, src *C.uint8_t, srcStride, width, rows int) {
	for row := range rows {
		line := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(src), row*srcStride)), width)
		copy(dst[row*dstStride:row*dstStride+width], line)
	}
}

// Close frees the decoder. Closing twice is safe.
func (v *VideoDecoder) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.dec != nil {
		v.dec.free()
		v.dec = nil
	}
	v.picture = nil
	return nil
}
