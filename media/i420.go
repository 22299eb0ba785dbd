package media

import (
	"fmt"
	"image"

	"github.com/callbox/callbox/device/camera"
)

// I420Image views an I420 frame as an image, without copying: the planes
// of f.Data at f.Format's size and stride. A frame of another pixel format
// or too short for its size is an error naming the frame.
func I420Image(f camera.Frame) (*image.YCbCr, error) {
	img, err := I420Planes(f)
	if err != nil {
		return nil, err
	}
	return &img, nil
}

// I420Planes is I420Image without the allocation, for what runs on every
// frame (the encoders, the scaler).
func I420Planes(f camera.Frame) (image.YCbCr, error) {
	if f.Format.Pixel != camera.PixelFormatI420 {
		return image.YCbCr{}, fmt.Errorf("pixel format %s is not I420", f.Format.Pixel)
	}
	w, h := f.Format.Width, f.Format.Height
	stride := f.Format.Stride
	if stride == 0 {
		stride = w
	}
	ySize, cStride := stride*h, stride/2
	cSize := cStride * (h / 2)
	if len(f.Data) < ySize+2*cSize {
		return image.YCbCr{}, fmt.Errorf("I420 frame %d has %d bytes, want %d", f.Seq, len(f.Data), ySize+2*cSize)
	}
	return image.YCbCr{
		Y: f.Data[:ySize], Cb: f.Data[ySize : ySize+cSize], Cr: f.Data[ySize+cSize : ySize+2*cSize],
		YStride: stride, CStride: cStride,
		SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect:           image.Rect(0, 0, w, h),
	}, nil
}
