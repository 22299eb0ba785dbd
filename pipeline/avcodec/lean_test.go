package avcodec

import (
	"os"
	"strings"
	"testing"
)

// A build through make must link the lean FFmpeg, with the decoders Callbox
// uses: if pkg-config fell back to Debian's, callboxd would quietly carry its
// ninety libraries again (make bench's rss_mb).
func TestMakeLinksTheLeanFFmpeg(t *testing.T) {
	if !leanFFmpegWanted {
		t.Skip("built without make: links the FFmpeg pkg-config finds, Debian's")
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(maps), "/libavcodec.so") {
		t.Errorf("the process maps Debian's shared libavcodec, not the static one of scripts/ffmpeg-lean.sh (is it in PKG_CONFIG_PATH?)")
	}
	if !strings.Contains(configuration(), "--disable-everything") {
		t.Errorf("libavcodec was not configured by scripts/ffmpeg-lean.sh (no --disable-everything in avcodec_configuration())")
	}

	for _, tc := range []struct {
		name string
		open func() (interface{ Close() error }, error)
	}{
		{"H264", func() (interface{ Close() error }, error) { return NewVideoDecoder("H264") }},
		{"VP8", func() (interface{ Close() error }, error) { return NewVideoDecoder("VP8") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := tc.open()
			if err != nil {
				t.Fatalf("the lean FFmpeg has no %s decoder: %v", tc.name, err)
			}
			dec.Close()
		})
	}
}
