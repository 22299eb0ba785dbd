package audio

import (
	"context"
	byteorder "encoding/binary"
	"fmt"
	"os"
	"time"
)

// FileSink is a Sink that writes 48 kHz mono 16-bit little-endian samples
// to a file at the pace a sound card would play them: the speaker of tests
// and of boxes without one worth hearing.
type FileSink struct {
	f     *os.File
	start time.Time
	n     int64 // samples written
	buf   []byte
}

// NewFileSink creates (or empties) the file at path.
func NewFileSink(path string) (*FileSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("speaker file: %w", err)
	}
	return &FileSink{f: f}, nil
}

// Write writes pcm once the samples before it would have been played.
func (s *FileSink) Write(ctx context.Context, pcm []int16) error {
	if s.start.IsZero() {
		s.start = time.Now()
	}
	due := s.start.Add(time.Duration(s.n) * time.Second / SampleRate)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(due)):
	}
	s.buf = s.buf[:0]
	for _, v := range pcm {
		s.buf = byteorder.LittleEndian.AppendUint16(s.buf, uint16(v))
	}
	s.n += int64(len(pcm))
	if _, err := s.f.Write(s.buf); err != nil {
		return fmt.Errorf("speaker file: %w", err)
	}
	return nil
}

// Started is when the first sample was written: sample n plays at
// Started() plus n/SampleRate seconds. Zero before the first Write.
func (s *FileSink) Started() time.Time { return s.start }

// Close closes the file.
func (s *FileSink) Close() error { return s.f.Close() }
