package pipeline_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// TestKeyframesKeepTheirPPSIdInTheClear: in every keyframe the box sends,
// the first slice's pic_parameter_set_id lies within the NAL header and
// the byte after it, the bytes LiveKit's end-to-end encryption leaves in
// clear (Chromium reads it before decrypting and drops keyframes where it
// reads ciphertext). And the rewritten keyframes decode to exactly the
// pictures x264's own do, at 320x240 (one slice) and 1280x720 (a slice per
// thread).
func TestKeyframesKeepTheirPPSIdInTheClear(t *testing.T) {
	for _, size := range []struct{ w, h int }{{320, 240}, {1280, 720}} {
		s := testSettings(size.w, size.h)
		s.KeyframeInterval = 5
		// The box's encoder, for what it sends.
		box, err := pipeline.NewH264Encoder(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { box.Close() })
		// x264 as it is, for the same stream with and without the rewrite:
		// two x264s with threads do not write the same bytes.
		x264s, err := pipeline.NewH264Encoder(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x264s.Close() })
		pipeline.KeepIntraSliceType(x264s)
		decRewritten, decOriginal := newDecoder(t), newDecoder(t)
		src := newPattern(t, size.w, size.h)
		keyframes := 0
		for i := range 12 {
			f, err := src.ReadFrame(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			sent, err := box.Encode(f)
			if err != nil {
				t.Fatal(err)
			}
			if sent.Keyframe {
				if clear, ok := ppsIDInClear(sent.Data); !ok || !clear {
					t.Errorf("%dx%d frame %d: the first slice's PPS id is not within its first two bytes (parsed %v)", size.w, size.h, i, ok)
				}
			}
			original, err := x264s.Encode(f)
			if err != nil {
				t.Fatal(err)
			}
			rewritten := original.Data
			if original.Keyframe {
				keyframes++
				if clear, _ := ppsIDInClear(original.Data); clear {
					t.Errorf("%dx%d frame %d: x264's own keyframe has the PPS id in the clear already: the rewrite is not needed, or this test reads it wrong", size.w, size.h, i)
				}
				rewritten = pipeline.ShortenIntraSliceType(bytes.Clone(original.Data))
			}
			picA, errA := decRewritten.Decode(rewritten)
			picB, errB := decOriginal.Decode(original.Data)
			if errA != nil || errB != nil || picA == nil || picB == nil {
				t.Fatalf("%dx%d frame %d: decode: %v, %v", size.w, size.h, i, errA, errB)
			}
			if !bytes.Equal(picA.Y, picB.Y) || !bytes.Equal(picA.Cb, picB.Cb) || !bytes.Equal(picA.Cr, picB.Cr) {
				t.Fatalf("%dx%d frame %d (keyframe %v): the rewritten stream decodes to another picture than x264's", size.w, size.h, i, original.Keyframe)
			}
		}
		if keyframes < 2 {
			t.Errorf("%dx%d: %d keyframes in 12 frames, want at least 2", size.w, size.h, keyframes)
		}
	}
}

func newDecoder(t *testing.T) *avcodec.VideoDecoder {
	t.Helper()
	d, err := avcodec.NewVideoDecoder("H264")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// ppsIDInClear finds the first slice NAL unit of an Annex B access unit
// and reports whether first_mb_in_slice, slice_type and
// pic_parameter_set_id all end within the byte after its NAL header.
func ppsIDInClear(au []byte) (clear, ok bool) {
	for i := 0; i+3 < len(au); i++ {
		if au[i] != 0 || au[i+1] != 0 || au[i+2] != 1 {
			continue
		}
		nal := au[i+3:]
		if typ := nal[0] & 0x1f; typ != 1 && typ != 5 {
			continue
		}
		pos := 0
		for range 3 { // first_mb_in_slice, slice_type, pic_parameter_set_id
			zeros := 0
			for ; pos < 24 && nal[1+pos/8]>>(7-pos%8)&1 == 0; pos++ {
				zeros++
			}
			pos += 1 + zeros
		}
		return pos <= 8, true
	}
	return false, false
}
