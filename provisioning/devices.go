package provisioning

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
)

// Device is a camera or microphone the page offers.
type Device struct {
	ID    string `json:"id"`    // what the settings hold: /dev/video0, hw:1,0, testpattern
	Label string `json:"label"` // what a person reads
}

// Devices finds the cameras and microphones, and takes preview pictures.
// The real one asks device/camera and device/audio; tests give a fake.
type Devices interface {
	Cameras() []Device
	Microphones() []Device
	// Snapshot returns one picture from camera as a JPEG.
	Snapshot(ctx context.Context, camera string) ([]byte, error)
}

// SystemDevices is the box's own cameras and sound cards, always with the
// synthetic test pattern and tone first.
type SystemDevices struct{}

func (SystemDevices) Cameras() []Device {
	list := []Device{{ID: config.CameraTestPattern, Label: "Test pattern (no camera)"}}
	infos, _ := camera.ListDevices()
	for _, in := range infos {
		if in.Capture {
			list = append(list, Device{ID: in.Path, Label: in.Card + " (" + in.Path + ")"})
		}
	}
	return list
}

func (SystemDevices) Microphones() []Device {
	list := []Device{{ID: config.MicrophoneTone, Label: "Test tone (no microphone)"}}
	for _, d := range audio.ListDevices() {
		if d.Capture {
			list = append(list, Device{ID: d.ID, Label: d.Label()})
		}
	}
	return list
}

// Snapshot opens cam, takes one picture and closes it again. A camera in
// use by the call is busy: the error says so.
func (SystemDevices) Snapshot(ctx context.Context, cam string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var src camera.Source
	var err error
	if cam == config.CameraTestPattern {
		src, err = camera.NewTestPattern(camera.TestPatternOptions{Width: 640, Height: 360, FPS: 30})
	} else {
		src, err = camera.Open(ctx, camera.OpenOptions{Device: cam, Width: 640, Height: 360, FPS: 30})
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()
	frame, err := src.ReadFrame(ctx)
	if err != nil {
		return nil, fmt.Errorf("camera %s: %w", cam, err)
	}
	return frameJPEG(frame)
}

// frameJPEG codes a frame as a JPEG for the preview.
func frameJPEG(f camera.Frame) ([]byte, error) {
	w, h := f.Format.Width, f.Format.Height
	stride := f.Format.Stride
	if stride == 0 {
		stride = w
	}
	var img image.Image
	switch f.Format.Pixel {
	case camera.PixelFormatMJPEG:
		return append([]byte(nil), f.Data...), nil
	case camera.PixelFormatI420, camera.PixelFormatNV12:
		ySize := stride * h
		cSize := (stride / 2) * (h / 2)
		if len(f.Data) < ySize+2*cSize {
			return nil, fmt.Errorf("preview: a %s frame of %d bytes is short", f.Format, len(f.Data))
		}
		yc := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		for row := range h {
			copy(yc.Y[row*yc.YStride:row*yc.YStride+w], f.Data[row*stride:])
		}
		for row := range h / 2 {
			for col := range w / 2 {
				var cb, cr byte
				if f.Format.Pixel == camera.PixelFormatI420 {
					cb = f.Data[ySize+row*(stride/2)+col]
					cr = f.Data[ySize+cSize+row*(stride/2)+col]
				} else {
					cb = f.Data[ySize+row*stride+2*col]
					cr = f.Data[ySize+row*stride+2*col+1]
				}
				yc.Cb[row*yc.CStride+col], yc.Cr[row*yc.CStride+col] = cb, cr
			}
		}
		img = yc
	case camera.PixelFormatYUYV:
		if stride < 2*w {
			stride = 2 * w
		}
		if len(f.Data) < stride*h {
			return nil, fmt.Errorf("preview: a %s frame of %d bytes is short", f.Format, len(f.Data))
		}
		yc := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio422)
		for row := range h {
			line := f.Data[row*stride:]
			for col := 0; col+1 < w; col += 2 {
				yc.Y[row*yc.YStride+col] = line[2*col]
				yc.Cb[row*yc.CStride+col/2] = line[2*col+1]
				yc.Y[row*yc.YStride+col+1] = line[2*col+2]
				yc.Cr[row*yc.CStride+col/2] = line[2*col+3]
			}
		}
		img = yc
	default:
		return nil, fmt.Errorf("preview: pixel format %s is not supported", f.Format.Pixel)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70}); err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	return buf.Bytes(), nil
}

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	writeJSON(w, http.StatusOK, map[string][]Device{
		"cameras": s.devices.Cameras(), "microphones": s.devices.Microphones(),
	})
}

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	cam := r.URL.Query().Get("camera")
	known := false
	for _, d := range s.devices.Cameras() {
		known = known || d.ID == cam
	}
	if !known {
		writeError(w, http.StatusBadRequest, "camera must be one of those /api/devices lists")
		return
	}
	jpg, err := s.devices.Snapshot(r.Context(), cam)
	if err != nil {
		writeError(w, http.StatusConflict, "no picture from this camera now (it may be in use by the call): "+oneLine(err))
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(jpg)
}
