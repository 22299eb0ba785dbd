package v4l2

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/cabi"
	go4vl "github.com/vladimirvivien/go4vl/v4l2"
	"golang.org/x/sys/unix"
)

// TestExportABIMatchesHeader compiles testdata/export_abi.c against the
// kernel's <linux/videodev2.h> and compares struct v4l2_exportbuffer and
// VIDIOC_EXPBUF with ours.
func TestExportABIMatchesHeader(t *testing.T) {
	header := cabi.Header(t, filepath.Join("testdata", "export_abi.c"), "/usr/include/linux/videodev2.h")
	var e v4l2ExportBuffer
	off := func(v uintptr) uint64 { return uint64(v) }
	cabi.Compare(t, header, map[string]uint64{
		"sizeof v4l2_exportbuffer":    off(unsafe.Sizeof(e)),
		"v4l2_exportbuffer.type":      off(unsafe.Offsetof(e.typ)),
		"v4l2_exportbuffer.index":     off(unsafe.Offsetof(e.index)),
		"v4l2_exportbuffer.plane":     off(unsafe.Offsetof(e.plane)),
		"v4l2_exportbuffer.flags":     off(unsafe.Offsetof(e.flags)),
		"v4l2_exportbuffer.fd":        off(unsafe.Offsetof(e.fd)),
		"VIDIOC_EXPBUF":               uint64(vidiocExpBuf),
		"V4L2_BUF_TYPE_VIDEO_CAPTURE": uint64(go4vl.BufTypeVideoCapture),
	})
}

// TestExportRefused: a node that cannot export (here /dev/null, which
// answers ENOTTY as a driver without EXPBUF does) gives a reason in plain
// words and leaks no descriptor.
func TestExportRefused(t *testing.T) {
	fd, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	before := openFDs(t)
	bufs, err := exportBuffers(fd, uint32(go4vl.BufTypeVideoCapture), [][]byte{make([]byte, 16), make([]byte, 16)})
	if err == nil || bufs != nil {
		t.Fatalf("exportBuffers on /dev/null = %v, %v; want an error and nothing", bufs, err)
	}
	if !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "the driver cannot export its buffers") {
		t.Errorf("reason %q; want it to say the driver cannot export (ENOTTY)", err)
	}
	if after := openFDs(t); after != before {
		t.Errorf("open file descriptors went from %d to %d", before, after)
	}
}

func TestExportRefusalWords(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{unix.ENOTTY, "the driver cannot export its buffers to other devices (VIDIOC_EXPBUF: "},
		{unix.EINVAL, "the driver cannot export its buffers"},
		{unix.EMFILE, "no file descriptors left to export buffer 2"},
		{unix.EIO, "exporting buffer 2 failed (VIDIOC_EXPBUF: input/output error)"},
	}
	for _, tt := range tests {
		err := exportRefusal(2, tt.err)
		if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.err) {
			t.Errorf("exportRefusal(%v) = %q; want it to say %q and wrap the errno", tt.err, err, tt.want)
		}
	}
}

// fakeExports gives d n mapped buffers with exports whose descriptors are
// pipe ends, so teardown's closing them can be seen.
func fakeExports(t *testing.T, d *Device, n int) []int {
	t.Helper()
	var fds []int
	for i := range n {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(p[1]) })
		mem := make([]byte, 1000+i)
		d.buffers = append(d.buffers, mem)
		d.exports = append(d.exports, camera.NewDMABuf(p[0], mem))
		fds = append(fds, p[0])
	}
	return fds
}

func TestFrameCarriesItsBuffersExport(t *testing.T) {
	d := quietDevice("/dev/video0")
	fakeExports(t, d, 3)
	t.Cleanup(func() { d.exports, d.buffers = nil, nil })
	f, ok, err := d.frameFrom(go4vl.Buffer{Index: 1, BytesUsed: 600})
	if !ok || err != nil {
		t.Fatal("frameFrom dropped a good buffer")
	}
	if f.DMABuf != &d.exports[1] {
		t.Fatalf("frame of buffer 1 carries %v, want buffer 1's export (%v)", f.DMABuf, d.exports[1])
	}
	if f.DMABuf.Length != 1001 || !f.DMABuf.Holds(f.Data) || len(f.Data) != 600 {
		t.Errorf("export %v with %d bytes of data: want length 1001, holding the frame's data", f.DMABuf, len(f.Data))
	}
	allocs := testing.AllocsPerRun(50, func() { _, _, _ = d.frameFrom(go4vl.Buffer{Index: 2, BytesUsed: 600}) })
	if allocs != 0 {
		t.Errorf("a frame with its export costs %.1f allocations, want 0", allocs)
	}

	plain := quietDevice("/dev/video0")
	plain.buffers = [][]byte{make([]byte, 100)}
	if f, _, _ := plain.frameFrom(go4vl.Buffer{Index: 0, BytesUsed: 100}); f.DMABuf != nil {
		t.Errorf("a device without exports gave a frame with %v", f.DMABuf)
	}
}

func TestCloseClosesExports(t *testing.T) {
	d := quietDevice("/dev/video0")
	fds := fakeExports(t, d, 2)
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
			t.Errorf("exported fd %d still open after Close (F_GETFD: %v)", fd, err)
		}
	}
	if d.exports != nil {
		t.Errorf("exports kept after Close: %v", d.exports)
	}
}
