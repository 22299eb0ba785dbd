// Package display owns the screen: it shows composed pictures through
// DRM/KMS (dumb buffers, page flip on vblank), falls back to the Linux frame
// buffer device (/dev/fb0), and has an offscreen renderer that keeps the
// picture in memory and can write it as PNG, for tests and screenshots.
//
// It deals only in whole XRGB8888 frames and knows nothing about calls,
// codecs or layout; the pipeline draws the frames. Nothing outside this
// package opens /dev/dri or /dev/fb*.
package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
)

// Frame is one picture in XRGB8888 as DRM and most frame buffers keep it:
// four bytes per pixel in memory order blue, green, red, unused.
type Frame struct {
	Width, Height int
	Stride        int    // bytes from one line to the next, at least 4*Width
	Pix           []byte // Stride*Height bytes
}

// NewFrame makes a black frame in Go memory.
func NewFrame(width, height int) *Frame {
	return &Frame{Width: width, Height: height, Stride: 4 * width, Pix: make([]byte, 4*width*height)}
}

// Bounds is the frame's rectangle, with the origin at the top left.
func (f *Frame) Bounds() image.Rectangle { return image.Rect(0, 0, f.Width, f.Height) }

// RGBA copies the frame into an image the standard library can encode.
func (f *Frame) RGBA() *image.RGBA {
	img := image.NewRGBA(f.Bounds())
	for y := range f.Height {
		src := f.Pix[y*f.Stride : y*f.Stride+4*f.Width]
		dst := img.Pix[y*img.Stride : y*img.Stride+4*f.Width]
		for i := 0; i < len(src); i += 4 {
			dst[i], dst[i+1], dst[i+2], dst[i+3] = src[i+2], src[i+1], src[i], 0xff
		}
	}
	return img
}

// At is the colour of one pixel (slow; for tests and probes).
func (f *Frame) At(x, y int) color.RGBA {
	if !(image.Point{x, y}).In(f.Bounds()) {
		return color.RGBA{}
	}
	i := y*f.Stride + 4*x
	return color.RGBA{R: f.Pix[i+2], G: f.Pix[i+1], B: f.Pix[i], A: 0xff}
}

// copyFrom copies src's pixels into f line by line; the sizes must match.
func (f *Frame) copyFrom(src *Frame) {
	n := 4 * min(f.Width, src.Width)
	for y := range min(f.Height, src.Height) {
		copy(f.Pix[y*f.Stride:y*f.Stride+n], src.Pix[y*src.Stride:y*src.Stride+n])
	}
}

// Renderer shows frames on a screen. The caller draws into BackBuffer and
// then calls Present; a Renderer is used by one goroutine at a time.
type Renderer interface {
	// Size is the screen's size in pixels.
	Size() image.Point
	// BackBuffer is the frame to draw the next picture into. It is not
	// shown until Present, and its content is undefined after Present
	// (with two buffers it holds an older picture).
	BackBuffer() *Frame
	// Present shows the back buffer, waiting for the screen's vertical
	// blank where there is one, or until ctx ends.
	Present(ctx context.Context) error
	// Close gives the screen back and frees the buffers.
	Close() error
}

// ErrNoDisplay: the device asked for is not there.
var ErrNoDisplay = errors.New("no display device")

// Options say which screen to open.
type Options struct {
	// Output is "auto" (DRM/KMS, then the frame buffer device), "drm" or
	// "drm:/dev/dri/cardN", "fbdev" or "fbdev:/dev/fbN", "offscreen", or
	// "png:/path/screen.png" (offscreen, written as PNG after each Present,
	// at most every PNGInterval).
	Output string
	// Width and Height size the offscreen renderer; real screens use
	// their preferred mode.
	Width, Height int
}

// Open opens the screen named by opts.Output.
func Open(opts Options) (Renderer, error) {
	kind, path, _ := strings.Cut(opts.Output, ":")
	switch kind {
	case "auto":
		drm, drmErr := OpenDRM(DefaultDRMDevice)
		if drmErr == nil {
			return drm, nil
		}
		fb, fbErr := OpenFramebuffer(DefaultFramebufferDevice)
		if fbErr == nil {
			return fb, nil
		}
		return nil, fmt.Errorf("display: neither DRM nor frame buffer works: %w; %w", drmErr, fbErr)
	case "drm":
		if path == "" {
			path = DefaultDRMDevice
		}
		return OpenDRM(path)
	case "fbdev":
		if path == "" {
			path = DefaultFramebufferDevice
		}
		return OpenFramebuffer(path)
	case "offscreen", "png":
		if kind == "png" && path == "" {
			return nil, fmt.Errorf("display: output %q names no file (png:/path/screen.png)", opts.Output)
		}
		return NewOffscreen(OffscreenOptions{Width: opts.Width, Height: opts.Height, PNGPath: path})
	}
	return nil, fmt.Errorf("display: output %q is not one of auto, drm, fbdev, offscreen, png:PATH", opts.Output)
}
