package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
)

func TestPlanSimulcast(t *testing.T) {
	for _, tc := range []struct {
		w, h, bps int
		want      []pipeline.LayerSpec
	}{
		{1280, 720, 1_500_000, []pipeline.LayerSpec{{1280, 720, 1_500_000}, {640, 360, 450_000}, {320, 180, 150_000}}},
		{1920, 1080, 3_000_000, []pipeline.LayerSpec{{1920, 1080, 3_000_000}, {960, 540, 900_000}, {480, 270, 300_000}}},
		// 150x75 is too small for a third layer.
		{600, 300, 1_000_000, []pipeline.LayerSpec{{600, 300, 1_000_000}, {300, 150, 300_000}}},
		{640, 360, 800_000, []pipeline.LayerSpec{{640, 360, 800_000}, {320, 180, 240_000}, {160, 90, 80_000}}},
		// Halves stay even: 1278/2 = 639, so 638.
		{1278, 720, 1_000_000, []pipeline.LayerSpec{{1278, 720, 1_000_000}, {638, 360, 300_000}, {318, 180, 100_000}}},
		{320, 240, 500_000, []pipeline.LayerSpec{{320, 240, 500_000}, {160, 120, 150_000}}},
		{160, 120, 200_000, []pipeline.LayerSpec{{160, 120, 200_000}}},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			if got := pipeline.PlanSimulcast(tc.w, tc.h, tc.bps); !slices.Equal(got, tc.want) {
				t.Errorf("PlanSimulcast(%d, %d, %d) = %v, want %v", tc.w, tc.h, tc.bps, got, tc.want)
			}
		})
	}
}

// decodedLayer is what a receiver of one layer saw.
type decodedLayer struct {
	dec    *avcodec.VideoDecoder
	sizes  map[string]int
	frames []uint32  // the stamps' frame numbers, in order
	psnr   []float64 // against the camera's picture halved in the test
	errs   []error
}

// TestSendSimulcastLayersCarryTheirNumbers is simulcast as three receivers,
// one per layer, see it: every layer decodes at its own size, the frame
// number drawn into each camera picture survives scaling and coding in all
// of them, and each layer looks like the camera's picture halved (by the
// test's own 2x2 average) once or twice. The camera gives YUYV, as most
// webcams do; the encoders are those callboxd opens for software simulcast.
func TestSendSimulcastLayersCarryTheirNumbers(t *testing.T) {
	const w, h, frames = 1280, 720, 20
	src := &yuyvCamera{src: newPattern(t, w, h), n: frames, keep: map[uint32]*image.YCbCr{}}
	plan := pipeline.PlanSimulcast(w, h, 1_500_000)
	if len(plan) != 3 {
		t.Fatalf("plan for 720p has %d layers, want 3", len(plan))
	}
	layers, err := pipeline.NewSoftwareSimulcastLayers(media.CodecH264,
		pipeline.VideoSettings{Width: w, Height: h, FPS: 30, BitsPerSecond: 1_500_000, KeyframeInterval: 60}, plan)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]*decodedLayer, len(plan))
	for i := range plan {
		t.Cleanup(func() { layers[i].Encoder.Close() })
		dec, err := avcodec.NewVideoDecoder("H264")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dec.Close() })
		got[i] = &decodedLayer{dec: dec, sizes: map[string]int{}}
	}
	err = pipeline.SendSimulcast(context.Background(), src, layers, func(layer int, f media.EncodedFrame) error {
		g := got[layer]
		pic, err := g.dec.Decode(f.Data)
		if err != nil {
			g.errs = append(g.errs, fmt.Errorf("decode: %w", err))
			return nil
		}
		if pic == nil {
			g.errs = append(g.errs, errors.New("decode: no picture"))
			return nil
		}
		g.sizes[pic.Rect.Size().String()]++
		s, err := camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy())
		if err != nil {
			g.errs = append(g.errs, err)
			return nil
		}
		g.frames = append(g.frames, s.Frame)
		if want := src.keep[s.Frame]; want != nil && pic.Rect.Size() == want.Rect.Size().Div(1<<layer) {
			for range layer {
				want = halveImage(want)
			}
			g.psnr = append(g.psnr, psnrYCbCr(want, pic))
		}
		return nil
	})
	if !errors.Is(err, errEndOfFrames) {
		t.Fatalf("SendSimulcast: %v, want the camera's end", err)
	}
	for i, l := range plan {
		g := got[i]
		want := fmt.Sprintf("(%d,%d)", l.Width, l.Height)
		if len(g.sizes) != 1 || g.sizes[want] == 0 {
			t.Errorf("layer %d: decoded sizes %v, want only %s", i, g.sizes, want)
		}
		if len(g.errs) > 0 {
			t.Errorf("layer %d %s: %d problems, first: %v", i, want, len(g.errs), g.errs[0])
		}
		// zerolatency x264 holds no frames back: every camera frame comes
		// out of every layer, in order.
		if len(g.frames) != frames || !slices.IsSorted(g.frames) || g.frames[0]+frames-1 != g.frames[frames-1] {
			t.Errorf("layer %d %s: frame numbers %v, want %d consecutive", i, want, g.frames, frames)
		}
		if len(g.psnr) != frames || median(g.psnr) < minLayerPSNR[i] {
			t.Errorf("layer %d %s: PSNR against the halved camera picture %.1f, want %d pictures, their median >= %.0f dB",
				i, want, g.psnr, frames, minLayerPSNR[i])
		} else {
			t.Logf("layer %d %s: PSNR %.1f to %.1f dB", i, want, slices.Min(g.psnr), slices.Max(g.psnr))
		}
	}
}

