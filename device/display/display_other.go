//go:build !linux

package display

import "fmt"

const (
	DefaultDRMDevice         = "/dev/dri/card0"
	DefaultFramebufferDevice = "/dev/fb0"
)

// OpenDRM needs Linux.
func OpenDRM(path string) (Renderer, error) {
	return nil, fmt.Errorf("open %s: %w (DRM/KMS needs Linux)", path, ErrNoDisplay)
}

// OpenFramebuffer needs Linux.
func OpenFramebuffer(path string) (Renderer, error) {
	return nil, fmt.Errorf("open %s: %w (frame buffer devices need Linux)", path, ErrNoDisplay)
}
