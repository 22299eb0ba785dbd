package v4l2

import (
	"fmt"
	"math"
	"strings"

	"github.com/callbox/callbox/device/camera"
)

// Want is what the configuration asks of a camera.
type Want struct {
	// Width and Height of the picture; 0x0 means 1280x720.
	Width, Height int
	// FPS is the frame rate; 0 means 30.
	FPS int
	// Pixel forces one pixel format; 0 lets Negotiate choose.
	Pixel camera.PixelFormat
}

// maxUpscale bounds how much smaller than wanted a picked size may be, per
// axis: a 640x480 camera still serves a 1280x720 call (the pipeline scales),
// but asking 4000x3000 of it is a configuration error worth reporting.
const maxUpscale = 2

func (w Want) withDefaults() Want {
	if w.Width == 0 && w.Height == 0 {
		w.Width, w.Height = camera.DefaultWidth, camera.DefaultHeight
	}
	if w.FPS == 0 {
		w.FPS = camera.DefaultFPS
	}
	return w
}

// FormatCaps is what a device offers for one pixel format
// (VIDIOC_ENUM_FMT + VIDIOC_ENUM_FRAMESIZES + VIDIOC_ENUM_FRAMEINTERVALS).
type FormatCaps struct {
	Pixel camera.PixelFormat
	Sizes []SizeCaps
}

// SizeCaps is one frame-size entry. A discrete size has Min == Max; a
// stepwise or continuous range has Min < Max and a step (continuous: 1).
type SizeCaps struct {
	MinWidth, MaxWidth, StepWidth    int
	MinHeight, MaxHeight, StepHeight int
	// Intervals the device offers at this size; for a range, at the size
	// Negotiate picks from it. Empty when the driver does not enumerate them.
	Intervals []IntervalRange
}

// DiscreteSize is a SizeCaps for one fixed size.
func DiscreteSize(width, height int, intervals ...IntervalRange) SizeCaps {
	return SizeCaps{MinWidth: width, MaxWidth: width, MinHeight: height, MaxHeight: height, Intervals: intervals}
}

// IsDiscrete reports whether the entry is one fixed size.
func (s SizeCaps) IsDiscrete() bool {
	return s.MinWidth == s.MaxWidth && s.MinHeight == s.MaxHeight
}

func (s SizeCaps) String() string {
	if s.IsDiscrete() {
		return fmt.Sprintf("%dx%d", s.MinWidth, s.MinHeight)
	}
	return fmt.Sprintf("%dx%d..%dx%d", s.MinWidth, s.MinHeight, s.MaxWidth, s.MaxHeight)
}

// fit is the size this entry would deliver for the wanted one: the wanted
// size clamped into the range and rounded up to the step grid (so it covers
// the wanted size where it can).
func (s SizeCaps) fit(width, height int) (int, int) {
	return snapUp(width, s.MinWidth, s.MaxWidth, s.StepWidth),
		snapUp(height, s.MinHeight, s.MaxHeight, s.StepHeight)
}

func snapUp(v, lo, hi, step int) int {
	if v <= lo || hi <= lo {
		return lo
	}
	if v >= hi {
		return hi
	}
	if step <= 0 {
		step = 1
	}
	n := lo + (v-lo+step-1)/step*step
	if n > hi {
		n -= step
	}
	return n
}

// Interval is a frame period of Num/Den seconds (V4L2's v4l2_fract).
type Interval struct{ Num, Den int }

// FPS is the frame rate this period gives; 0 for a malformed interval.
func (i Interval) FPS() float64 {
	if i.Num <= 0 || i.Den <= 0 {
		return 0
	}
	return float64(i.Den) / float64(i.Num)
}

func (i Interval) seconds() float64 { return float64(i.Num) / float64(i.Den) }

// IntervalRange is one frame-interval entry: discrete (Min == Max),
// stepwise (Step > 0) or continuous (Step zero). Min is the shortest
// period, that is the highest frame rate.
type IntervalRange struct{ Min, Max, Step Interval }

// DiscreteInterval is an IntervalRange for one frame rate, fps frames/s.
func DiscreteInterval(fps int) IntervalRange {
	i := Interval{1, fps}
	return IntervalRange{Min: i, Max: i}
}

// pickInterval chooses the offered period closest in frame rate to fps
// (ties go to the higher rate). With nothing offered it returns 1/fps and
// lets the driver adjust it.
func pickInterval(offered []IntervalRange, fps int) (Interval, float64) {
	best, bestFPS, bestDist := Interval{1, fps}, float64(fps), math.Inf(1)
	for _, r := range offered {
		i, ok := r.closest(fps)
		if !ok {
			continue
		}
		f := i.FPS()
		d := math.Abs(f - float64(fps))
		if d < bestDist || (d == bestDist && f > bestFPS) {
			best, bestFPS, bestDist = i, f, d
		}
	}
	return best, bestFPS
}

func (r IntervalRange) closest(fps int) (Interval, bool) {
	if r.Min.FPS() == 0 || r.Max.FPS() == 0 {
		return Interval{}, false
	}
	want := 1 / float64(fps)
	lo, hi := r.Min.seconds(), r.Max.seconds()
	switch {
	case want <= lo:
		return r.Min, true
	case want >= hi:
		return r.Max, true
	case r.Step.Num <= 0 || r.Step.Den <= 0:
		return Interval{1, fps}, true // continuous: any period in range
	}
	// Stepwise: Min + k*Step, as an exact fraction.
	k := math.Round((want - lo) / r.Step.seconds())
	num := r.Min.Num*r.Step.Den + int(k)*r.Step.Num*r.Min.Den
	den := r.Min.Den * r.Step.Den
	g := gcd(num, den)
	return Interval{num / g, den / g}, true
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}