// minLayerPSNR is the least median each layer's pictures must have
// against the camera's picture halved, a few dB below the worst picture
// measured (720p 48 dB, 360p 41.5, 180p 42.5; with the preset's subpel
// search on the small layers 41.5 and 39.5): a scaler that shifts or
// filters otherwise (libswscale's bilinear: 37 and 33) falls below on
// every picture. The median, not the worst: since x264 keeps to its VBV
// for the network (net-adapt), the first picture after a keyframe may dip
// a few dB at the smallest layer (35.8 once), which says nothing of the
// scaler.
var minLayerPSNR = []float64{44, 38, 36}

// median is the middle of xs (the upper of the two middles).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// halveImage is the 2x2 average of an I420 picture, written out here so the
// test does not check the scaler against itself.
func halveImage(src *image.YCbCr) *image.YCbCr {
	w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	halve := func(dst []byte, dstStride int, from []byte, stride, w, h int) {
		for y := range h {
			for x := range w {
				a, b := from[2*y*stride+2*x:], from[(2*y+1)*stride+2*x:]
				dst[y*dstStride+x] = byte((int(a[0]) + int(a[1]) + int(b[0]) + int(b[1]) + 2) / 4)
			}
		}
	}
	halve(out.Y, out.YStride, src.Y, src.YStride, w, h)
	halve(out.Cb, out.CStride, src.Cb, src.CStride, w/2, h/2)
	halve(out.Cr, out.CStride, src.Cr, src.CStride, w/2, h/2)
	return out
}

// psnrYCbCr compares two I420 pictures of the same size over all planes.
func psnrYCbCr(want, got *image.YCbCr) float64 {
	var sum float64
	var n int
	add := func(a []byte, aStride int, b []byte, bStride, w, h int) {
		for y := range h {
			for x := range w {
				d := float64(a[y*aStride+x]) - float64(b[y*bStride+x])
				sum += d * d
			}
		}
		n += w * h
	}
	w, h := want.Rect.Dx(), want.Rect.Dy()
	add(want.Y, want.YStride, got.Y, got.YStride, w, h)
	add(want.Cb, want.CStride, got.Cb, got.CStride, w/2, h/2)
	add(want.Cr, want.CStride, got.Cr, got.CStride, w/2, h/2)
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(n)))
}

