package provisioning

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"github.com/callbox/callbox/device/camera"
)

// TestPreviewOfEachPixelFormat: the preview shows the camera's picture
// whatever format it comes in: the test pattern's stamp is read back from
// the JPEG of an I420 frame and of the same frame as YUYV.
func TestPreviewOfEachPixelFormat(t *testing.T) {
	const w, h = 320, 180
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := src.ReadFrame(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := camera.ReadStamp(f.Data, w, w, h)
	if err != nil {
		t.Fatal(err)
	}
	yuyv := make([]byte, 0, w*h*2)
	y, cb, cr := f.Data[:w*h], f.Data[w*h:w*h*5/4], f.Data[w*h*5/4:]
	for row := range h {
		for col := 0; col < w; col += 2 {
			c := (row/2)*(w/2) + col/2
			yuyv = append(yuyv, y[row*w+col], cb[c], y[row*w+col+1], cr[c])
		}
	}
	for name, frame := range map[string]camera.Frame{
		"I420": f,
		"YUYV": {Format: camera.Format{Pixel: camera.PixelFormatYUYV, Width: w, Height: h}, Data: yuyv},
	} {
		data, err := frameJPEG(frame)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: the preview is not a JPEG: %v", name, err)
		}
		yc, ok := img.(*image.YCbCr)
		if !ok || yc.Rect.Dx() != w || yc.Rect.Dy() != h {
			t.Fatalf("%s: the preview is %T %v, want %dx%d", name, img, img.Bounds(), w, h)
		}
		if got, err := camera.ReadStamp(yc.Y, yc.YStride, w, h); err != nil || got != want {
			t.Errorf("%s: the preview's stamp is %+v (%v), want %+v", name, got, err, want)
		}
	}
	if _, err := frameJPEG(camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatYUYV, Width: w, Height: h}, Data: make([]byte, 10)}); err == nil {
		t.Error("a short YUYV frame made a preview")
	}
}
