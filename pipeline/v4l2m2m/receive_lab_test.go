package v4l2m2m_test

// The receive path's decoder stage on the lab's drivers, as callboxd runs
// it: pipeline.VideoDecoders probes /dev, finds vicodec's decoder for the
// participant's FWHT video and opens it; compose.Screen decodes every
// frame with it and shows the pictures on the bochs screen through DRM.
// LiveKit cannot carry FWHT, so the frames come from vicodec's encoder
// here, not from a call.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/pipeline/v4l2m2m"
)

func TestLabReceiveDecodesOnTheScreen(t *testing.T) {
	encoderNode, _ := v4l2m2m.LabNodes(t)
	log := v4l2m2m.LabLogger(t)
	const w, h, frames = 640, 360, 20
	enc := v4l2m2m.NewLabEncoder(t, encoderNode, v4l2m2m.EncoderOptions{Width: w, Height: h, Pixel: camera.PixelFormatI420})
	// White on the left half, black on the right: the screen must show
	// the same, so the picture came through the decoder whole.
	pic := make([]byte, w*h*3/2)
	for i := range pic {
		pic[i] = 128 // the chroma: grey
		if i < w*h {
			pic[i] = 16
			if i%w < w/2 {
				pic[i] = 235
			}
		}
	}
	frame := camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: w, Height: h, FPS: 30}, Data: pic}

	decoders := pipeline.NewVideoDecoders(pipeline.VideoDecodersOptions{Mode: config.DecoderAuto, Logger: log,
		Software: func(c media.Codec) (media.VideoDecoder, error) {
			return nil, fmt.Errorf("no software %s decoder: libavcodec does not read it", c)
		}})
	r, err := display.Open(display.Options{Output: "drm"})
	if err != nil {
		t.Fatalf("the lab's screen (bochs DRM): %v", err)
	}
	defer r.Close()
	var mu sync.Mutex
	var layout compose.Layout
	screen := compose.NewScreen(r, compose.ScreenOptions{FPS: 30, NewDecoder: decoders.Open, Logger: log,
		OnDrawn: func(_ *display.Frame, l compose.Layout) { mu.Lock(); layout = l; mu.Unlock() }})
	defer screen.Close()
	screen.SetMembers([]compose.Member{{Identity: "lab", Name: "vicodec", VideoCodec: string(media.CodecFWHT)}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- screen.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil && ctx.Err() == nil {
			t.Errorf("the screen stopped: %v", err)
		}
	}()

	for i := range frames {
		frame.Seq = uint64(i)
		coded, err := enc.Encode(frame)
		if err != nil {
			t.Fatalf("encode frame %d: %v", i, err)
		}
		screen.Video("lab", media.CodecFWHT, coded.Data)
	}
	c := decoders.Choice("lab")
	t.Logf("decoder: %s (%s)", c, c.Reason)
	if !c.Hardware || c.Card != "vicodec" {
		t.Fatalf("the participant's FWHT video is decoded by %+v; want vicodec's decoder", c)
	}
	if n := screen.Shown("lab"); n != frames {
		t.Errorf("the screen showed %d pictures of %d", n, frames)
	}
	shot, err := screen.Capture(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	tile, ok := layout.Tile("lab")
	mu.Unlock()
	if !ok {
		t.Fatalf("no tile for the participant in %+v", layout)
	}
	// The picture is fitted into the tile: sample a quarter in from each
	// side, half way down (above the name label).
	mid := (tile.Rect.Min.Y + tile.Rect.Max.Y) / 2
	left := shot.At(tile.Rect.Min.X+tile.Rect.Dx()/4, mid)
	right := shot.At(tile.Rect.Max.X-tile.Rect.Dx()/4, mid)
	t.Logf("on the screen (%dx%d), tile %v: left %v, right %v", shot.Width, shot.Height, tile.Rect, left, right)
	if left.R < 200 || left.G < 200 || left.B < 200 || right.R > 40 || right.G > 40 || right.B > 40 {
		t.Errorf("the tile shows left %v, right %v; want white and black, as sent", left, right)
	}
}
