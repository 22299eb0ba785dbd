package main

import (
	"errors"
	"image"
	"math"
	"sync"
	"sync/atomic"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/viewer"
)

// sendQuality measures send_psnr_db: how close the pictures a subscriber
// decodes from the box's test pattern are to the pictures the box coded,
// drawn again here from their frame numbers. The stamp is left out (its
// time differs); every fifth picture, while measuring.
type sendQuality struct {
	pattern   *camera.TestPattern // draws the pictures again
	stamp     image.Rectangle
	measuring atomic.Bool

	mu    sync.Mutex
	psnrs []float64
}

func newSendQuality(width, height int) (*sendQuality, error) {
	p, err := camera.NewTestPattern(camera.TestPatternOptions{Width: width, Height: height})
	if err != nil {
		return nil, err
	}
	return &sendQuality{pattern: p, stamp: camera.StampRect(width, height)}, nil
}

// check is the viewer's Check: it reads the stamp, and compares.
func (q *sendQuality) check(pic, previous *image.YCbCr) viewer.Mark {
	m := viewer.ReadStamp(pic, previous)
	f := q.pattern.Format()
	if m.Err != nil || m.Stamp.Frame%5 != 0 || !q.measuring.Load() || pic.Rect.Dx() != f.Width || pic.Rect.Dy() != f.Height {
		return m
	}
	psnr := psnrOutside(q.pattern.Picture(uint64(m.Stamp.Frame)), pic, q.stamp)
	q.mu.Lock()
	q.psnrs = append(q.psnrs, psnr)
	q.mu.Unlock()
	return m
}

// mean is the mean PSNR of the pictures compared.
func (q *sendQuality) mean() (float64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.psnrs) == 0 {
		return 0, errors.New("send_psnr_db: no picture of the box's own size was compared")
	}
	var sum float64
	for _, p := range q.psnrs {
		sum += p
	}
	return sum / float64(len(q.psnrs)), nil
}

// psnrOutside is the PSNR of got against the I420 picture want of the same
// size over all three planes, the luma inside skip left out (capped at
// 99 dB for identical pictures).
func psnrOutside(want []byte, got *image.YCbCr, skip image.Rectangle) float64 {
	w, h := got.Rect.Dx(), got.Rect.Dy()
	var sum float64
	n := 0
	add := func(a []byte, aStride int, b []byte, bStride, w, h int, skip image.Rectangle) {
		for y := range h {
			for x := range w {
				if image.Pt(x, y).In(skip) {
					continue
				}
				d := float64(a[y*aStride+x]) - float64(b[y*bStride+x])
				sum += d * d
				n++
			}
		}
	}
	add(want[:w*h], w, got.Y, got.YStride, w, h, skip)
	add(want[w*h:w*h*5/4], w/2, got.Cb, got.CStride, w/2, h/2, image.Rectangle{})
	add(want[w*h*5/4:], w/2, got.Cr, got.CStride, w/2, h/2, image.Rectangle{})
	if sum == 0 {
		return 99
	}
	return 10 * math.Log10(255*255*float64(n)/sum)
}
