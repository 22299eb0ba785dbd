package pipeline

import (
	"context"
	"image"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// selfViewInterval is how often SelfView shows a picture: ten a second are
// plenty for a mirror, and cost little.
const selfViewInterval = 100 * time.Millisecond

// SelfView is src that also hands the pictures it gives, ten a second, to
// show: the screen's self view of what the camera sends. show gets a view
// of the frame, valid only until it returns (compose.Screen.ShowSelf
// copies it). Only I420 pictures are shown.
func SelfView(src camera.Source, show func(*image.YCbCr)) camera.Source {
	return &selfViewSource{Source: src, show: show}
}

type selfViewSource struct {
	camera.Source
	show func(*image.YCbCr)
	next time.Time
}

func (s *selfViewSource) ReadFrame(ctx context.Context) (camera.Frame, error) {
	f, err := s.Source.ReadFrame(ctx)
	if err != nil || f.Format.Pixel != camera.PixelFormatI420 || time.Now().Before(s.next) {
		return f, err
	}
	s.next = time.Now().Add(selfViewInterval)
	if pic, err := media.I420Image(f); err == nil {
		s.show(pic)
	}
	return f, nil
}
