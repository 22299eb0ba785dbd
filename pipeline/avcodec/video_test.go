package avcodec

import (
	"errors"
	"image"
	"math/rand/v2"
	"strings"
	"testing"
)

func newVideoDecoder(t testing.TB, codec string) *VideoDecoder {
	t.Helper()
	d, err := NewVideoDecoder(codec)
	if err != nil {
		t.Fatalf("NewVideoDecoder(%q): %v", codec, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// decodeAll decodes every frame of the stream and fails the test unless each
// one gives its picture at once, the same as ffmpeg's own decode.
func decodeAll(t *testing.T, d *VideoDecoder, stream videoStream) {
	t.Helper()
	for i, frame := range stream.frames {
		picture, err := d.Decode(frame)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if picture == nil {
			t.Fatalf("frame %d: no picture; want one picture per frame, without delay", i)
		}
		comparePicture(t, stream, i, picture)
	}
}

func TestVideoDecoderDecodesEveryFrame(t *testing.T) {
	for _, spec := range []streamSpec{
		{codec: "H264", width: 320, height: 240, frames: 30},
		{codec: "VP8", width: 320, height: 240, frames: 30},
		{codec: "VP8", width: 161, height: 121, frames: 10}, // odd size: chroma rounds up
	} {
		t.Run(spec.String(), func(t *testing.T) {
			t.Parallel()
			stream := makeVideoStream(t, spec)
			decodeAll(t, newVideoDecoder(t, spec.codec), stream)
		})
	}
}

func TestVideoDecoderFollowsSizeChange(t *testing.T) {
	for _, codec := range []string{"H264", "VP8"} {
		t.Run(codec, func(t *testing.T) {
			t.Parallel()
			d := newVideoDecoder(t, codec)
			// A sender that changes resolution starts again with a key frame.
			for _, size := range []image.Point{{320, 240}, {640, 360}, {320, 240}} {
				decodeAll(t, d, makeVideoStream(t, streamSpec{codec: codec, width: size.X, height: size.Y, frames: 5}))
			}
		})
	}
}

func TestVideoDecoderRejectsOtherPixelFormats(t *testing.T) {
	stream := makeVideoStream(t, streamSpec{codec: "H264", width: 320, height: 240, frames: 2, pixelFormat: "yuv444p"})
	d := newVideoDecoder(t, "H264")
	picture, err := d.Decode(stream.frames[0])
	if err == nil || !strings.Contains(err.Error(), "yuv444p") {
		t.Fatalf("Decode(4:4:4 frame) = %v, %v; want an error naming yuv444p", picture, err)
	}
}

func TestNewVideoDecoderRejectsUnknownCodec(t *testing.T) {
	for _, codec := range []string{"VP9", "h264", ""} {
		if d, err := NewVideoDecoder(codec); err == nil {
			d.Close()
			t.Errorf("NewVideoDecoder(%q) succeeded; want an error", codec)
		}
	}
}

func TestVideoDecoderRejectsEmptyFrame(t *testing.T) {
	stream := makeVideoStream(t, streamSpec{codec: "H264", width: 320, height: 240, frames: 3})
	d := newVideoDecoder(t, "H264")
	if _, err := d.Decode(nil); err == nil {
		t.Fatal("Decode(nil) succeeded; want an error")
	}
	// An empty frame must not end the stream for the decoder.
	decodeAll(t, d, stream)
}

func TestVideoDecoderAfterClose(t *testing.T) {
	stream := makeVideoStream(t, streamSpec{codec: "VP8", width: 320, height: 240, frames: 1})
	d, err := NewVideoDecoder("VP8")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := d.Decode(stream.frames[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Decode after Close: %v; want ErrClosed", err)
	}
}

// TestVideoDecoderSurvivesCorruptInput feeds random bytes, truncated frames
// and frames with flipped bits: each must give an error or a picture of
// sane size, never a crash, and the real stream must decode right afterwards.
func TestVideoDecoderSurvivesCorruptInput(t *testing.T) {
	for _, spec := range []streamSpec{
		{codec: "H264", width: 320, height: 240, frames: 30},
		{codec: "VP8", width: 320, height: 240, frames: 30},
	} {
		t.Run(spec.String(), func(t *testing.T) {
			t.Parallel()
			stream := makeVideoStream(t, spec)
			random := rand.New(rand.NewPCG(1, 2))
			var corrupt [][]byte
			for range 200 {
				garbage := make([]byte, 1+random.IntN(4000))
				for i := range garbage {
					garbage[i] = byte(random.UintN(256))
				}
				corrupt = append(corrupt, garbage)
			}
			for _, frame := range stream.frames {
				for _, cut := range []int{1, 4, 10, len(frame) / 2, len(frame) - 1} {
					if cut > 0 && cut < len(frame) {
						corrupt = append(corrupt, frame[:cut])
					}
				}
				flipped := append([]byte(nil), frame...)
				for range 1 + len(flipped)/100 {
					flipped[random.IntN(len(flipped))] ^= 1 << random.UintN(8)
				}
				corrupt = append(corrupt, flipped)
			}

			d := newVideoDecoder(t, spec.codec)
			errorCount := 0
			for i, frame := range corrupt {
				picture, err := d.Decode(frame)
				if err != nil {
					errorCount++
					continue
				}
				if picture != nil && (picture.Rect.Empty() || len(picture.Y) < picture.YStride*picture.Rect.Dy()) {
					t.Fatalf("corrupt frame %d: picture %v with %d luma bytes", i, picture.Rect, len(picture.Y))
				}
			}
			if errorCount == 0 {
				t.Errorf("none of %d corrupt frames gave an error", len(corrupt))
			}
			// The stream starts with a key frame: the decoder must recover.
			decodeAll(t, d, stream)
		})
	}
}

// FuzzVideoDecoder decodes a real key frame and then the fuzzer's bytes as
// the next frame. Run with: go test -fuzz FuzzVideoDecoder ./pipeline/avcodec/
func FuzzVideoDecoder(f *testing.F) {
	codecs := []string{"H264", "VP8"}
	keyFrames := make([][]byte, len(codecs))
	for i, codec := range codecs {
		stream := makeVideoStream(f, streamSpec{codec: codec, width: 64, height: 48, frames: 3})
		keyFrames[i] = stream.frames[0]
		for _, frame := range stream.frames[1:] {
			f.Add(uint8(i), frame)
		}
	}
	f.Fuzz(func(t *testing.T, codecIndex uint8, frame []byte) {
		index := int(codecIndex) % len(codecs)
		d := newVideoDecoder(t, codecs[index])
		if _, err := d.Decode(keyFrames[index]); err != nil {
			t.Fatalf("key frame: %v", err)
		}
		picture, err := d.Decode(frame)
		if err == nil && picture != nil && picture.Rect.Empty() {
			t.Fatalf("picture of empty size %v", picture.Rect)
		}
	})
}

// BenchmarkDecodeH264_720p decodes 720p H.264 as a WebRTC peer sends it;
// ns/op is per frame.
func BenchmarkDecodeH264_720p(b *testing.B) {
	stream := makeVideoStream(b, streamSpec{codec: "H264", width: 1280, height: 720, frames: 60})
	d := newVideoDecoder(b, "H264")
	b.ResetTimer()
	for i := range b.N {
		// Frame 0 is the only key frame, so wrapping around stays valid.
		if _, err := d.Decode(stream.frames[i%len(stream.frames)]); err != nil {
			b.Fatal(err)
		}
	}
}
