package audio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// TestFileSinkPlaysAtThePaceOfASoundCard: each block is written when the
// ones before it would have been played, as little-endian samples.
func TestFileSinkPlaysAtThePaceOfASoundCard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sound.raw")
	synctest.Test(t, func(t *testing.T) {
		s, err := NewFileSink(path)
		if err != nil {
			t.Fatal(err)
		}
		block := make([]int16, SampleRate/50) // 20 ms
		block[0], block[1] = 1, -2
		for range 5 {
			if err := s.Write(t.Context(), block); err != nil {
				t.Fatal(err)
			}
		}
		// The fifth block waited until the first four were played.
		if played := time.Since(s.Started()); played != 80*time.Millisecond {
			t.Errorf("five blocks of 20 ms written %v after the first, want 80ms", played)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 5*SampleRate/50*2 || !bytes.Equal(data[:4], []byte{1, 0, 0xfe, 0xff}) {
		t.Errorf("file holds %d bytes starting %x, want %d starting 0100feff", len(data), data[:min(4, len(data))], 5*SampleRate/50*2)
	}
}
