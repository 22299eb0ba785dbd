package camera

import "testing"

func TestDMABufHolds(t *testing.T) {
	mem := make([]byte, 64)
	other := make([]byte, 64)
	b := &DMABuf{FD: 3, Length: len(mem), mem: mem}
	tests := []struct {
		name string
		buf  *DMABuf
		data []byte
		want bool
	}{
		{"the whole buffer", b, mem, true},
		{"the picture's bytes at its start", b, mem[:40], true},
		{"a converted copy", b, other, false},
		{"a part further in", b, mem[8:], false},
		{"no data", b, nil, false},
		{"no buffer", nil, mem, false},
		{"a buffer with no mapping", &DMABuf{FD: 3, Length: 64}, mem, false},
	}
	for _, tt := range tests {
		if got := tt.buf.Holds(tt.data); got != tt.want {
			t.Errorf("%s: Holds = %v, want %v", tt.name, got, tt.want)
		}
	}
}