// TestSendSimulcastWithAScaler: a layer with its own scaler (as a hardware
// m2m scaler is given) gets the picture of the layer above, and an encoder
// that takes only I420 still gets I420.
func TestSendSimulcastWithAScaler(t *testing.T) {
	const w, h = 640, 360
	var scaled []camera.Format
	scale := func(f camera.Frame) (camera.Frame, error) {
		scaled = append(scaled, f.Format)
		// A scaler that gives NV12, as the Pi's ISP may.
		out := camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatNV12, Width: w / 2, Height: h / 2},
			Data: make([]byte, w/2*h/2*3/2), Seq: f.Seq}
		return out, nil
	}
	top, small := &recordingEncoder{accepts: camera.PixelFormatYUYV}, &recordingEncoder{accepts: camera.PixelFormatI420}
	err := pipeline.SendSimulcast(context.Background(), &yuyvCamera{src: newPattern(t, w, h), n: 3}, []pipeline.SimulcastLayer{
		{Width: w, Height: h, Encoder: top},
		{Width: w / 2, Height: h / 2, Encoder: small, Scale: scale},
	}, func(int, media.EncodedFrame) error { return nil })
	if !errors.Is(err, errEndOfFrames) {
		t.Fatalf("SendSimulcast: %v, want the camera's end", err)
	}
	for _, f := range scaled {
		if f.Pixel != camera.PixelFormatYUYV || f.Width != w || f.Height != h {
			t.Errorf("the scaler got %v, want the first layer's YUYV %dx%d", f, w, h)
		}
	}
	if len(scaled) != 3 {
		t.Errorf("the scaler ran %d times for 3 frames", len(scaled))
	}
	for _, f := range small.got {
		if f.Pixel != camera.PixelFormatI420 || f.Width != w/2 || f.Height != h/2 {
			t.Errorf("the second encoder got %v, want I420 %dx%d", f, w/2, h/2)
		}
	}
	if len(top.got) != 3 || len(small.got) != 3 {
		t.Errorf("encoders got %d and %d frames, want 3 each", len(top.got), len(small.got))
	}
}

