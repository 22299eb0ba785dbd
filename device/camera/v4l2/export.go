package v4l2

// DMABUF export of the capture buffers (VIDIOC_EXPBUF), so that another
// device, the hardware encoder, reads the pictures where the camera wrote
// them. go4vl has no EXPBUF, so this is our own ioctl over x/sys/unix;
// TestExportABIMatchesHeader checks the struct and the number against
// <linux/videodev2.h>. This is the package's one definition of EXPBUF.

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
	"golang.org/x/sys/unix"
)

// v4l2ExportBuffer is struct v4l2_exportbuffer.
type v4l2ExportBuffer struct {
	typ      uint32
	index    uint32
	plane    uint32
	flags    uint32
	fd       int32
	reserved [11]uint32
}

// vidiocExpBuf is VIDIOC_EXPBUF, _IOWR('V', 16, struct v4l2_exportbuffer),
// made as the kernel's _IOC macro makes it (the layout x86, arm and arm64
// share).
const vidiocExpBuf = (1|2)<<30 | uintptr(unsafe.Sizeof(v4l2ExportBuffer{}))<<16 | 'V'<<8 | 16

// exportBuffer makes a read-only DMABUF of plane 0 of buffer index of
// queue typ on the V4L2 node fd.
func exportBuffer(fd int, typ, index uint32) (int, error) {
	e := v4l2ExportBuffer{typ: typ, index: index, flags: unix.O_CLOEXEC | unix.O_RDONLY}
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), vidiocExpBuf, uintptr(unsafe.Pointer(&e)))
		switch errno {
		case 0:
			return int(e.fd), nil
		case unix.EINTR:
			continue
		}
		return -1, errno
	}
}

// exportBuffers exports every mapped buffer of the capture queue on fd.
// On failure it closes what it exported and says why in plain words.
func exportBuffers(fd int, typ uint32, mapped [][]byte) ([]camera.DMABuf, error) {
	out := make([]camera.DMABuf, 0, len(mapped))
	for i, mem := range mapped {
		efd, err := exportBuffer(fd, typ, uint32(i))
		if err != nil {
			closeExports(out)
			return nil, exportRefusal(i, err)
		}
		out = append(out, camera.NewDMABuf(efd, mem))
	}
	return out, nil
}

// exportRefusal words an EXPBUF failure for the log.
func exportRefusal(index int, err error) error {
	switch {
	case errors.Is(err, unix.ENOTTY), errors.Is(err, unix.EINVAL):
		return fmt.Errorf("the driver cannot export its buffers to other devices (VIDIOC_EXPBUF: %w)", err)
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		return fmt.Errorf("no file descriptors left to export buffer %d (VIDIOC_EXPBUF: %w)", index, err)
	default:
		return fmt.Errorf("exporting buffer %d failed (VIDIOC_EXPBUF: %w)", index, err)
	}
}

func closeExports(bufs []camera.DMABuf) {
	for _, b := range bufs {
		if b.FD >= 0 {
			unix.Close(b.FD)
		}
	}
}
