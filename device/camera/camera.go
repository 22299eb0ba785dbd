// Package camera owns what video capture hands out: pixel formats, frames
// with capture timestamps (and, when a driver exports them, its buffers as
// DMABUF, for a hardware encoder to read without a copy), the Source
// interface, and the synthetic TestPattern source with its readable Stamp.
// It is pure Go, so that what only handles frames (pipeline/v4l2m2m, the
// media types) links no cgo; the V4L2 driver, over go4vl, is
// device/camera/v4l2. It knows nothing about encoding or calls and does
// not convert pixel formats (the pipeline does).
package camera

import (
	"context"
	"fmt"
	"time"
)

// PixelFormat is a V4L2 fourcc.
type PixelFormat uint32

func fourcc(a, b, c, d byte) PixelFormat {
	return PixelFormat(uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24)
}

// The pixel formats Callbox understands, in V4L2's fourcc values.
var (
	PixelFormatI420  = fourcc('Y', 'U', '1', '2') // planar 4:2:0: Y, then U, then V
	PixelFormatNV12  = fourcc('N', 'V', '1', '2') // Y plane, then interleaved UV
	PixelFormatYUYV  = fourcc('Y', 'U', 'Y', 'V') // packed 4:2:2
	PixelFormatMJPEG = fourcc('M', 'J', 'P', 'G') // one JPEG image per frame
)

func (p PixelFormat) String() string {
	b := []byte{byte(p), byte(p >> 8), byte(p >> 16), byte(p >> 24)}
	return string(b)
}

// What a source gives when asked for nothing in particular.
const (
	DefaultWidth  = 1280
	DefaultHeight = 720
	DefaultFPS    = 30
)

// The largest content (an HDMI input's signal) that is shared: an input's
// larger signal counts as none.
const MaxContentWidth, MaxContentHeight = 1920, 1080

// Format is what a source delivers: pixel layout, size and frame rate.
type Format struct {
	Pixel  PixelFormat
	Width  int
	Height int
	FPS    int
	// Stride is the length in bytes of one line of the first plane
	// (V4L2's bytesperline); 0 means tightly packed.
	Stride int
}

// String is "YUYV 1920x1080@60", or "1920x1080@60" for a format without
// a pixel layout (an HDMI input's signal).
func (f Format) String() string {
	size := fmt.Sprintf("%dx%d@%d", f.Width, f.Height, f.FPS)
	if f.Pixel == 0 {
		return size
	}
	return f.Pixel.String() + " " + size
}

// Frame is one captured picture.
type Frame struct {
	Format Format
	// Data holds the picture as the source produced it. It is valid only
	// until the next ReadFrame or Close on the source that returned it.
	Data []byte
	// Seq counts frames from 0 at stream start.
	Seq uint64
	// Time is when the picture was captured.
	Time time.Time
	// DMABuf is the driver buffer the picture is in, exported for another
	// device to read without a copy (OpenOptions.ExportDMABUF); nil when
	// not exported. Whoever replaces Data must not rely on it: DMABuf.Holds
	// tells whether it still describes Data.
	DMABuf *DMABuf
}

// Source is anything that produces frames: a V4L2 device or a TestPattern.
type Source interface {
	// Format reports the negotiated format.
	Format() Format
	// ReadFrame waits for the next frame.
	ReadFrame(ctx context.Context) (Frame, error)
	// Close stops streaming and releases the device.
	Close() error
}
