package pipeline

// We drive libx264 ourselves rather than through pion/mediadevices' x264
// package: that package (v0.9.4) always applies the "high" profile and drops
// the frame rate, while WebRTC receivers (and the Pi's hardware decoder)
// expect constrained baseline, and rate control needs the frame rate.

/*
#cgo pkg-config: x264
#include <stdint.h>
#include <stdlib.h>
#include <x264.h>

typedef struct {
	x264_t *h;
	x264_param_t param;
} cbx_x264;

// cbx_x264_open opens an encoder; threads 0 is x264's own choice, subme
// -1 the preset's; level is level_idc (media.H264LevelFor); crf 0 codes
// at the bitrate (ABR), else at that constant quality up to the bitrate;
// content tunes it for still pictures.
static int cbx_x264_open(cbx_x264 *e, int threads, int subme, int width, int height, int fps, int kbps, int keyint, int level, int crf, int content) {
	if (x264_param_default_preset(&e->param, "superfast", content ? "stillimage,zerolatency" : "zerolatency") < 0) return -1;
	e->param.i_log_level = X264_LOG_ERROR;
	e->param.i_threads = threads;
	if (subme >= 0) e->param.analyse.i_subpel_refine = subme;
	e->param.i_csp = X264_CSP_I420;
	e->param.i_width = width;
	e->param.i_height = height;
	e->param.i_fps_num = fps;
	e->param.i_fps_den = 1;
	e->param.b_vfr_input = 0;
	e->param.i_keyint_max = keyint;
	e->param.rc.i_rc_method = crf > 0 ? X264_RC_CRF : X264_RC_ABR;
	e->param.rc.f_rf_constant = crf;
	e->param.rc.i_bitrate = kbps;
	e->param.rc.i_vbv_max_bitrate = kbps;
	e->param.rc.i_vbv_buffer_size = kbps / 2; // half a second: low delay, some room for keyframes
	e->param.b_repeat_headers = 1;            // SPS/PPS with every keyframe, so any keyframe starts decoding
	e->param.b_annexb = 1;
	e->param.i_level_idc = level;
	if (x264_param_apply_profile(&e->param, "baseline") < 0) return -2;
	e->h = x264_encoder_open(&e->param);
	return e->h ? 0 : -3;
}

static int cbx_x264_set_bitrate(cbx_x264 *e, int kbps) {
	e->param.rc.i_bitrate = kbps;
	e->param.rc.i_vbv_max_bitrate = kbps;
	e->param.rc.i_vbv_buffer_size = kbps / 2;
	return x264_encoder_reconfig(e->h, &e->param);
}

// cbx_x264_encode codes one picture; the payload stays valid until the next call.
static uint8_t *cbx_x264_encode(cbx_x264 *e, int csp, uint8_t *p0, uint8_t *p1, uint8_t *p2,
                                int stride0, int stride1, int64_t pts, int force_idr,
                                int *size, int *keyframe) {
	x264_picture_t in, out;
	x264_nal_t *nals;
	int n;
	x264_picture_init(&in);
	in.img.i_csp = csp;
	in.img.i_plane = csp == X264_CSP_NV12 ? 2 : 3;
	in.img.plane[0] = p0;
	in.img.plane[1] = p1;
	in.img.plane[2] = p2;
	in.img.i_stride[0] = stride0;
	in.img.i_stride[1] = stride1;
	in.img.i_stride[2] = stride1;
	in.i_pts = pts;
	in.i_type = force_idr ? X264_TYPE_IDR : X264_TYPE_AUTO;
	*size = x264_encoder_encode(e->h, &nals, &n, &in, &out);
	*keyframe = out.b_keyframe;
	// x264 lays the NAL units of one picture out back to back.
	return *size > 0 ? nals[0].p_payload : NULL;
}

static void cbx_x264_close(cbx_x264 *e) {
	if (e->h) x264_encoder_close(e->h);
	e->h = NULL;
}
*/
import "C"

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// x264Tuning is the part of x264's set-up that depends on the picture:
// its size and VideoSettings.LowEffort.
type x264Tuning struct {
	threads int // 0: x264's choice, sliced threads (one slice each), 1.5 per core
	subme   int // x264's subpel refinement; -1: the superfast preset's (1)
}

