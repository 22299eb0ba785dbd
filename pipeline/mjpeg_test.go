package pipeline_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/jpegenc"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
)

// testPatternFrames are n consecutive test pattern pictures of w x h, each
// with its own copy of the data.
func testPatternFrames(t testing.TB, w, h, n int) []camera.Frame {
	t.Helper()
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var frames []camera.Frame
	for range n {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.Data = slices.Clone(f.Data)
		frames = append(frames, f)
	}
	return frames
}

// mjpegFrame is f coded as a webcam codes it, as the camera hands it over.
func mjpegFrame(t testing.TB, f camera.Frame, samp jpegenc.Subsampling) camera.Frame {
	t.Helper()
	data, err := jpegenc.Encode(f, samp, jpegenc.WebcamQuality)
	if err != nil {
		t.Fatal(err)
	}
	out := f
	out.Format.Pixel, out.Format.Stride = camera.PixelFormatMJPEG, 0
	out.Data = data
	return out
}

// withoutHuffmanTables drops a JPEG's DHT segments, as many webcams send
// their MJPEG (the decoder is to use the standard tables, AVI1's MJPEG).
func withoutHuffmanTables(t *testing.T, jpeg []byte) []byte {
	t.Helper()
	out := slices.Clone(jpeg[:2]) // SOI
	for i := 2; i+4 <= len(jpeg); {
		if jpeg[i] != 0xff {
			t.Fatalf("no marker at %d", i)
		}
		marker := jpeg[i+1]
		if marker == 0xda { // SOS: the rest is the scan
			return append(out, jpeg[i:]...)
		}
		n := 2 + (int(jpeg[i+2])<<8 | int(jpeg[i+3])) // the marker, then the length with itself
		if marker != 0xc4 {                           // DHT
			out = append(out, jpeg[i:i+n]...)
		}
		i += n
	}
	t.Fatal("no scan")
	return nil
}

// TestMJPEGDecodesWebcamFrames: a webcam's JPEGs of the test pattern, in
// the subsamplings cameras send and without Huffman tables, come out of
// the converter as the pictures that went in: the frame number readable,
// the colours where they were.
func TestMJPEGDecodesWebcamFrames(t *testing.T) {
	const w, h = 640, 360
	frame := testPatternFrames(t, w, h, 4)[3]
	want, err := media.I420Image(frame)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		samp     jpegenc.Subsampling
		stripDHT bool
	}{
		{"4:2:2", jpegenc.Subsampling422, false},
		{"4:2:2 without Huffman tables", jpegenc.Subsampling422, true},
		{"4:2:0", jpegenc.Subsampling420, false},
		{"4:4:4", jpegenc.Subsampling444, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := mjpegFrame(t, frame, tc.samp)
			if tc.stripDHT {
				in.Data = withoutHuffmanTables(t, in.Data)
			}
			var conv pipeline.Converter
			defer conv.Close()
			out, err := conv.ToI420(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := media.I420Image(out)
			if err != nil {
				t.Fatal(err)
			}
			stamp, err := camera.ReadStamp(got.Y, got.YStride, w, h)
			if err != nil || stamp.Frame != uint32(frame.Seq) {
				t.Errorf("stamp reads %+v, %v; want frame %d", stamp, err, frame.Seq)
			}
			if db := psnrPlane(want.Y, got.Y, w, h); db < 38 {
				t.Errorf("luma PSNR %.1f dB, want at least 38", db)
			}
			for name, planes := range map[string][2][]byte{"Cb": {want.Cb, got.Cb}, "Cr": {want.Cr, got.Cr}} {
				if db := psnrPlane(planes[0], planes[1], w/2, h/2); db < 38 {
					t.Errorf("%s PSNR %.1f dB, want at least 38", name, db)
				}
			}
		})
	}
}

// psnrPlane compares two planes of w x h, tightly packed.
func psnrPlane(want, got []byte, w, h int) float64 {
	var sum float64
	for i := range w * h {
		d := float64(want[i]) - float64(got[i])
		sum += d * d
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(w*h)))
}

// brokenJPEGs are frames a webcam or a bad USB link hands over, made from
// good, a w x h JPEG.
func brokenJPEGs(good []byte, other []byte) map[string][]byte {
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + i>>8)
	}
	headerOnly := good[:min(len(good), 600)]
	huge := slices.Clone(good)
	for i := 2; i+9 < len(huge); i++ {
		if huge[i] == 0xff && huge[i+1] == 0xc0 { // SOF0: height, then width, at +5 and +7
			huge[i+5], huge[i+6], huge[i+7], huge[i+8] = 0xff, 0xf0, 0xff, 0xf0
			break
		}
	}
	return map[string][]byte{
		"empty":                       {},
		"garbage":                     garbage,
		"start of image only":         {0xff, 0xd8},
		"headers only":                headerOnly,
		"truncated at half":           good[:len(good)/2],
		"truncated by 10 bytes":       good[:len(good)-10],
		"another size":                other,
		"a header saying 65520x65520": huge,
	}
}

