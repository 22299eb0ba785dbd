package pipeline_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
)

func testSettings(w, h int) pipeline.VideoSettings {
	return pipeline.VideoSettings{Width: w, Height: h, FPS: 30, BitsPerSecond: 800_000, KeyframeInterval: 60}
}

func newPattern(t testing.TB, w, h int) *camera.TestPattern {
	t.Helper()
	// A high frame rate so the test need not wait for the clock.
	p, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func newEncoder(t testing.TB, codec media.Codec, s pipeline.VideoSettings) media.VideoEncoder {
	t.Helper()
	enc, err := pipeline.NewSoftwareVideoEncoder(codec, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc
}

// TestEncodedFramesCarryTheirNumbers is the send path as a receiver sees it:
// every picture decodes, and the frame number drawn into it survives lossy
// coding; each keyframe's header says the picture's size.
func TestEncodedFramesCarryTheirNumbers(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecVP8} {
		for _, size := range []image.Point{{1280, 720}, {320, 180}} {
			t.Run(string(codec)+"/"+size.String(), func(t *testing.T) {
				src := newPattern(t, size.X, size.Y)
				enc := newEncoder(t, codec, testSettings(size.X, size.Y))
				dec, err := avcodec.NewVideoDecoder(string(codec))
				if err != nil {
					t.Fatal(err)
				}
				defer dec.Close()

				ctx := context.Background()
				var prev uint32
				for i := range 45 {
					f, err := src.ReadFrame(ctx)
					if err != nil {
						t.Fatal(err)
					}
					sent, _ := camera.ReadStamp(f.Data, f.Format.Width, f.Format.Width, f.Format.Height)
					coded, err := enc.Encode(f)
					if err != nil {
						t.Fatal(err)
					}
					if i == 0 && !coded.Keyframe {
						t.Fatal("the first frame is not a keyframe")
					}
					// What a receiver's metrics read of the size (media.PictureSize).
					if w, h, ok := media.PictureSize(codec, coded.Data); coded.Keyframe && (!ok || w != size.X || h != size.Y) {
						t.Fatalf("frame %d: the keyframe's header says %dx%d (%v), want %v", i, w, h, ok, size)
					}
					pic, err := dec.Decode(coded.Data)
					if err != nil || pic == nil {
						t.Fatalf("frame %d: decode: %v (picture %v)", i, err, pic != nil)
					}
					if pic.Rect.Dx() != size.X || pic.Rect.Dy() != size.Y {
						t.Fatalf("decoded %v, want %v", pic.Rect.Size(), size)
					}
					got, err := camera.ReadStamp(pic.Y, pic.YStride, size.X, size.Y)
					if err != nil {
						t.Fatalf("frame %d: stamp unreadable after %s: %v", i, codec, err)
					}
					if got.Frame != sent.Frame || !got.Time.Equal(sent.Time) {
						t.Fatalf("frame %d: decoded stamp %+v, sent %+v", i, got, sent)
					}
					if i > 0 && got.Frame <= prev {
						t.Fatalf("frame numbers do not increase: %d after %d", got.Frame, prev)
					}
					prev = got.Frame
				}
			})
		}
	}
}

func TestForceKeyFrame(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecVP8} {
		t.Run(string(codec), func(t *testing.T) {
			src := newPattern(t, 320, 180)
			enc := newEncoder(t, codec, testSettings(320, 180))
			keyframes := 0
			for i := range 20 {
				if i == 10 {
					enc.ForceKeyFrame()
				}
				f, _ := src.ReadFrame(context.Background())
				coded, err := enc.Encode(f)
				if err != nil {
					t.Fatal(err)
				}
				if coded.Keyframe {
					keyframes++
					if i != 0 && i != 10 {
						t.Errorf("unasked keyframe at frame %d", i)
					}
				} else if i == 10 {
					t.Errorf("frame 10 is not a keyframe though one was asked for")
				}
			}
			if keyframes != 2 {
				t.Errorf("%d keyframes, want 2 (the first, and the one asked for)", keyframes)
			}
		})
	}
}

