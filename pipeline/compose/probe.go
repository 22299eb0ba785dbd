package compose

import (
	"image"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
)

// ReadTileStamp reads the camera.Stamp of a test-pattern picture of the
// given size that was drawn scaled into r of f: it samples r back to that
// size as luma and reads the stamp there. Tests and the benchmark use it to
// see which frame a tile shows.
func ReadTileStamp(f *display.Frame, r image.Rectangle, size image.Point) (camera.Stamp, error) {
	luma := Luma(f, r, size)
	return camera.ReadStamp(luma, size.X, size.X, size.Y)
}

// Luma samples r of f (nearest pixel) into a size.X x size.Y luma plane in
// video range, as an encoder would see the picture.
func Luma(f *display.Frame, r image.Rectangle, size image.Point) []byte {
	out := make([]byte, size.X*size.Y)
	r = r.Intersect(f.Bounds())
	if r.Empty() || size.X <= 0 || size.Y <= 0 {
		return out
	}
	for y := range size.Y {
		sy := r.Min.Y + (2*y+1)*r.Dy()/(2*size.Y)
		row := f.Pix[sy*f.Stride:]
		for x := range size.X {
			sx := r.Min.X + (2*x+1)*r.Dx()/(2*size.X)
			b, g, rd := int(row[4*sx]), int(row[4*sx+1]), int(row[4*sx+2])
			// BT.601 full-range RGB to video-range luma.
			out[y*size.X+x] = byte(16 + (66*rd+129*g+25*b+128)>>8)
		}
	}
	return out
}

// MeanColor is the average colour of r in f as 0xRRGGBB.
func MeanColor(f *display.Frame, r image.Rectangle) Color {
	r = r.Intersect(f.Bounds())
	if r.Empty() {
		return 0
	}
	var sr, sg, sb int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := f.Pix[y*f.Stride:]
		for x := r.Min.X; x < r.Max.X; x++ {
			sb += int(row[4*x])
			sg += int(row[4*x+1])
			sr += int(row[4*x+2])
		}
	}
	n := r.Dx() * r.Dy()
	return Color((sr/n)<<16 | (sg/n)<<8 | sb/n)
}

// Count is how many pixels of r in f have colour c exactly.
func Count(f *display.Frame, r image.Rectangle, c Color) int {
	r = r.Intersect(f.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := f.Pix[y*f.Stride:]
		for x := r.Min.X; x < r.Max.X; x++ {
			if Color(row[4*x+2])<<16|Color(row[4*x+1])<<8|Color(row[4*x]) == c {
				n++
			}
		}
	}
	return n
}

// FindText finds s drawn by the screen's built-in font in r of f, in any
// of the screen's text colours and at any scale up to 8, and says where
// its top-left corner is. Tests use it to read what a person would read.
func FindText(f *display.Frame, r image.Rectangle, s string) (image.Point, bool) {
	r = r.Intersect(f.Bounds())
	for scale := 1; scale <= 8; scale++ {
		size := textSize(s, scale)
		mask := display.NewFrame(size.X, size.Y)
		drawText(mask, image.Point{}, s, scale, colorText, mask.Bounds())
		var on, off []image.Point
		for y := range size.Y {
			for x := range size.X {
				if mask.Pix[y*mask.Stride+4*x+3] != 0 { // drawn: fillRect sets the unused byte
					on = append(on, image.Pt(x, y))
				} else {
					off = append(off, image.Pt(x, y))
				}
			}
		}
		if len(on) == 0 {
			return image.Point{}, false
		}
		for _, c := range []Color{colorText, colorCardText, colorCardTitle} {
			pixel := func(p image.Point) Color {
				i := p.Y*f.Stride + 4*p.X
				return Color(f.Pix[i+2])<<16 | Color(f.Pix[i+1])<<8 | Color(f.Pix[i])
			}
			for y := r.Min.Y; y+size.Y <= r.Max.Y; y++ {
			next:
				for x := r.Min.X; x+size.X <= r.Max.X; x++ {
					at := image.Pt(x, y)
					for _, p := range on {
						if pixel(at.Add(p)) != c {
							continue next
						}
					}
					for _, p := range off {
						if pixel(at.Add(p)) == c {
							continue next
						}
					}
					return at, true
				}
			}
		}
	}
	return image.Point{}, false
}
