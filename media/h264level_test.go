package media

import "testing"

func TestH264LevelFor(t *testing.T) {
	for _, tc := range []struct {
		w, h, fps, kbps int
		want            H264Level
		ok              bool
	}{
		{640, 360, 30, 600, 31, true},
		{1280, 720, 30, 1500, 31, true},
		{1280, 720, 60, 3000, 32, true},
		{1920, 1080, 30, 3000, 40, true},
		{1920, 1080, 30, 25000, 41, true}, // the bitrate, not the size, asks for more
		{1920, 1080, 60, 6000, 42, true},
		{3840, 2160, 30, 12000, 51, true},
		{3840, 2160, 60, 20000, 0, false},
		{4096, 2304, 30, 12000, 0, false},
	} {
		got, ok := H264LevelFor(tc.w, tc.h, tc.fps, tc.kbps)
		if got != tc.want || ok != tc.ok {
			t.Errorf("H264LevelFor(%dx%d@%d, %d kbit/s) = %v, %v; want %v, %v", tc.w, tc.h, tc.fps, tc.kbps, got, ok, tc.want, tc.ok)
		}
	}
	if s := H264Level(40).String(); s != "4.0" {
		t.Errorf("level 40 is %q, want 4.0", s)
	}
}
