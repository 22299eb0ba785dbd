package v4l2m2m

import (
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

func fourcc(a, b, c, d byte) camera.PixelFormat {
	return camera.PixelFormat(uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24)
}

// Coded and raw formats the package names, in V4L2's fourcc values.
var (
	PixelFormatH264  = fourcc('H', '2', '6', '4')
	PixelFormatVP8   = fourcc('V', 'P', '8', '0')
	PixelFormatFWHT  = fourcc('F', 'W', 'H', 'T')
	PixelFormatRGB24 = fourcc('R', 'G', 'B', '3')
)

// codecFormats maps the codecs a call or the lab uses to their V4L2 coded
// pixel formats.
var codecFormats = map[media.Codec]camera.PixelFormat{
	media.CodecH264: PixelFormatH264,
	media.CodecVP8:  PixelFormatVP8,
	media.CodecFWHT: PixelFormatFWHT,
}

// CodecOf names the codec of a coded V4L2 format, or "" for one the box
// does not know.
func CodecOf(p camera.PixelFormat) media.Codec {
	for c, f := range codecFormats {
		if f == p {
			return c
		}
	}
	return ""
}

// FormatOf is the V4L2 coded format of codec c, 0 for an unknown codec.
func FormatOf(c media.Codec) camera.PixelFormat { return codecFormats[c] }

// rawLayout describes how a raw picture of a format lies in memory, enough
// to copy it between buffers with different line strides.
type rawLayout struct {
	planes int // 1: packed, 2: Y + interleaved CbCr, 3: Y, Cb, Cr
	// bytesPerPixel of the first plane; chroma planes are subsampled 2x2.
	bytesPerPixel int
}

func layoutOf(p camera.PixelFormat) (rawLayout, bool) {
	switch p {
	case camera.PixelFormatI420:
		return rawLayout{planes: 3, bytesPerPixel: 1}, true
	case camera.PixelFormatNV12:
		return rawLayout{planes: 2, bytesPerPixel: 1}, true
	case camera.PixelFormatYUYV:
		return rawLayout{planes: 1, bytesPerPixel: 2}, true
	case PixelFormatRGB24:
		return rawLayout{planes: 1, bytesPerPixel: 3}, true
	}
	return rawLayout{}, false
}