// smallPicture is the most pixels x264 codes in one thread: 640x360.
// Up to that, sliced threads cost more than they give: each extra slice
// restarts prediction (more bits for the same picture) and every picture
// wakes and waits for every thread, for a millisecond of work or less.
const smallPicture = 640 * 360

// x264TuningFor is where x264's set-up is chosen from the settings, for
// the single-layer and every simulcast layer alike.
func x264TuningFor(s VideoSettings) x264Tuning {
	t := x264Tuning{subme: -1}
	// Content too: at its 5 to 15 fps a picture may take longer, and
	// one thread spends less CPU than sliced threads on the same 1080p
	// (make bench: content_encode_cpu_ratio about 0.07 less).
	if s.Width*s.Height <= smallPicture || s.Content {
		t.threads = 1
	}
	if s.LowEffort {
		// Motion search to whole pixels only, where superfast refines to
		// quarter pixels once: measured, a third less CPU at 360p and
		// 180p for about 1 dB of PSNR on detailed motion (0.8 dB at 360p,
		// 1.2 at 180p; next to nothing on noisy pictures). ultrafast
		// saves a little more and loses more (1.3 to 1.9 dB): it also
		// drops the deblocking filter and 4x4 intra prediction.
		t.subme = 0
	}
	return t
}

// H264Encoder is libx264 set up for calls: constrained baseline, no frame
// delay (zerolatency), ABR (or, Capped, constant quality) with a VBV cap,
// SPS/PPS on every keyframe.
// Pictures up to 640x360 are coded in one thread, and LowEffort searches
// motion to whole pixels only (x264TuningFor).
type H264Encoder struct {
	enc      *C.cbx_x264
	settings VideoSettings
	pts      int64

	forceKeyframe atomic.Bool
	bitrate       atomic.Int64 // wanted bits per second
	appliedKbps   int

	// rewriteIntra writes I slices with slice_type 2 (h264_slicetype.go);
	// intraBuf holds the rewritten keyframe.
	rewriteIntra bool
	intraBuf     []byte
}

// cappedQuality is x264's CRF for VideoSettings.Capped: x264's default,
// "visually good". Measured on the test pattern at 720p30 under a 1500
// kbit/s cap: 570 kbit/s and 52.6 dB PSNR at the worst picture, where ABR
// at 1500 sent 1340 kbit/s for 46.4 dB at the worst (its extra bits went to
// pictures already near lossless). A camera's noisy picture of a busy room
// wants more than the cap at this quality and is coded at the cap, as
// with ABR.
const cappedQuality = 23

// NewH264Encoder opens an x264 encoder.
func NewH264Encoder(s VideoSettings) (*H264Encoder, error) {
	if s.Width <= 0 || s.Height <= 0 || s.Width%2 != 0 || s.Height%2 != 0 {
		return nil, fmt.Errorf("x264: picture size %dx%d must be positive and even", s.Width, s.Height)
	}
	if s.FPS <= 0 || s.BitsPerSecond < 1000 || s.KeyframeInterval <= 0 {
		return nil, fmt.Errorf("x264: fps %d, bitrate %d and keyframe interval %d must be positive",
			s.FPS, s.BitsPerSecond, s.KeyframeInterval)
	}
	kbps := s.BitsPerSecond / 1000
	level, ok := media.H264LevelFor(s.Width, s.Height, s.FPS, kbps)
	if !ok {
		return nil, fmt.Errorf("x264: %dx%d at %d fps and %d kbit/s is beyond H.264 level %v", s.Width, s.Height, s.FPS, kbps, media.MaxH264Level)
	}
	crf := 0
	if s.Capped {
		crf = cappedQuality
	}
	enc := (*C.cbx_x264)(C.calloc(1, C.size_t(unsafe.Sizeof(C.cbx_x264{}))))
	tuning := x264TuningFor(s)
	if rc := C.cbx_x264_open(enc, C.int(tuning.threads), C.int(tuning.subme), C.int(s.Width), C.int(s.Height), C.int(s.FPS), C.int(kbps), C.int(s.KeyframeInterval), C.int(level), C.int(crf), boolInt(s.Content)); rc != 0 {
		C.cbx_x264_close(enc)
		C.free(unsafe.Pointer(enc))
		return nil, fmt.Errorf("x264: open %dx%d@%d: error %d", s.Width, s.Height, s.FPS, rc)
	}
	e := &H264Encoder{enc: enc, settings: s, appliedKbps: kbps, rewriteIntra: true}
	e.bitrate.Store(int64(s.BitsPerSecond))
	return e, nil
}