// TestMJPEGBrokenFramesAreErrors: every kind of broken frame is an
// ErrBrokenFrame, and the converter decodes the next good frame after it.
func TestMJPEGBrokenFramesAreErrors(t *testing.T) {
	const w, h = 320, 180
	frame := testPatternFrames(t, w, h, 1)[0]
	good := mjpegFrame(t, frame, jpegenc.Subsampling422)
	small := mjpegFrame(t, testPatternFrames(t, 160, 90, 1)[0], jpegenc.Subsampling422)
	var conv pipeline.Converter
	defer conv.Close()
	for name, data := range brokenJPEGs(good.Data, small.Data) {
		t.Run(name, func(t *testing.T) {
			in := good
			in.Data = data
			if _, err := conv.ToI420(in); !errors.Is(err, pipeline.ErrBrokenFrame) {
				t.Errorf("ToI420 = %v, want an ErrBrokenFrame", err)
			}
			out, err := conv.ToI420(good)
			if err != nil {
				t.Fatalf("the good frame after it: %v", err)
			}
			if _, err := camera.ReadStamp(out.Data, w, w, h); err != nil {
				t.Errorf("the good frame after it: %v", err)
			}
		})
	}
}

// frameList is a camera that hands out its frames, then ends.
type frameList struct {
	frames []camera.Frame
	next   int
}

func (l *frameList) Format() camera.Format { return l.frames[0].Format }
func (l *frameList) Close() error          { return nil }
func (l *frameList) ReadFrame(ctx context.Context) (camera.Frame, error) {
	if l.next == len(l.frames) {
		return camera.Frame{}, errEndOfFrames
	}
	l.next++
	return l.frames[l.next-1], nil
}

// TestSendDropsBrokenMJPEGFrames: an MJPEG camera that sends broken frames
// among good ones: the call gets a coded picture for every good frame and
// goes on, and the broken ones are counted.
func TestSendDropsBrokenMJPEGFrames(t *testing.T) {
	const w, h = 320, 180
	pictures := testPatternFrames(t, w, h, 12)
	small := mjpegFrame(t, testPatternFrames(t, 160, 90, 1)[0], jpegenc.Subsampling422)
	var frames []camera.Frame
	broken := 0
	for i, p := range pictures {
		good := mjpegFrame(t, p, jpegenc.Subsampling422)
		frames = append(frames, good)
		if i%3 == 1 { // a broken frame after every third good one
			for _, data := range brokenJPEGs(good.Data, small.Data) {
				f := good
				f.Data = data
				frames = append(frames, f)
				broken++
			}
		}
	}
	sender := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264, BitsPerSecond: 500_000,
		KeyframeInterval: 60, Mode: config.EncoderSoftware})
	coded := 0
	err := sender.Send(context.Background(), &frameList{frames: frames}, func(layer int, f media.EncodedFrame) error {
		coded++
		return nil
	})
	if !errors.Is(err, errEndOfFrames) {
		t.Fatalf("Send ended with %v before the camera did", err)
	}
	if coded != len(pictures) {
		t.Errorf("%d coded pictures from %d good frames", coded, len(pictures))
	}
	if got := sender.BrokenFrames(); got != int64(broken) {
		t.Errorf("BrokenFrames = %d, want %d", got, broken)
	}
}

// FuzzMJPEG: whatever bytes an MJPEG camera hands over, the converter
// decodes them or says the frame is broken; it never crashes.
func FuzzMJPEG(f *testing.F) {
	const w, h = 64, 48
	frame := testPatternFrames(f, w, h, 1)[0]
	for _, samp := range []jpegenc.Subsampling{jpegenc.Subsampling422, jpegenc.Subsampling420, jpegenc.Subsampling444} {
		good := mjpegFrame(f, frame, samp)
		f.Add(good.Data)
		f.Add(good.Data[:len(good.Data)/2])
	}
	var conv pipeline.Converter
	f.Cleanup(conv.Close)
	f.Fuzz(func(t *testing.T, data []byte) {
		in := camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatMJPEG, Width: w, Height: h}, Data: data}
		if _, err := conv.ToI420(in); err != nil && !errors.Is(err, pipeline.ErrBrokenFrame) {
			t.Fatalf("ToI420 = %v, want nil or an ErrBrokenFrame", err)
		}
	})
}
