package pipeline

import (
	"fmt"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// planes are the pixel planes of an I420 (p0, p1, p2) or NV12 (p0, p1) frame.
type planes struct {
	p0, p1, p2       []byte
	stride0, stride1 int
}

// yuvPlanes finds the planes of an I420 or NV12 frame of the given size in f.Data.
func yuvPlanes(f camera.Frame, width, height int) (planes, error) {
	if f.Format.Width != width || f.Format.Height != height {
		return planes{}, fmt.Errorf("frame is %dx%d, encoder wants %dx%d", f.Format.Width, f.Format.Height, width, height)
	}
	stride := f.Format.Stride
	if stride == 0 {
		stride = width
	}
	ySize := stride * height
	switch f.Format.Pixel {
	case camera.PixelFormatI420:
		img, err := media.I420Planes(f)
		if err != nil {
			return planes{}, err
		}
		return planes{p0: img.Y, p1: img.Cb, p2: img.Cr, stride0: img.YStride, stride1: img.CStride}, nil
	case camera.PixelFormatNV12:
		cSize := stride * (height / 2)
		if len(f.Data) < ySize+cSize {
			return planes{}, fmt.Errorf("NV12 frame %d has %d bytes, want %d", f.Seq, len(f.Data), ySize+cSize)
		}
		return planes{p0: f.Data[:ySize], p1: f.Data[ySize : ySize+cSize], stride0: stride, stride1: stride}, nil
	}
	return planes{}, fmt.Errorf("pixel format %s is not I420 or NV12", f.Format.Pixel)
}

// Converter turns captured frames of any format the cameras give into I420,
// reusing one buffer, so the steady state allocates nothing. A JPEG frame
// that does not decode is an ErrBrokenFrame. The zero Converter is ready
// to use; Close frees it.
type Converter struct {
	buf   []byte
	sws   swsConverter
	mjpeg mjpegDecoder
}

// Close frees what the converter holds.
func (c *Converter) Close() {
	c.sws.close()
	c.mjpeg.close()
}

// ToI420 returns f converted to tightly packed I420. The result's Data is
// valid until the next call. An I420 frame is returned as it is.
func (c *Converter) ToI420(f camera.Frame) (camera.Frame, error) {
	w, h := f.Format.Width, f.Format.Height
	if w <= 0 || h <= 0 || w%2 != 0 || h%2 != 0 {
		return camera.Frame{}, fmt.Errorf("convert frame %d: size %dx%d is not positive and even", f.Seq, w, h)
	}
	if f.Format.Pixel == camera.PixelFormatI420 {
		return f, nil
	}
	out := f
	out.Format.Pixel = camera.PixelFormatI420
	out.Format.Stride = 0
	size := w*h + w*h/2
	if cap(c.buf) < size {
		c.buf = make([]byte, size)
	}
	out.Data = c.buf[:size]
	out.DMABuf = nil // the picture is in our buffer now, not the camera's
	y, u, v := out.Data[:w*h], out.Data[w*h:w*h+w*h/4], out.Data[w*h+w*h/4:]

	var err error
	switch f.Format.Pixel {
	case camera.PixelFormatNV12, camera.PixelFormatYUYV:
		err = c.sws.toI420(f, y, u, v)
	case camera.PixelFormatMJPEG:
		err = c.mjpeg.toI420(f, y, u, v)
	default:
		err = fmt.Errorf("pixel format %s is not supported", f.Format.Pixel)
	}
	if err != nil {
		return camera.Frame{}, fmt.Errorf("convert frame %d: %w", f.Seq, err)
	}
	return out, nil
}