func (e *H264Encoder) Codec() media.Codec { return media.CodecH264 }

func (e *H264Encoder) Accepts(p camera.PixelFormat) bool {
	return p == camera.PixelFormatI420 || p == camera.PixelFormatNV12
}

func (e *H264Encoder) ForceKeyFrame() { e.forceKeyframe.Store(true) }

func (e *H264Encoder) SetBitrate(bitsPerSecond int) { e.bitrate.Store(int64(bitsPerSecond)) }

// Encode codes one I420 or NV12 picture of the size the encoder was opened with.
func (e *H264Encoder) Encode(f camera.Frame) (media.EncodedFrame, error) {
	if e.enc == nil {
		return media.EncodedFrame{}, fmt.Errorf("x264: encoder is closed")
	}
	planes, err := yuvPlanes(f, e.settings.Width, e.settings.Height)
	if err != nil {
		return media.EncodedFrame{}, fmt.Errorf("x264: %w", err)
	}
	if kbps := int(e.bitrate.Load() / 1000); kbps != e.appliedKbps && kbps > 0 {
		if rc := C.cbx_x264_set_bitrate(e.enc, C.int(kbps)); rc < 0 {
			return media.EncodedFrame{}, fmt.Errorf("x264: set bitrate %d kbit/s: error %d", kbps, rc)
		}
		e.appliedKbps = kbps
	}
	csp := C.int(C.X264_CSP_I420)
	if f.Format.Pixel == camera.PixelFormatNV12 {
		csp = C.X264_CSP_NV12
	}
	var force C.int
	if e.forceKeyframe.Swap(false) {
		force = 1
	}
	var size, keyframe C.int
	p2 := planes.p2
	if p2 == nil {
		p2 = planes.p1 // unused for NV12, but C wants a pointer
	}
	payload := C.cbx_x264_encode(e.enc, csp,
		(*C.uint8_t)(unsafe.Pointer(&planes.p0[0])),
		(*C.uint8_t)(unsafe.Pointer(&planes.p1[0])),
		(*C.uint8_t)(unsafe.Pointer(&p2[0])),
		C.int(planes.stride0), C.int(planes.stride1), C.int64_t(e.pts), force, &size, &keyframe)
	e.pts++
	if size < 0 {
		return media.EncodedFrame{}, fmt.Errorf("x264: encode frame %d: error %d", f.Seq, size)
	}
	out := media.EncodedFrame{
		Keyframe: keyframe != 0,
		Captured: f.Time,
		Duration: time.Second / time.Duration(e.settings.FPS),
	}
	if size > 0 {
		out.Data = unsafe.Slice((*byte)(unsafe.Pointer(payload)), int(size))
	}
	if out.Keyframe && e.rewriteIntra {
		if rewritten, ok := shortenIntraSliceType(out.Data, e.intraBuf); ok { // h264_slicetype.go
			out.Data, e.intraBuf = rewritten, rewritten[:0]
		}
	}
	return out, nil
}

// Close frees the encoder; it is safe to call twice.
func (e *H264Encoder) Close() error {
	if e.enc != nil {
		C.cbx_x264_close(e.enc)
		C.free(unsafe.Pointer(e.enc))
		e.enc = nil
	}
	return nil
}
