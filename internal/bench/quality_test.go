package main

import (
	"image"
	"math"
	"testing"
)

// TestPSNROutside: identical pictures read 99 dB; a difference of 16 in
// every luma value reads 10·log10(255²/(16²·4/6)) over the three planes;
// a difference inside the left-out rectangle counts nothing.
func TestPSNROutside(t *testing.T) {
	const w, h = 16, 8
	want := make([]byte, w*h*3/2)
	got := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	if p := psnrOutside(want, got, image.Rectangle{}); p != 99 {
		t.Errorf("identical pictures: %.2f dB, want 99", p)
	}
	got.Y[0] = 200
	if p := psnrOutside(want, got, image.Rect(0, 0, 1, 1)); p != 99 {
		t.Errorf("a difference left out: %.2f dB, want 99", p)
	}
	for i := range got.Y {
		got.Y[i] = 16
	}
	wantDB := 10 * math.Log10(255*255/(16*16*4.0/6))
	if p := psnrOutside(want, got, image.Rectangle{}); math.Abs(p-wantDB) > 0.01 {
		t.Errorf("luma off by 16: %.2f dB, want %.2f", p, wantDB)
	}
}
