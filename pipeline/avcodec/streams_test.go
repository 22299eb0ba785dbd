package avcodec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// videoStream is a coded test stream split into the frames a decoder takes,
// with the pictures FFmpeg itself decodes from it.
type videoStream struct {
	codec      string   // "H264" or "VP8"
	frames     [][]byte // access units or VP8 frames
	width      int
	height     int
	references []byte // ffmpeg's decode of the stream: yuv420p pictures, one after another
}

// streamSpec says what stream to make.
type streamSpec struct {
	codec         string
	width, height int
	frames        int
	pixelFormat   string // "" for yuv420p
}

func (s streamSpec) String() string {
	return fmt.Sprintf("%s %dx%d", s.codec, s.width, s.height)
}

// runFFmpeg runs the ffmpeg command line tool, which the tests need.
func runFFmpeg(tb testing.TB, args ...string) {
	tb.Helper()
	path, err := exec.LookPath("ffmpeg")
	if err != nil {
		tb.Fatalf("these tests make their streams with ffmpeg (apt install ffmpeg): %v", err)
	}
	all := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)
	cmd := exec.CommandContext(tb.Context(), path, all...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// makeVideoStream encodes a test pattern with ffmpeg the way a WebRTC peer
// would (no B-frames, no hidden frames), splits it into frames, and decodes
// reference pictures with ffmpeg.
func makeVideoStream(tb testing.TB, spec streamSpec) videoStream {
	tb.Helper()
	dir := tb.TempDir()
	source := []string{
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=30", spec.width, spec.height),
		"-frames:v", fmt.Sprint(spec.frames),
	}
	pixelFormat := spec.pixelFormat
	if pixelFormat == "" {
		pixelFormat = "yuv420p"
	}
	var coded string
	var args []string
	switch spec.codec {
	case "H264":
		coded = filepath.Join(dir, "stream.h264")
		profile := "baseline"
		if pixelFormat != "yuv420p" {
			profile = "high444"
		}
		args = append(source, "-pix_fmt", pixelFormat, "-c:v", "libx264", "-profile:v", profile,
			"-preset", "veryfast", "-tune", "zerolatency", "-x264-params", "aud=1",
			"-bsf:v", "h264_mp4toannexb", "-f", "h264", coded)
	case "VP8":
		coded = filepath.Join(dir, "stream.ivf")
		args = append(source, "-pix_fmt", pixelFormat, "-c:v", "libvpx", "-deadline", "realtime",
			"-cpu-used", "8", "-lag-in-frames", "0", "-auto-alt-ref", "0", "-b:v", "500k", "-f", "ivf", coded)
	default:
		tb.Fatalf("no stream recipe for codec %q", spec.codec)
	}
	runFFmpeg(tb, args...)
	data, err := os.ReadFile(coded)
	if err != nil {
		tb.Fatal(err)
	}
	stream := videoStream{codec: spec.codec, width: spec.width, height: spec.height}
	if spec.codec == "H264" {
		stream.frames = splitAccessUnits(data)
	} else {
		stream.frames, err = splitIVF(data)
		if err != nil {
			tb.Fatalf("%s: %v", coded, err)
		}
	}
	if len(stream.frames) != spec.frames {
		tb.Fatalf("%s: split into %d frames, ffmpeg was asked for %d", coded, len(stream.frames), spec.frames)
	}
	if pixelFormat == "yuv420p" {
		raw := filepath.Join(dir, "reference.yuv")
		runFFmpeg(tb, "-i", coded, "-f", "rawvideo", "-pix_fmt", "yuv420p", raw)
		if stream.references, err = os.ReadFile(raw); err != nil {
			tb.Fatal(err)
		}
	}
	return stream
}

// reference returns ffmpeg's decode of picture i as planes.
func (s videoStream) reference(i int) (y, cb, cr []byte) {
	chromaWidth, chromaHeight := (s.width+1)/2, (s.height+1)/2
	lumaSize, chromaSize := s.width*s.height, chromaWidth*chromaHeight
	picture := s.references[i*(lumaSize+2*chromaSize):]
	return picture[:lumaSize], picture[lumaSize : lumaSize+chromaSize], picture[lumaSize+chromaSize : lumaSize+2*chromaSize]
}

// splitAccessUnits splits an Annex-B H.264 stream at its access unit
// delimiters (ffmpeg is asked for them with -x264-params aud=1).
func splitAccessUnits(stream []byte) [][]byte {
	var units [][]byte
	start := -1
	for i := 0; i+3 < len(stream); i++ {
		if stream[i] != 0 || stream[i+1] != 0 || stream[i+2] != 1 {
			continue
		}
		const nalAccessUnitDelimiter = 9
		if stream[i+3]&0x1f == nalAccessUnitDelimiter {
			begin := i
			if begin > 0 && stream[begin-1] == 0 { // four-byte start code
				begin--
			}
			if start >= 0 {
				units = append(units, stream[start:begin])
			}
			start = begin
		}
		i += 2
	}
	if start >= 0 {
		units = append(units, stream[start:])
	}
	return units
}

// splitIVF splits an IVF file (a 32-byte file header, then frames each after
// a 12-byte header holding their size) into frames.
func splitIVF(file []byte) ([][]byte, error) {
	if len(file) < 32 || !bytes.HasPrefix(file, []byte("DKIF")) {
		return nil, fmt.Errorf("not an IVF file")
	}
	var frames [][]byte
	rest := file[binary.LittleEndian.Uint16(file[6:8]):]
	for len(rest) > 0 {
		if len(rest) < 12 {
			return nil, fmt.Errorf("IVF frame header truncated")
		}
		size := int(binary.LittleEndian.Uint32(rest[:4]))
		if size > len(rest)-12 {
			return nil, fmt.Errorf("IVF frame of %d bytes truncated", size)
		}
		frames = append(frames, rest[12:12+size])
		rest = rest[12+size:]
	}
	return frames, nil
}

// meanAbsDiff compares width x height of plane (stride apart) with packed
// reference.
func meanAbsDiff(plane []byte, stride int, reference []byte, width, height int) float64 {
	var sum int
	for y := range height {
		for x := range width {
			d := int(plane[y*stride+x]) - int(reference[y*width+x])
			sum += max(d, -d)
		}
	}
	return float64(sum) / float64(width*height)
}

// comparePicture fails the test if the picture is not the reference picture
// i of the stream, to within rounding.
func comparePicture(t *testing.T, stream videoStream, i int, picture *image.YCbCr) {
	t.Helper()
	if picture.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Fatalf("picture %d: subsample ratio %v, want 4:2:0", i, picture.SubsampleRatio)
	}
	if got := picture.Rect.Size(); got != image.Pt(stream.width, stream.height) {
		t.Fatalf("picture %d: size %v, want %dx%d", i, got, stream.width, stream.height)
	}
	y, cb, cr := stream.reference(i)
	chromaWidth, chromaHeight := (stream.width+1)/2, (stream.height+1)/2
	for _, plane := range []struct {
		name      string
		got       []byte
		stride    int
		want      []byte
		w, h      int
		tolerance float64
	}{
		{"luma", picture.Y, picture.YStride, y, stream.width, stream.height, 2},
		{"Cb", picture.Cb, picture.CStride, cb, chromaWidth, chromaHeight, 2},
		{"Cr", picture.Cr, picture.CStride, cr, chromaWidth, chromaHeight, 2},
	} {
		if d := meanAbsDiff(plane.got, plane.stride, plane.want, plane.w, plane.h); d >= plane.tolerance {
			t.Errorf("picture %d: %s differs from ffmpeg's decode by %.2f on average", i, plane.name, d)
		}
	}
}
