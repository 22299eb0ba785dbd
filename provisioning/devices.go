package provisioning

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"net/http"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/camera/v4l2"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
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
	infos, _ := v4l2.ListDevices()
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
		src, err = v4l2.Open(ctx, v4l2.OpenOptions{Device: cam, Width: 640, Height: 360, FPS: 30})
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

// frameJPEG codes a frame as a JPEG for the preview: an MJPEG frame as it
// came, any other through the pipeline's converter, as the call sees it.
func frameJPEG(f camera.Frame) ([]byte, error) {
	if f.Format.Pixel == camera.PixelFormatMJPEG {
		return append([]byte(nil), f.Data...), nil
	}
	var conv pipeline.Converter
	defer conv.Close()
	i420, err := conv.ToI420(f)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	img, err := media.I420Image(i420)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
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
	_, _ = w.Write(jpg) // a phone that went away has no one to tell
}
