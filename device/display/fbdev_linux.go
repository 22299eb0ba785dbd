package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultFramebufferDevice is the first frame buffer device.
const DefaultFramebufferDevice = "/dev/fb0"

// <linux/fb.h>, checked by TestFramebufferABIMatchesHeader.
type fbBitfield struct{ Offset, Length, MsbRight uint32 }

type fbVarScreeninfo struct {
	Xres, Yres, XresVirtual, YresVirtual, Xoffset, Yoffset uint32
	BitsPerPixel, Grayscale                                uint32
	Red, Green, Blue, Transp                               fbBitfield
	Nonstd, Activate, Height, Width, AccelFlags            uint32
	Pixclock, LeftMargin, RightMargin, UpperMargin         uint32
	LowerMargin, HsyncLen, VsyncLen, Sync, Vmode, Rotate   uint32
	Colorspace                                             uint32
	Reserved                                               [4]uint32
}

type fbFixScreeninfo struct {
	ID                             [16]byte
	SmemStart                      uintptr
	SmemLen, Type, TypeAux, Visual uint32
	Xpanstep, Ypanstep, Ywrapstep  uint16
	LineLength                     uint32
	MmioStart                      uintptr
	MmioLen, Accel                 uint32
	Capabilities                   uint16
	Reserved                       [2]uint16
}

const (
	ioctlFbGetVscreeninfo = 0x4600
	ioctlFbGetFscreeninfo = 0x4602
)

// Framebuffer shows frames on a Linux frame buffer device: the fallback for
// boards without KMS. It draws in memory and copies on Present (no vsync).
type Framebuffer struct {
	path   string
	fd     int
	mem    []byte
	screen Frame // the device's memory
	back   *Frame
}

// OpenFramebuffer opens the frame buffer device at path; it must be 32 bits
// per pixel with red, green and blue in XRGB8888 order.
func OpenFramebuffer(path string) (*Framebuffer, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open %s: %w", path, ErrNoDisplay)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	fb := &Framebuffer{path: path, fd: fd}
	if err := fb.setup(); err != nil {
		fb.Close()
		return nil, err
	}
	return fb, nil
}

func (fb *Framebuffer) setup() error {
	var v fbVarScreeninfo
	var f fbFixScreeninfo
	if err := drmIoctl(fb.fd, ioctlFbGetVscreeninfo, unsafe.Pointer(&v)); err != nil {
		return fmt.Errorf("%s: not a frame buffer device: %w", fb.path, err)
	}
	if err := drmIoctl(fb.fd, ioctlFbGetFscreeninfo, unsafe.Pointer(&f)); err != nil {
		return fmt.Errorf("%s: not a frame buffer device: %w", fb.path, err)
	}
	if v.BitsPerPixel != 32 || v.Red.Offset != 16 || v.Green.Offset != 8 || v.Blue.Offset != 0 {
		return fmt.Errorf("%s: %d bits per pixel with red at bit %d, green %d, blue %d; only XRGB8888 (32 bits, 16/8/0) is supported",
			fb.path, v.BitsPerPixel, v.Red.Offset, v.Green.Offset, v.Blue.Offset)
	}
	need := int(f.LineLength) * int(v.Yres)
	if v.Xres == 0 || v.Yres == 0 || int(f.LineLength) < 4*int(v.Xres) || int(f.SmemLen) < need {
		return fmt.Errorf("%s: inconsistent geometry %dx%d, line %d bytes, memory %d bytes", fb.path, v.Xres, v.Yres, f.LineLength, f.SmemLen)
	}
	mem, err := unix.Mmap(fb.fd, 0, int(f.SmemLen), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("%s: mmap: %w", fb.path, err)
	}
	fb.mem = mem
	// Show the visible page (yoffset) of a possibly double-height buffer.
	start := int(v.Yoffset) * int(f.LineLength)
	if start+need > len(mem) {
		start = 0
	}
	fb.screen = Frame{Width: int(v.Xres), Height: int(v.Yres), Stride: int(f.LineLength), Pix: mem[start : start+need]}
	fb.back = NewFrame(int(v.Xres), int(v.Yres))
	return nil
}

func (fb *Framebuffer) Size() image.Point  { return image.Pt(fb.screen.Width, fb.screen.Height) }
func (fb *Framebuffer) BackBuffer() *Frame { return fb.back }

// Present copies the back buffer to the screen.
func (fb *Framebuffer) Present(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fb.screen.copyFrom(fb.back)
	return nil
}

func (fb *Framebuffer) Close() error {
	if fb.mem != nil {
		_ = unix.Munmap(fb.mem)
		fb.mem = nil
	}
	if fb.fd < 0 {
		return nil
	}
	err := unix.Close(fb.fd)
	fb.fd = -1
	return err
}