// pixelPreference lists the formats Callbox understands, best first: raw
// formats avoid a decode, and I420 is what the pipeline encodes, so it
// needs no conversion at all.
var pixelPreference = []camera.PixelFormat{camera.PixelFormatI420, camera.PixelFormatNV12, camera.PixelFormatYUYV, camera.PixelFormatMJPEG}

func pixelRank(p camera.PixelFormat) int {
	for i, q := range pixelPreference {
		if p == q {
			return i
		}
	}
	return -1
}

// Size classes, best first.
const (
	sizeExact = iota
	sizeCovers
	sizeSmaller
)

// choice is a negotiated format plus the exact period to ask the driver for.
type choice struct {
	camera.Format
	interval Interval
	fps      float64

	class, fpsShort, areaDist, rank int
	fpsDist                         float64
}

// better orders candidates: size class (exact, then covering the wanted
// size, then smaller), then whether the rate falls short of the wanted one,
// then nearest area, then pixel preference, then nearest rate. So a camera
// with YUYV 1280x720 at 10 fps and MJPEG 1280x720 at 30 fps gives MJPEG
// for 1280x720@30, and YUYV when both do 30.
func (c choice) better(o choice) bool {
	switch {
	case c.class != o.class:
		return c.class < o.class
	case c.fpsShort != o.fpsShort:
		return c.fpsShort < o.fpsShort
	case c.areaDist != o.areaDist:
		return c.areaDist < o.areaDist
	case c.rank != o.rank:
		return c.rank < o.rank
	default:
		return c.fpsDist < o.fpsDist
	}
}

// Negotiate picks the format to capture in from what a device offers.
//
// Among the formats Callbox understands (I420, NV12, YUYV, MJPEG; or only
// want.Pixel if set) it takes the wanted size if offered, else the smallest
// size covering it, else the largest size below it, but never one smaller
// than half the wanted width or height. Ranges (stepwise, continuous) yield
// the wanted size clamped into the range and rounded up to the step. The
// frame rate is the offered one closest to want.FPS. Errors wrap
// ErrUnsupportedFormat and say what the device offers.
func Negotiate(caps []FormatCaps, want Want) (camera.Format, error) {
	c, err := negotiate(caps, want)
	return c.Format, err
}

func negotiate(caps []FormatCaps, want Want) (choice, error) {
	want = want.withDefaults()
	if want.Width <= 0 || want.Height <= 0 || want.FPS < 0 {
		return choice{}, fmt.Errorf("invalid size %dx%d@%d: %w", want.Width, want.Height, want.FPS, camera.ErrUnsupportedFormat)
	}
	if want.Pixel != 0 && pixelRank(want.Pixel) < 0 {
		return choice{}, fmt.Errorf("pixel format %s: callbox understands only %s: %w", want.Pixel, pixelList(pixelPreference), camera.ErrUnsupportedFormat)
	}
	var usable []FormatCaps
	for _, fc := range caps {
		if want.Pixel != 0 && fc.Pixel != want.Pixel {
			continue
		}
		if pixelRank(fc.Pixel) >= 0 {
			usable = append(usable, fc)
		}
	}
	if len(usable) == 0 {
		var offered []camera.PixelFormat
		for _, fc := range caps {
			offered = append(offered, fc.Pixel)
		}
		if want.Pixel != 0 {
			return choice{}, fmt.Errorf("pixel format %s not offered: device offers %s: %w", want.Pixel, pixelList(offered), camera.ErrUnsupportedFormat)
		}
		return choice{}, fmt.Errorf("no usable pixel format: device offers %s, callbox understands %s: %w", pixelList(offered), pixelList(pixelPreference), camera.ErrUnsupportedFormat)
	}

	var best choice
	found := false
	for _, fc := range usable {
		for _, sc := range fc.Sizes {
			w, h := sc.fit(want.Width, want.Height)
			if w <= 0 || h <= 0 || w*maxUpscale < want.Width || h*maxUpscale < want.Height {
				continue
			}
			iv, fps := pickInterval(sc.Intervals, want.FPS)
			c := choice{
				Format:   camera.Format{Pixel: fc.Pixel, Width: w, Height: h, FPS: int(math.Round(fps))},
				interval: iv,
				fps:      fps,
				areaDist: max(w*h-want.Width*want.Height, want.Width*want.Height-w*h),
				rank:     pixelRank(fc.Pixel),
				fpsDist:  math.Abs(fps - float64(want.FPS)),
			}
			switch {
			case w == want.Width && h == want.Height:
				c.class = sizeExact
			case w >= want.Width && h >= want.Height:
				c.class = sizeCovers
			default:
				c.class = sizeSmaller
			}
			if fps < float64(want.FPS)-0.5 { // 29.97 serves a 30 fps call
				c.fpsShort = 1
			}
			if !found || c.better(best) {
				best, found = c, true
			}
		}
	}
	if !found {
		return choice{}, fmt.Errorf("unsupported size %dx%d: device offers %s: %w", want.Width, want.Height, describeSizes(usable), camera.ErrUnsupportedFormat)
	}
	return best, nil
}

func pixelList(ps []camera.PixelFormat) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// describeSizes renders "640x480, 1280x720 in YUYV; 1920x1080 in MJPG".
func describeSizes(caps []FormatCaps) string {
	var parts []string
	for _, fc := range caps {
		if len(fc.Sizes) == 0 {
			parts = append(parts, "no sizes in "+fc.Pixel.String())
			continue
		}
		s := make([]string, len(fc.Sizes))
		for i, sc := range fc.Sizes {
			s[i] = sc.String()
		}
		parts = append(parts, strings.Join(s, ", ")+" in "+fc.Pixel.String())
	}
	return strings.Join(parts, "; ")
}
