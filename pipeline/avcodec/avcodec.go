// Package avcodec decodes remote media in software through FFmpeg's
// libavcodec (cgo): H.264 and VP8 frames into I420 pictures. (Opus is
// pipeline's, through libopus: libavcodec's Opus decoder has no packet
// loss concealment or FEC.) Built through make, it links the static FFmpeg
// of scripts/ffmpeg-lean.sh, which has little more than these decoders; a
// plain go build links Debian's shared one, which decodes the same.
//
// It owns the libavcodec decoder contexts and the copies of their output in Go
// memory. It must not open devices, choose between software and hardware
// decoding (the pipeline does that), or keep state beyond one decoder; a
// decoder is used by one goroutine at a time. Corrupt input gives an error and
// never a crash.
package avcodec

/*
#cgo pkg-config: libavcodec libavutil
#include <errno.h>
#include <stdlib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

// Function-like macros are out of cgo's reach.
enum {
	callbox_averror_eagain = AVERROR(EAGAIN),
	callbox_averror_eof = AVERROR_EOF,
};
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// ErrClosed is returned by Decode after Close.
var ErrClosed = errors.New("decoder closed")

// ErrDamaged is the error of a frame that libavcodec decoded only by
// patching up what was missing or broken: its picture is not shown.
var ErrDamaged = errors.New("damaged picture")

// errEmptyInput: to libavcodec a packet without data means "end of stream",
// after which a decoder outputs nothing more, so it never gets one.
var errEmptyInput = errors.New("empty input")

// avError is a negative libavcodec return code.
type avError C.int

func (e avError) Error() string {
	var buf [C.AV_ERROR_MAX_STRING_SIZE]C.char
	if C.av_strerror(C.int(e), &buf[0], C.size_t(len(buf))) < 0 {
		return fmt.Sprintf("libavcodec error %d", int(e))
	}
	return C.GoString(&buf[0])
}

var quietLogsOnce sync.Once

// quietLogs stops libavcodec writing to stderr for every corrupt packet the
// network brings; the decoders return those errors to the caller instead.
func quietLogs() {
	quietLogsOnce.Do(func() { C.av_log_set_level(C.AV_LOG_FATAL) })
}

// decoder is one open libavcodec decoder with its reusable packet and frame.
type decoder struct {
	name  string // libavcodec's decoder name, for errors: "h264", "vp8", "opus"
	ctx   *C.AVCodecContext
	pkt   *C.AVPacket
	frame *C.AVFrame
}

// openDecoder opens libavcodec's decoder called name; configure sets fields
// of the context before it is opened.
func openDecoder(name string, configure func(ctx *C.AVCodecContext)) (*decoder, error) {
	quietLogs()
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	codec := C.avcodec_find_decoder_by_name(cname)
	if codec == nil {
		return nil, fmt.Errorf("%s decoder: not in this libavcodec", name)
	}
	d := &decoder{name: name}
	d.ctx = C.avcodec_alloc_context3(codec)
	d.pkt = C.av_packet_alloc()
	d.frame = C.av_frame_alloc()
	if d.ctx == nil || d.pkt == nil || d.frame == nil {
		d.free()
		return nil, fmt.Errorf("%s decoder: allocate: out of memory", name)
	}
	configure(d.ctx)
	if ret := C.avcodec_open2(d.ctx, codec, nil); ret < 0 {
		d.free()
		return nil, fmt.Errorf("%s decoder: open: %w", name, avError(ret))
	}
	return d, nil
}

// send gives one coded frame or packet to the decoder. Output it completes
// must then be taken with receive until receive reports none.
func (d *decoder) send(data []byte) error {
	if len(data) == 0 {
		return errEmptyInput
	}
	if len(data) > math.MaxInt32-C.AV_INPUT_BUFFER_PADDING_SIZE {
		return fmt.Errorf("input of %d bytes is too large", len(data))
	}
	// av_new_packet zeroes the padding that libavcodec's bitstream readers
	// may read past the end.
	if ret := C.av_new_packet(d.pkt, C.int(len(data))); ret < 0 {
		return avError(ret)
	}
	defer C.av_packet_unref(d.pkt)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(d.pkt.data)), len(data)), data)
	ret := C.avcodec_send_packet(d.ctx, d.pkt)
	if ret == C.callbox_averror_eagain {
		// Output is still waiting, which cannot happen while every send is
		// followed by receive until none is left; drop it to keep going.
		for {
			got, err := d.receive()
			if err != nil {
				return err
			}
			if !got {
				break
			}
		}
		ret = C.avcodec_send_packet(d.ctx, d.pkt)
	}
	if ret < 0 {
		return avError(ret)
	}
	return nil
}

// receive takes the next decoded frame into d.frame and reports whether there
// was one.
func (d *decoder) receive() (bool, error) {
	ret := C.avcodec_receive_frame(d.ctx, d.frame)
	switch ret {
	case 0:
		return true, nil
	case C.callbox_averror_eagain:
		return false, nil
	case C.callbox_averror_eof:
		// Only an empty packet ends the stream, and send never passes one;
		// reset so that the next frame decodes anyway.
		C.avcodec_flush_buffers(d.ctx)
		return false, nil
	default:
		return false, avError(ret)
	}
}

// free releases everything the decoder holds; it is safe on a partly opened
// or already freed decoder.
func (d *decoder) free() {
	if d.ctx != nil {
		C.avcodec_free_context(&d.ctx)
	}
	if d.pkt != nil {
		C.av_packet_free(&d.pkt)
	}
	if d.frame != nil {
		C.av_frame_free(&d.frame)
	}
}
