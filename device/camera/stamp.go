package camera

import (
	"encoding/binary"
	"fmt"
	"image"
	"time"
)

// Stamp is what a picture carries about itself so a receiver can measure
// latency and loss after lossy coding: its frame number and capture time
// (millisecond precision).
type Stamp struct {
	Frame uint32
	Time  time.Time
}

// The stamp is 96 bits drawn as a grid of large black and white cells near
// the top of the luma plane, centred, with a mid-grey border one cell wide:
//
//	bytes 0..3   frame number, big-endian
//	bytes 4..9   capture time, Unix milliseconds, low 48 bits (until year 10889)
//	bytes 10..11 CRC-16/CCITT-FALSE over bytes 0..9
//
// Bit i (most significant first) is cell (i/32, i%32), white for 1. The
// geometry depends only on the picture size, so a reader needs no search.
const (
	stampCols  = 32
	stampRows  = 3
	stampBytes = stampCols * stampRows / 8

	lumaBlack = 16 // video-range black and white: what encoders expect
	lumaWhite = 235
	lumaGrey  = 128
	// A cell must read this far from the threshold to count; anything
	// murkier is damage, and ReadStamp refuses rather than guess.
	lumaThreshold = (lumaBlack + lumaWhite) / 2
	minContrast   = 40
)

type stampLayout struct {
	x0, y0, cell int // top-left of cell (0,0), cell side in pixels
}

// layoutStamp sizes cells to about 1/36 of the width (32 columns plus
// margins), a multiple of 8 when that large so cells align with 8x8 codec
// blocks, and never below 4 pixels (2 chroma samples).
func layoutStamp(width, height int) (stampLayout, bool) {
	cell := width / (stampCols + 4)
	if cell >= 8 {
		cell &^= 7
	} else {
		cell &^= 1
	}
	if limit := height / (stampRows + 2); cell > limit {
		cell = limit &^ 1
	}
	if cell < 4 {
		return stampLayout{}, false
	}
	x0 := ((width - stampCols*cell) / 2) &^ 7
	if x0 < cell {
		x0 = cell
	}
	return stampLayout{x0: x0, y0: cell, cell: cell}, true
}

// StampRect is the part of a width x height picture that DrawStamp paints
// (cells plus border); empty when the picture is too small for a stamp.
// Sources drawing a stamp should keep chroma neutral (128) under it.
func StampRect(width, height int) image.Rectangle {
	l, ok := layoutStamp(width, height)
	if !ok {
		return image.Rectangle{}
	}
	return image.Rect(l.x0-l.cell, l.y0-l.cell, l.x0+(stampCols+1)*l.cell, l.y0+(stampRows+1)*l.cell)
}

func planeFits(y []byte, stride, width, height int) bool {
	return width > 0 && height > 0 && stride >= width && len(y) >= stride*(height-1)+width
}

func (s Stamp) bits() [stampBytes]byte {
	var b [stampBytes]byte
	binary.BigEndian.PutUint32(b[0:4], s.Frame)
	ms := uint64(s.Time.UnixMilli())
	b[4], b[5] = byte(ms>>40), byte(ms>>32)
	binary.BigEndian.PutUint32(b[6:10], uint32(ms))
	binary.BigEndian.PutUint16(b[10:12], crc16(b[:10]))
	return b
}

// crc16 is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): it catches every
// single- and double-cell error in the 96 bits.
func crc16(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, b := range data {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// DrawStamp paints s into the luma plane y (stride bytes per line) of a
// width x height picture. It does nothing when the picture is too small
// for a stamp or y is shorter than the size says.
func DrawStamp(y []byte, stride, width, height int, s Stamp) {
	l, ok := layoutStamp(width, height)
	if !ok || !planeFits(y, stride, width, height) {
		return
	}
	r := StampRect(width, height)
	for row := r.Min.Y; row < r.Max.Y; row++ {
		fill(y[row*stride+r.Min.X:row*stride+r.Max.X], lumaGrey)
	}
	b := s.bits()
	for i := range stampCols * stampRows {
		if b[i/8]>>(7-i%8)&1 == 0 {
			fillRect(y, stride, l.cellRect(i/stampCols, i%stampCols), lumaBlack)
		} else {
			fillRect(y, stride, l.cellRect(i/stampCols, i%stampCols), lumaWhite)
		}
	}
}

func (l stampLayout) cellRect(row, col int) image.Rectangle {
	x, y := l.x0+col*l.cell, l.y0+row*l.cell
	return image.Rect(x, y, x+l.cell, y+l.cell)
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

func fillRect(y []byte, stride int, r image.Rectangle, v byte) {
	for row := r.Min.Y; row < r.Max.Y; row++ {
		fill(y[row*stride+r.Min.X:row*stride+r.Max.X], v)
	}
}

// innerMean averages the middle half of a cell (each way), away from the
// edges that blur in coding.
func innerMean(y []byte, stride int, r image.Rectangle) int {
	q := r.Dx() / 4
	inner := r.Inset(q)
	sum, n := 0, 0
	for row := inner.Min.Y; row < inner.Max.Y; row++ {
		for _, v := range y[row*stride+inner.Min.X : row*stride+inner.Max.X] {
			sum += int(v)
		}
		n += inner.Dx()
	}
	return sum / n
}

// ReadStamp reads back a stamp drawn by DrawStamp, possibly after lossy
// coding. It fails with ErrNoStamp, never a wrong value, when the picture
// is too small, a cell is neither clearly black nor white, the grey border
// is missing, or the CRC does not match.
func ReadStamp(y []byte, stride, width, height int) (Stamp, error) {
	l, ok := layoutStamp(width, height)
	if !ok {
		return Stamp{}, fmt.Errorf("read stamp: picture %dx%d too small: %w", width, height, ErrNoStamp)
	}
	if !planeFits(y, stride, width, height) {
		return Stamp{}, fmt.Errorf("read stamp: luma plane of %d bytes too short for %dx%d with stride %d: %w", len(y), width, height, stride, ErrNoStamp)
	}
	// The border cells left and right of each row must be grey: a picture
	// that merely has black and white blobs there is not a stamp.
	for row := range stampRows {
		for _, col := range []int{-1, stampCols} {
			if m := innerMean(y, stride, l.cellRect(row, col)); abs(m-lumaGrey) >= minContrast {
				return Stamp{}, fmt.Errorf("read stamp: border at row %d reads %d, not grey: %w", row, m, ErrNoStamp)
			}
		}
	}
	var b [stampBytes]byte
	for i := range stampCols * stampRows {
		m := innerMean(y, stride, l.cellRect(i/stampCols, i%stampCols))
		if abs(m-lumaThreshold) < minContrast {
			return Stamp{}, fmt.Errorf("read stamp: cell %d,%d reads %d, neither black nor white: %w", i/stampCols, i%stampCols, m, ErrNoStamp)
		}
		if m > lumaThreshold {
			b[i/8] |= 1 << (7 - i%8)
		}
	}
	if got, want := binary.BigEndian.Uint16(b[10:12]), crc16(b[:10]); got != want {
		return Stamp{}, fmt.Errorf("read stamp: CRC %04x, computed %04x: %w", got, want, ErrNoStamp)
	}
	ms := uint64(b[4])<<40 | uint64(b[5])<<32 | uint64(binary.BigEndian.Uint32(b[6:10]))
	return Stamp{Frame: binary.BigEndian.Uint32(b[0:4]), Time: time.UnixMilli(int64(ms))}, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
