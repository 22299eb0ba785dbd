package v4l2m2m

import (
	"fmt"
	"image"

	"github.com/callbox/callbox/device/camera"
)

// plane is one plane of a raw picture: rows of stride bytes.
type plane struct {
	data   []byte
	stride int
}

// picture is a raw picture as planes, wherever its memory is: a camera
// frame, a mapped device buffer, an image.YCbCr.
type picture struct {
	pixel         camera.PixelFormat
	width, height int
	planes        [3]plane
}

// pictureIn lays a picture of format pixel out in memory: either one
// contiguous buffer (mem has one element; planes follow each other, the
// first of planeRows rows) or one buffer per plane. stride is the first
// plane's line length, 0 for tightly packed.
func pictureIn(pixel camera.PixelFormat, width, height, stride, planeRows int, mem ...[]byte) (picture, error) {
	l, ok := layoutOf(pixel)
	if !ok {
		return picture{}, fmt.Errorf("pixel format %s: layout unknown", pixel)
	}
	if stride == 0 {
		stride = width * l.bytesPerPixel
	}
	if planeRows < height {
		planeRows = height
	}
	p := picture{pixel: pixel, width: width, height: height}
	strides := [3]int{stride, stride / 2, stride / 2}
	rows := [3]int{planeRows, planeRows / 2, planeRows / 2}
	if l.planes == 2 {
		strides[1] = stride
	}
	need := 0
	for i := 0; i < l.planes; i++ {
		size := strides[i] * rows[i]
		if len(mem) == 1 {
			if len(mem[0]) < need+size {
				// The last plane needs only its visible rows.
				visible := height
				if i > 0 {
					visible = (height + 1) / 2
				}
				if i < l.planes-1 || len(mem[0]) < need+strides[i]*visible {
					return picture{}, fmt.Errorf("%s %dx%d: %d bytes, want %d", pixel, width, height, len(mem[0]), need+size)
				}
				size = len(mem[0]) - need
			}
			p.planes[i] = plane{mem[0][need : need+size], strides[i]}
			need += size
		} else {
			if i >= len(mem) {
				return picture{}, fmt.Errorf("%s: %d planes given, want %d", pixel, len(mem), l.planes)
			}
			p.planes[i] = plane{mem[i], strides[i]}
		}
	}
	return p, nil
}

// framePicture views a camera frame as a picture.
func framePicture(f camera.Frame) (picture, error) {
	return pictureIn(f.Format.Pixel, f.Format.Width, f.Format.Height, f.Format.Stride, f.Format.Height, f.Data)
}

// copyPicture copies src into dst row by row, converting between I420 and
// NV12 on the way; other formats must match. Sizes may differ: the common
// top-left part is copied.
func copyPicture(dst, src picture) error {
	w, h := min(dst.width, src.width), min(dst.height, src.height)
	copyPlane := func(d, s plane, rowBytes, rows int) {
		for y := 0; y < rows; y++ {
			do, so := y*d.stride, y*s.stride
			if do+rowBytes > len(d.data) || so+rowBytes > len(s.data) {
				return
			}
			copy(d.data[do:do+rowBytes], s.data[so:so+rowBytes])
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	switch {
	case dst.pixel == src.pixel:
		l, _ := layoutOf(src.pixel)
		copyPlane(dst.planes[0], src.planes[0], w*l.bytesPerPixel, h)
		switch l.planes {
		case 2:
			copyPlane(dst.planes[1], src.planes[1], 2*cw, ch)
		case 3:
			copyPlane(dst.planes[1], src.planes[1], cw, ch)
			copyPlane(dst.planes[2], src.planes[2], cw, ch)
		}
	case dst.pixel == camera.PixelFormatNV12 && src.pixel == camera.PixelFormatI420:
		copyPlane(dst.planes[0], src.planes[0], w, h)
		d, u, v := dst.planes[1], src.planes[1], src.planes[2]
		for y := 0; y < ch; y++ {
			row := d.data[y*d.stride:]
			ur, vr := u.data[y*u.stride:], v.data[y*v.stride:]
			if len(row) < 2*cw || len(ur) < cw || len(vr) < cw {
				break
			}
			for x := 0; x < cw; x++ {
				row[2*x], row[2*x+1] = ur[x], vr[x]
			}
		}
	case dst.pixel == camera.PixelFormatI420 && src.pixel == camera.PixelFormatNV12:
		copyPlane(dst.planes[0], src.planes[0], w, h)
		s, u, v := src.planes[1], dst.planes[1], dst.planes[2]
		for y := 0; y < ch; y++ {
			row := s.data[y*s.stride:]
			ur, vr := u.data[y*u.stride:], v.data[y*v.stride:]
			if len(row) < 2*cw || len(ur) < cw || len(vr) < cw {
				break
			}
			for x := 0; x < cw; x++ {
				ur[x], vr[x] = row[2*x], row[2*x+1]
			}
		}
	default:
		return fmt.Errorf("cannot copy %s into %s", src.pixel, dst.pixel)
	}
	return nil
}

// imagePicture views an I420 image as a picture.
func imagePicture(img *image.YCbCr) picture {
	return picture{
		pixel: camera.PixelFormatI420, width: img.Rect.Dx(), height: img.Rect.Dy(),
		planes: [3]plane{{img.Y, img.YStride}, {img.Cb, img.CStride}, {img.Cr, img.CStride}},
	}
}
