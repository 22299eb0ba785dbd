package v4l2m2m_test

// The hardware simulcast path on the lab's drivers: two vicodec encoder
// instances open at once and vim2m scaling the first layer's pictures for
// the second, driven by pipeline.SendSimulcast as callboxd drives it.
// vicodec codes nothing smaller than 640x360 and vim2m takes nothing larger
// than 640x480, so the lab's layers are 640x480 and 640x360: not the
// halves a board sends, but the same path.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

// replayCamera hands out the same picture n times.
type replayCamera struct {
	f camera.Frame
	n int
}

var errReplayEnd = errors.New("end of replay")

func (c *replayCamera) Format() camera.Format { return c.f.Format }
func (c *replayCamera) Close() error          { return nil }
func (c *replayCamera) ReadFrame(context.Context) (camera.Frame, error) {
	if c.n == 0 {
		return camera.Frame{}, errReplayEnd
	}
	c.n--
	c.f.Seq++
	return c.f, nil
}

func TestLabSimulcast(t *testing.T) {
	encoderNode, scalerNode := v4l2m2m.LabNodes(t)
	if scalerNode == "" {
		t.Skip("no m2m raw-to-raw device (vim2m) found")
	}
	const frames = 12
	// RGB24: what vim2m takes and vicodec codes.
	big := camera.Format{Pixel: v4l2m2m.PixelFormatRGB24, Width: 640, Height: 480, FPS: 30}
	small := camera.Format{Pixel: v4l2m2m.PixelFormatRGB24, Width: 640, Height: 360, FPS: 30}
	// Both instances stay open together, as simulcast needs.
	encoders := []*v4l2m2m.Encoder{
		v4l2m2m.NewLabEncoder(t, encoderNode, v4l2m2m.EncoderOptions{Width: big.Width, Height: big.Height, Pixel: big.Pixel}),
		v4l2m2m.NewLabEncoder(t, encoderNode, v4l2m2m.EncoderOptions{Width: small.Width, Height: small.Height, Pixel: small.Pixel}),
	}
	for i, e := range encoders {
		if !e.Accepts(v4l2m2m.PixelFormatRGB24) {
			p, w, h := e.RawFormat()
			t.Fatalf("encoder instance %d takes %s %dx%d, not RGB24", i+1, p, w, h)
		}
	}
	scaler, err := v4l2m2m.NewScaler(v4l2m2m.ScalerOptions{Device: scalerNode, In: big, Out: small, Logger: v4l2m2m.LabLogger(t)})
	if err != nil {
		t.Fatalf("NewScaler: %v", err)
	}
	t.Cleanup(func() { scaler.Close() })

	// Grey with a white left half: what is scaled must still be that.
	data := make([]byte, big.Width*big.Height*3)
	for i := range data {
		data[i] = 128
		if (i/3)%big.Width < big.Width/2 {
			data[i] = 255
		}
	}
	scaled := 0
	layers := []pipeline.SimulcastLayer{
		{Width: big.Width, Height: big.Height, Encoder: encoders[0]},
		{Width: small.Width, Height: small.Height, Encoder: encoders[1], Scale: func(f camera.Frame) (camera.Frame, error) {
			out, err := scaler.Scale(f)
			if err == nil {
				scaled++
				row := (small.Height / 2) * out.Format.Stride
				if l, r := out.Data[row+3*(small.Width/4)], out.Data[row+3*(3*small.Width/4)]; l != 255 || r != 128 {
					return out, fmt.Errorf("the scaled picture is %d left and %d right, want 255 and 128", l, r)
				}
			}
			return out, err
		}},
	}
	got := make([][]string, len(layers))
	keyframes := make([]int, len(layers))
	err = pipeline.SendSimulcast(context.Background(), &replayCamera{f: camera.Frame{Format: big, Data: data}, n: frames}, layers,
		func(layer int, f media.EncodedFrame) error {
			if len(f.Data) < 20 {
				return fmt.Errorf("layer %d: %d bytes is no FWHT frame", layer, len(f.Data))
			}
			// struct fwht_cframe_hdr: two magic words, version, width, height, ...
			got[layer] = append(got[layer], fmt.Sprintf("%dx%d", binary.BigEndian.Uint32(f.Data[12:16]), binary.BigEndian.Uint32(f.Data[16:20])))
			if f.Keyframe {
				keyframes[layer]++
			}
			return nil
		})
	if !errors.Is(err, errReplayEnd) {
		t.Fatalf("SendSimulcast: %v", err)
	}
	if scaled != frames {
		t.Errorf("vim2m scaled %d of %d frames", scaled, frames)
	}
	for i, want := range []string{"640x480", "640x360"} {
		if len(got[i]) != frames {
			t.Errorf("layer %d: %d coded frames of %d", i, len(got[i]), frames)
		}
		for j, size := range got[i] {
			if size != want {
				t.Errorf("layer %d frame %d: coded at %s, want %s", i, j, size, want)
			}
		}
		if keyframes[i] == 0 {
			t.Errorf("layer %d: no keyframe", i)
		}
	}
	t.Logf("simulcast on %s (2 encoder instances) and %s: %d frames per layer", encoderNode, scalerNode, frames)
}