func TestSetBitrateChangesSize(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecVP8} {
		t.Run(string(codec), func(t *testing.T) {
			t.Parallel()
			// 720p: at 640x360 this pattern is too simple for libvpx to
			// come down to a low rate without dropping frames, which it
			// is not set to do.
			s := testSettings(1280, 720)
			s.BitsPerSecond = 2_000_000
			s.KeyframeInterval = 600
			// Paced at the real frame rate: libvpx times its rate control by the clock.
			src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: s.Width, Height: s.Height, FPS: s.FPS})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			enc := newEncoder(t, codec, s)
			// Bytes a second over some seconds of capture time, and bytes a
			// frame: on a loaded machine the pattern skips frames, and each
			// frame left covers more time.
			measure := func(seconds int) (perSecond, perFrame int) {
				n := 0
				var first, last time.Time
				frames := seconds * s.FPS
				for i := range frames + 1 {
					f, _ := src.ReadFrame(context.Background())
					coded, err := enc.Encode(f)
					if err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first = f.Time
						continue // its bytes belong to the time before it
					}
					n += len(coded.Data)
					last = f.Time
				}
				return int(float64(n) / last.Sub(first).Seconds()), n / frames
			}
			measure(1) // past the first keyframe
			// What the pattern needs at the full frame rate: it needs
			// about 750 kbit/s at 30 fps, and a machine busy elsewhere
			// codes fewer frames a second, not fewer bytes a frame.
			_, highPerFrame := measure(1)
			const lowBPS = 300_000
			if high := highPerFrame * s.FPS * 8; high < 2*lowBPS {
				t.Fatalf("the pattern needs only %d bit/s at 2 Mbit/s: too simple to test rate control", high)
			}
			enc.SetBitrate(lowBPS)
			// Let rate control follow: libvpx's CBR buffer takes a while to
			// drain when the machine is busy.
			measure(2)
			low, _ := measure(2)
			if low*8 > lowBPS*3/2 {
				t.Errorf("asked for %d bit/s, got %d bit/s", lowBPS, low*8)
			}
		})
	}
}

// TestH264IsConstrainedBaseline reads the SPS: profile_idc 66 with
// constraint_set1, what WebRTC's profile-level-id 42e0xx promises.
func TestH264IsConstrainedBaseline(t *testing.T) {
	keyframe, sps := firstKeyframe(t, testSettings(320, 180))
	profile, constraints := sps[1], sps[2]
	if profile != 66 || constraints&0x40 == 0 {
		t.Errorf("profile_idc %d constraints %08b, want 66 with constraint_set1 (constrained baseline)", profile, constraints)
	}
	if bytes.Contains(keyframe, []byte{0, 0, 1, 0x68}) == false {
		t.Error("the keyframe carries no PPS")
	}
}

// firstKeyframe codes the test pattern's first picture with x264 set up
// as s says, and returns it and its SPS from the NAL header on.
func firstKeyframe(t *testing.T, s pipeline.VideoSettings) (keyframe, sps []byte) {
	t.Helper()
	enc := newEncoder(t, media.CodecH264, s)
	f, err := newPattern(t, s.Width, s.Height).ReadFrame(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	coded, err := enc.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(coded.Data, []byte{0, 0, 1, 0x67})
	if at < 0 {
		t.Fatal("the keyframe carries no SPS")
	}
	return coded.Data, coded.Data[at+3:]
}

// TestH264LevelGoesWithTheSize reads the SPS's level_idc: the level a
// receiver's decoder must handle is the one the size, rate and bitrate
// need (media.H264LevelFor), 3.1 for 720p30 and 4.0 for 1080p30.
func TestH264LevelGoesWithTheSize(t *testing.T) {
	for _, tc := range []struct {
		w, h, kbps int
		want       byte
	}{{1280, 720, 1500, 31}, {1920, 1080, 3000, 40}} {
		s := testSettings(tc.w, tc.h)
		s.BitsPerSecond = tc.kbps * 1000
		_, sps := firstKeyframe(t, s)
		if level := sps[3]; level != tc.want {
			t.Errorf("%dx%d at %d kbit/s: level_idc %d, want %d", tc.w, tc.h, tc.kbps, level, tc.want)
		}
	}
}

func TestEncoderRejectsWrongFrames(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecVP8} {
		enc := newEncoder(t, codec, testSettings(320, 180))
		for _, f := range []camera.Frame{
			{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: 640, Height: 360}, Data: make([]byte, 640*360*3/2)},
			{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: 320, Height: 180}, Data: make([]byte, 100)},
			{Format: camera.Format{Pixel: camera.PixelFormatMJPEG, Width: 320, Height: 180}, Data: make([]byte, 320*180*2)},
		} {
			if _, err := enc.Encode(f); err == nil {
				t.Errorf("%s: Encode(%v with %d bytes) succeeded, want an error", codec, f.Format, len(f.Data))
			}
		}
	}
	if _, err := pipeline.NewSoftwareVideoEncoder(media.CodecOpus, testSettings(320, 180)); err == nil {
		t.Error("a video encoder for Opus was opened")
	}
	if _, err := pipeline.NewH264Encoder(testSettings(321, 180)); err == nil {
		t.Error("an odd width was accepted")
	}
}

