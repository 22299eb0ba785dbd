package media_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// TestEachNAL: an access unit as x264 and the m2m encoders write them, with
// four- and three-byte start codes and zeros between NAL units, gives each
// NAL unit without its start code or the zeros.
func TestEachNAL(t *testing.T) {
	sps, pps, slice := []byte{0x67, 0x42, 0x00, 0x1f}, []byte{0x68, 0xce, 0x3c}, []byte{0x65, 0x88, 0x00, 0x03, 0x01}
	var au []byte
	au = append(append(au, 0, 0, 0, 1), sps...)
	au = append(append(au, 0, 0, 1), pps...)
	au = append(au, 0, 0) // zeros before the next start code
	au = append(append(au, 0, 0, 0, 1), slice...)
	var got [][]byte
	media.EachNAL(au, func(nal []byte) { got = append(got, nal) })
	want := [][]byte{sps, pps, slice}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("EachNAL gave %x, want %x", got, want)
	}
	media.EachNAL([]byte{0, 0, 1, 0, 0, 1}, func(nal []byte) { t.Errorf("an empty NAL unit was handed over: %x", nal) })
}

func TestUnescapeRBSP(t *testing.T) {
	in := []byte{0x65, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03}
	want := []byte{0x65, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03}
	if got := media.UnescapeRBSP(in); !bytes.Equal(got, want) {
		t.Errorf("UnescapeRBSP(%x) = %x, want %x", in, got, want)
	}
}

// TestI420Image: the planes of a padded I420 frame sit where the stride
// puts them; a short frame or another format is an error, not a panic.
func TestI420Image(t *testing.T) {
	const w, h, stride = 4, 2, 8
	data := make([]byte, stride*h+2*(stride/2)*(h/2))
	data[stride] = 1            // luma, row 1
	data[stride*h] = 2          // Cb
	data[stride*h+stride/2] = 3 // Cr
	f := camera.Frame{Format: camera.Format{Pixel: camera.PixelFormatI420, Width: w, Height: h, Stride: stride}, Data: data}
	img, err := media.I420Image(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h || img.YStride != stride || img.CStride != stride/2 {
		t.Fatalf("image %v, strides %d and %d; want %dx%d, %d and %d", img.Bounds(), img.YStride, img.CStride, w, h, stride, stride/2)
	}
	if y, cb, cr := img.YCbCrAt(0, 1).Y, img.Cb[0], img.Cr[0]; y != 1 || cb != 2 || cr != 3 {
		t.Errorf("Y at (0,1) = %d, Cb %d, Cr %d; want 1, 2, 3", y, cb, cr)
	}
	short := f
	short.Data = data[:len(data)-1]
	if _, err := media.I420Image(short); err == nil || !strings.Contains(err.Error(), "has 23 bytes, want 24") {
		t.Errorf("a frame a byte short: %v", err)
	}
	nv12 := f
	nv12.Format.Pixel = camera.PixelFormatNV12
	if _, err := media.I420Image(nv12); err == nil || !strings.Contains(err.Error(), "not I420") {
		t.Errorf("an NV12 frame: %v", err)
	}
}
