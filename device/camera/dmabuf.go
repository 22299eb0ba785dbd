package camera

import "fmt"

// DMABuf is a frame's driver buffer exported as a DMABUF: a file
// descriptor another device can import to read the picture without a copy.
// It belongs to the driver that made it (closed by its Close) and is valid
// as long as the Frame that carries it.
type DMABuf struct {
	// FD is the DMABUF file descriptor of the whole buffer.
	FD int
	// Length is the buffer's size in bytes (V4L2's length), at least the
	// picture's.
	Length int
	// mem is the same buffer, mapped: the memory a Frame's Data of this
	// buffer starts at.
	mem []byte
}

// NewDMABuf describes the driver buffer mapped at mem and exported as the
// DMABUF fd: for a driver (device/camera/v4l2) to hand out with its frames.
func NewDMABuf(fd int, mem []byte) DMABuf { return DMABuf{FD: fd, Length: len(mem), mem: mem} }

// Holds reports whether data is the picture in this buffer, that is,
// starts where the buffer does. A frame whose Data was replaced on the way
// (converted, scaled) keeps its DMABuf field when copied as a struct; this
// is how a reader of the buffer tells that it no longer describes the
// picture. Safe on a nil DMABuf (false).
func (b *DMABuf) Holds(data []byte) bool {
	return b != nil && len(data) > 0 && len(b.mem) > 0 && &data[0] == &b.mem[0]
}

func (b DMABuf) String() string { return fmt.Sprintf("DMABUF fd %d, %d bytes", b.FD, b.Length) }