// TestConvertKeepsThePicture converts the test pattern to every camera
// format and back to I420 and reads the stamp: the picture survives.
func TestConvertKeepsThePicture(t *testing.T) {
	const w, h = 320, 180
	src := newPattern(t, w, h)
	f, _ := src.ReadFrame(context.Background())
	want, err := camera.ReadStamp(f.Data, w, w, h)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := media.I420Image(f)

	formats := map[string]camera.Frame{
		"NV12":  {Format: camera.Format{Pixel: camera.PixelFormatNV12, Width: w, Height: h}, Data: toNV12(img)},
		"YUYV":  {Format: camera.Format{Pixel: camera.PixelFormatYUYV, Width: w, Height: h}, Data: toYUYV(img)},
		"MJPEG": {Format: camera.Format{Pixel: camera.PixelFormatMJPEG, Width: w, Height: h}, Data: toJPEG(t, img)},
	}
	var conv pipeline.Converter
	defer conv.Close()
	for name, in := range formats {
		out, err := conv.ToI420(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := camera.ReadStamp(out.Data, w, w, h)
		if err != nil || got != want {
			t.Errorf("%s: stamp %+v (%v), want %+v", name, got, err, want)
		}
		back, _ := media.I420Image(out)
		if name != "MJPEG" && (!bytes.Equal(back.Cb, img.Cb) || !bytes.Equal(back.Cr, img.Cr) || !bytes.Equal(back.Y, img.Y)) {
			t.Errorf("%s: lossless conversion changed the picture", name)
		}
	}
	if _, err := conv.ToI420(camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatMJPEG, Width: w, Height: h}, Data: []byte("not a jpeg")}); err == nil {
		t.Error("a broken MJPEG frame converted without error")
	}
	if _, err := conv.ToI420(camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatYUYV, Width: w, Height: h}, Data: make([]byte, 10)}); err == nil {
		t.Error("a short YUYV frame converted without error")
	}
}

func toNV12(img *image.YCbCr) []byte {
	out := append([]byte{}, img.Y...)
	for i := range img.Cb {
		out = append(out, img.Cb[i], img.Cr[i])
	}
	return out
}

// toYUYV doubles each chroma line, so dropping every other one loses nothing.
func toYUYV(img *image.YCbCr) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]byte, 0, w*h*2)
	for y := range h {
		for x := 0; x < w; x += 2 {
			c := (y/2)*img.CStride + x/2
			out = append(out, img.Y[y*img.YStride+x], img.Cb[c], img.Y[y*img.YStride+x+1], img.Cr[c])
		}
	}
	return out
}

func toJPEG(t *testing.T, img *image.YCbCr) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCappedH264SendsWhatThePictureNeeds: under the same cap, the capped
// encoder (the camera's size of one stream) sends an easy picture in
// about half the bits of ABR or less, and every picture still looks right.
func TestCappedH264SendsWhatThePictureNeeds(t *testing.T) {
	const w, h, frames = 1280, 720, 120
	src := newPattern(t, w, h)
	var pictures []camera.Frame
	for range frames {
		f, err := src.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.Data = slices.Clone(f.Data)
		pictures = append(pictures, f)
	}
	code := func(capped bool) (bytes int, worst float64) {
		s := testSettings(w, h)
		s.BitsPerSecond, s.Capped = 1_500_000, capped // the default cap
		enc := newEncoder(t, media.CodecH264, s)
		dec, err := avcodec.NewVideoDecoder("H264")
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		worst = math.Inf(1)
		for i, f := range pictures {
			coded, err := enc.Encode(f)
			if err != nil {
				t.Fatal(err)
			}
			bytes += len(coded.Data)
			pic, err := dec.Decode(coded.Data)
			if err != nil || pic == nil {
				t.Fatalf("frame %d: decode: %v (picture %v)", i, err, pic != nil)
			}
			want := &image.YCbCr{Y: f.Data[:w*h], Cb: f.Data[w*h : w*h*5/4], Cr: f.Data[w*h*5/4:],
				YStride: w, CStride: w / 2, Rect: image.Rect(0, 0, w, h), SubsampleRatio: image.YCbCrSubsampleRatio420}
			worst = min(worst, psnrYCbCr(want, pic))
		}
		return bytes, worst
	}
	abr, abrWorst := code(false)
	capped, cappedWorst := code(true)
	t.Logf("ABR %d bytes (worst picture %.1f dB), capped %d bytes (%.1f dB)", abr, abrWorst, capped, cappedWorst)
	if float64(capped) > 0.6*float64(abr) {
		t.Errorf("capped, the test pattern took %d bytes, ABR %d: want at most 0.6 of it", capped, abr)
	}
	if cappedWorst < 45 {
		t.Errorf("capped, the worst picture is at %.1f dB PSNR, want 45 or more", cappedWorst)
	}
}