func TestSendSimulcastRefusesBadLayers(t *testing.T) {
	enc := &recordingEncoder{accepts: camera.PixelFormatI420}
	for _, tc := range []struct {
		name   string
		layers []pipeline.SimulcastLayer
		want   string
	}{
		{"none", nil, "simulcast: no layers"},
		{"first layer is not the camera's size", []pipeline.SimulcastLayer{{Width: 320, Height: 180, Encoder: enc}},
			"simulcast layer 320x180: the camera gives 640x360, the first layer is 320x180"},
		{"odd size", []pipeline.SimulcastLayer{{Width: 640, Height: 360, Encoder: enc}, {Width: 321, Height: 181, Encoder: enc}},
			"simulcast layer 321x181: scale frame 0: size 321x181 is not positive and even"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := pipeline.SendSimulcast(context.Background(), &yuyvCamera{src: newPattern(t, 640, 360), n: 1}, tc.layers,
				func(int, media.EncodedFrame) error { return nil })
			if err == nil || err.Error() != tc.want {
				t.Errorf("SendSimulcast: %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkSimulcastScale is what making the two smaller layers of 720p
// adds per frame: the YUYV picture converted, then halved twice.
func BenchmarkSimulcastScale(b *testing.B) {
	src := &yuyvCamera{src: newPattern(b, 1280, 720), n: 1}
	f, err := src.ReadFrame(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	frames := &repeatCamera{f: f}
	nothing := &recordingEncoder{accepts: camera.PixelFormatI420, forget: true}
	layers := []pipeline.SimulcastLayer{{Width: 1280, Height: 720, Encoder: &recordingEncoder{accepts: camera.PixelFormatYUYV, forget: true}},
		{Width: 640, Height: 360, Encoder: nothing}, {Width: 320, Height: 180, Encoder: nothing}}
	frames.left = b.N
	b.ResetTimer()
	if err := pipeline.SendSimulcast(context.Background(), frames, layers, func(int, media.EncodedFrame) error { return nil }); !errors.Is(err, errEndOfFrames) {
		b.Fatal(err)
	}
}

var errEndOfFrames = errors.New("end of frames")

// yuyvCamera hands out n test pattern pictures as a YUYV webcam would.
// With keep set, it keeps a copy of each picture by its stamp's number.
type yuyvCamera struct {
	src  *camera.TestPattern
	n    int
	keep map[uint32]*image.YCbCr
}

func (c *yuyvCamera) Format() camera.Format {
	f := c.src.Format()
	f.Pixel = camera.PixelFormatYUYV
	return f
}
func (c *yuyvCamera) Close() error { return nil }
func (c *yuyvCamera) ReadFrame(ctx context.Context) (camera.Frame, error) {
	if c.n == 0 {
		return camera.Frame{}, errEndOfFrames
	}
	c.n--
	f, err := c.src.ReadFrame(ctx)
	if err != nil {
		return f, err
	}
	img, err := media.I420Image(f)
	if err != nil {
		return f, err
	}
	if c.keep != nil {
		if s, err := camera.ReadStamp(img.Y, img.YStride, img.Rect.Dx(), img.Rect.Dy()); err == nil {
			kept := *img
			kept.Y, kept.Cb, kept.Cr = slices.Clone(img.Y), slices.Clone(img.Cb), slices.Clone(img.Cr)
			c.keep[s.Frame] = &kept
		}
	}
	f.Data = toYUYV(img)
	f.Format.Pixel, f.Format.Stride = camera.PixelFormatYUYV, 0
	return f, nil
}

type repeatCamera struct {
	f    camera.Frame
	left int
}

func (c *repeatCamera) Format() camera.Format { return c.f.Format }
func (c *repeatCamera) Close() error          { return nil }
func (c *repeatCamera) ReadFrame(context.Context) (camera.Frame, error) {
	if c.left == 0 {
		return camera.Frame{}, errEndOfFrames
	}
	c.left--
	return c.f, nil
}

// recordingEncoder keeps the format of every picture it is given.
type recordingEncoder struct {
	accepts camera.PixelFormat
	forget  bool
	got     []camera.Format
}

func (e *recordingEncoder) Codec() media.Codec                { return media.CodecH264 }
func (e *recordingEncoder) Accepts(p camera.PixelFormat) bool { return p == e.accepts }
func (e *recordingEncoder) ForceKeyFrame()                    {}
func (e *recordingEncoder) SetBitrate(int)                    {}
func (e *recordingEncoder) Close() error                      { return nil }
func (e *recordingEncoder) Encode(f camera.Frame) (media.EncodedFrame, error) {
	if !e.forget {
		e.got = append(e.got, f.Format)
	}
	return media.EncodedFrame{}, nil
}

// TestSimulcastLayersX264Options reads the options x264 writes into the
// first picture it codes: the first layer is coded exactly as the same
// camera without simulcast, and the smaller layers search motion to whole
// pixels only (subme=0) in one thread, so one slice per picture.
func TestSimulcastLayersX264Options(t *testing.T) {
	s := pipeline.VideoSettings{Width: 1280, Height: 720, FPS: 30, BitsPerSecond: 1_500_000, KeyframeInterval: 60}
	plan := pipeline.PlanSimulcast(s.Width, s.Height, s.BitsPerSecond)
	layers, err := pipeline.NewSoftwareSimulcastLayers(media.CodecH264, s, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		t.Cleanup(func() { l.Encoder.Close() })
	}
	single := newEncoder(t, media.CodecH264, s)
	pattern := newPattern(t, s.Width, s.Height)
	picture := func(w, h int) camera.Frame {
		f, err := pattern.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var scaler pipeline.Scaler
		t.Cleanup(scaler.Close)
		if w == s.Width {
			return f
		}
		f, err = scaler.Scale(f, w, h)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	singleOptions := x264Options(t, single, picture(s.Width, s.Height))
	for i, l := range layers {
		opts := x264Options(t, l.Encoder, picture(l.Width, l.Height))
		t.Logf("layer %dx%d: %s", l.Width, l.Height, opts)
		if i == 0 {
			if opts != singleOptions {
				t.Errorf("the first layer's x264 options\n%s\ndiffer from those without simulcast\n%s", opts, singleOptions)
			}
			continue
		}
		for _, want := range []string{" subme=0 ", " threads=1 ", " sliced_threads=0 "} {
			if !strings.Contains(opts, want) {
				t.Errorf("layer %dx%d: x264 options %q, want%s", l.Width, l.Height, opts, want)
			}
		}
	}
	if !strings.Contains(singleOptions, " subme=1 ") {
		t.Errorf("720p without simulcast: x264 options %q, want the superfast preset's subme=1", singleOptions)
	}
}

// x264Options codes one picture and returns the option list x264 writes
// into its first picture's SEI ("cabac=0 ref=1 ... ").
func x264Options(t *testing.T, enc media.VideoEncoder, f camera.Frame) string {
	t.Helper()
	coded, err := enc.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := bytes.Cut(coded.Data, []byte(" - options: "))
	if !ok {
		t.Fatalf("the first picture (%d bytes) has no x264 options SEI", len(coded.Data))
	}
	if end := bytes.IndexByte(after, 0); end >= 0 {
		after = after[:end]
	}
	return " " + string(after) + " "
}
