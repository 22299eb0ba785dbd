package media_test

import (
	"testing"
	"time"

	"github.com/callbox/callbox/media"
)

func TestOpusDuration(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		name   string
		packet []byte
		want   time.Duration
	}{
		{"empty", nil, 0},
		{"SILK NB 10 ms", []byte{0 << 3}, 10 * ms},
		{"SILK WB 20 ms", []byte{9 << 3}, 20 * ms},
		{"SILK WB 60 ms", []byte{11 << 3}, 60 * ms},
		{"hybrid FB 20 ms", []byte{15 << 3}, 20 * ms},
		{"CELT FB 2.5 ms", []byte{28 << 3}, 2500 * time.Microsecond},
		{"CELT FB 20 ms", []byte{31 << 3}, 20 * ms},
		{"two 20 ms frames, code 1", []byte{31<<3 | 1}, 40 * ms},
		{"two frames, code 2", []byte{9<<3 | 2}, 40 * ms},
		{"code 3, 3 frames of 20 ms", []byte{31<<3 | 3, 3}, 60 * ms},
		{"code 3 without its count", []byte{31<<3 | 3}, 0},
		{"code 3, 7 frames of 20 ms: over 120 ms", []byte{31<<3 | 3, 7}, 0},
	} {
		if got := media.OpusDuration(tt.packet); got != tt.want {
			t.Errorf("%s: OpusDuration(% x) = %v, want %v", tt.name, tt.packet, got, tt.want)
		}
	}
}

func TestOpusHasFEC(t *testing.T) {
	for _, tt := range []struct {
		name   string
		packet []byte
		want   bool
	}{
		{"SILK WB 20 ms, VAD and LBRR", []byte{9 << 3, 0xc0}, true},
		{"SILK WB 20 ms, LBRR only", []byte{9 << 3, 0x40}, true},
		{"SILK WB 20 ms, VAD only", []byte{9 << 3, 0x80}, false},
		{"hybrid SWB 20 ms, LBRR", []byte{13 << 3, 0x7f}, true},
		{"SILK 40 ms: not read", []byte{10 << 3, 0x40}, false},
		{"two frames: not read", []byte{9<<3 | 1, 0x40}, false},
		{"CELT: never", []byte{31 << 3, 0x40}, false},
		{"TOC alone", []byte{9 << 3}, false},
	} {
		if got := media.OpusHasFEC(tt.packet); got != tt.want {
			t.Errorf("%s: OpusHasFEC(% x) = %v, want %v", tt.name, tt.packet, got, tt.want)
		}
	}
}
