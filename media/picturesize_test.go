package media

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestPictureSize reads the size from headers real encoders wrote: SPSes
// of FFmpeg's libx264 with scaling matrices (cqm=jvt), an interlaced one
// (field pairs: the height counts twice), 4:4:4 (cropping in luma
// samples), each with its picture cropped from whole macroblocks; a VP8
// keyframe's header; and no size from frames that carry none. (x264's
// baseline SPS and libvpx's headers in the pipeline's
// TestEncodedFramesCarryTheirNumbers.)
func TestPictureSize(t *testing.T) {
	annexB := func(hexNALs ...string) []byte {
		var au []byte
		for _, h := range hexNALs {
			nal, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			au = append(append(au, 0, 0, 0, 1), nal...)
		}
		return au
	}
	const idr = "65888400ffee" // an IDR slice's first bytes
	for _, tc := range []struct {
		name   string
		codec  Codec
		frame  []byte
		w, h   int
		wantOK bool
	}{
		{"H.264 high 1080p, scaling matrices", CodecH264,
			annexB("67640028acd940780227e5c044000003000400000300c83c60c658", "68ebe3cb22c0", idr), 1920, 1080, true},
		{"H.264 high 720p interlaced", CodecH264,
			annexB("67640020acd940500bbf2e0220000003002000000643e2c5b2c0", idr), 1280, 720, true},
		{"H.264 high 4:4:4 360p, scaling matrices", CodecH264,
			annexB("67f4001e919b281405ff1380880000030008000003019078b16cb0", idr), 640, 360, true},
		{"H.264 high 636x358, cropped right and below", CodecH264,
			annexB("6764001eacd940a02fee6c0440000003004000000c83c58b6580", idr), 636, 358, true},
		{"H.264 SPS with a scaling list", CodecH264, append([]byte{0, 0, 0, 1}, spsWithScalingList(t)...), 636, 360, true},
		{"H.264 without an SPS", CodecH264, annexB(idr), 0, 0, false},
		{"H.264 SPS cut short", CodecH264, annexB("67640028acd9"), 0, 0, false},
		{"H.264 SPS of zeros", CodecH264, annexB("6700000000000000000000"), 0, 0, false},
		{"VP8 keyframe 636x358", CodecVP8, []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x7c, 0x02, 0x66, 0x01, 0xff}, 636, 358, true},
		{"VP8 keyframe with a scale", CodecVP8, []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x7c, 0x42, 0x66, 0xc1}, 636, 358, true},
		{"VP8 interframe", CodecVP8, []byte{0x51, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x7c, 0x02, 0x66, 0x01}, 0, 0, false},
		{"VP8 without its start code", CodecVP8, []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2b, 0x7c, 0x02, 0x66, 0x01}, 0, 0, false},
		{"VP8 cut short", CodecVP8, []byte{0x50, 0x42, 0x00, 0x9d}, 0, 0, false},
		{"Opus", CodecOpus, []byte{1, 2, 3}, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h, ok := PictureSize(tc.codec, tc.frame)
			if ok != tc.wantOK || w != tc.w || h != tc.h {
				t.Errorf("%dx%d (%v), want %dx%d (%v)", w, h, ok, tc.w, tc.h, tc.wantOK)
			}
		})
	}
}

// spsWithScalingList is an SPS (NAL header on) of a 636x360 picture
// whose first 4x4 scaling list is sent (libx264 sends its matrices in the
// PPS): H.264 7.3.2.1.1 written out field by field.
func spsWithScalingList(t *testing.T) []byte {
	t.Helper()
	ue := func(v int) string {
		b := strconv.FormatInt(int64(v+1), 2)
		return strings.Repeat("0", len(b)-1) + b
	}
	se := func(v int) string {
		if v > 0 {
			return ue(2*v - 1)
		}
		return ue(-2 * v)
	}
	bits := "01100100" + "00000000" + "00011110" + // profile_idc 100, constraints, level 3.0
		ue(0) + ue(1) + ue(0) + ue(0) + "0" + // sps id, 4:2:0, 8 bits, 8 bits, no bypass
		"1" + "1" // a scaling matrix, and its first list
	for range 16 {
		bits += se(3) // each entry 3 above the last
	}
	bits += "0000000" + // the other lists are not sent
		ue(0) + ue(0) + ue(0) + // log2_max_frame_num, poc type 0, its lsb
		ue(1) + "0" + ue(39) + ue(22) + "1" + "1" + // one reference, 40x23 macroblocks, frames only, direct 8x8
		"1" + ue(0) + ue(2) + ue(0) + ue(4) + // cropped 4 pixels right, 8 below
		"0" + "1" // no VUI, the stop bit
	for len(bits)%8 != 0 {
		bits += "0"
	}
	out := []byte{0x67}
	for i := 0; i < len(bits); i += 8 {
		b, err := strconv.ParseUint(bits[i:i+8], 2, 8)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, byte(b))
	}
	return out
}

// TestPictureSizeOfGarbage: random bytes and every cut of a real SPS
// give no size or a plausible one, never a crash.
func TestPictureSizeOfGarbage(t *testing.T) {
	sps, _ := hex.DecodeString("67640028acd940780227e5c044000003000400000300c83c60c658")
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(c Codec, frame []byte) {
		t.Helper()
		if w, h, ok := PictureSize(c, frame); ok && (w <= 0 || h <= 0 || w > maxPictureSide || h > maxPictureSide) {
			t.Fatalf("%s % x: %dx%d", c, frame, w, h)
		}
	}
	for n := range len(sps) {
		check(CodecH264, append([]byte{0, 0, 1}, sps[:n]...))
	}
	for range 20000 {
		frame := make([]byte, rng.IntN(40))
		for i := range frame {
			frame[i] = byte(rng.Uint32())
		}
		if len(frame) > 4 {
			copy(frame, []byte{0, 0, 1, 0x67}) // an SPS of random content
		}
		for _, c := range []Codec{CodecH264, CodecVP8, CodecFWHT} {
			check(c, frame)
		}
	}
}
