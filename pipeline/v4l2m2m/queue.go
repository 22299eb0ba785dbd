package v4l2m2m

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errLastBuffer is what DQBUF says (EPIPE) after the buffer marked LAST.
var errLastBuffer = errors.New("the last buffer was already dequeued")

// queue is one of a device's two buffer queues. Its buffers are MMAP
// buffers mapped into our memory, or DMABUF slots filled per QBUF with a
// file descriptor from another device. The ioctl arguments are kept in the
// queue so streaming allocates nothing per frame.
type queue struct {
	d         *device
	typ       uint32
	name      string // "OUTPUT" or "CAPTURE", as the spec calls them
	memory    uint32
	bufs      [][][]byte // per buffer, per plane: the mapped memory (nil for DMABUF)
	queued    []bool
	streaming bool

	vb     v4l2Buffer
	planes [videoMaxPlanes]v4l2Plane
}

func newQueue(d *device, typ uint32) *queue {
	name := "OUTPUT"
	if typ == d.capType {
		name = "CAPTURE"
	}
	return &queue{d: d, typ: typ, name: name, memory: memoryMMAP}
}

func (q *queue) wrap(step string, err error) error { return q.d.wrap(step+" "+q.name, err) }

// allocate asks for count buffers of the queue's memory kind and maps MMAP
// ones. It returns how many the driver gave.
func (q *queue) allocate(count int, memory uint32) (int, error) {
	q.memory = memory
	rb := v4l2RequestBuffers{count: uint32(count), typ: q.typ, memory: memory}
	if err := ioctl(q.d.fd, vidiocReqBufs, unsafe.Pointer(&rb)); err != nil {
		return 0, q.wrap(fmt.Sprintf("VIDIOC_REQBUFS %d %s", count, memoryName(memory)), err)
	}
	if rb.count == 0 {
		return 0, q.wrap("VIDIOC_REQBUFS", fmt.Errorf("driver gave no buffers"))
	}
	q.bufs = make([][][]byte, rb.count)
	q.queued = make([]bool, rb.count)
	if memory != memoryMMAP {
		return int(rb.count), nil
	}
	for i := range q.bufs {
		q.prepare(uint32(i))
		if err := ioctl(q.d.fd, vidiocQueryBuf, unsafe.Pointer(&q.vb)); err != nil {
			_ = q.release() // QUERYBUF's error is the one to report
			return 0, q.wrap(fmt.Sprintf("VIDIOC_QUERYBUF %d", i), err)
		}
		type span struct{ offset, length uint32 }
		var spans []span
		if q.d.mplane {
			for p := 0; p < int(q.vb.length) && p < videoMaxPlanes; p++ {
				spans = append(spans, span{uint32(q.planes[p].m), q.planes[p].length})
			}
		} else {
			spans = append(spans, span{uint32(q.vb.m), q.vb.length})
		}
		for _, s := range spans {
			mem, err := unix.Mmap(q.d.fd, int64(s.offset), int(s.length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				_ = q.release() // mmap's error is the one to report
				return 0, q.wrap(fmt.Sprintf("mmap buffer %d", i), err)
			}
			q.bufs[i] = append(q.bufs[i], mem)
		}
	}
	return int(rb.count), nil
}

// release unmaps the buffers and frees them in the driver (REQBUFS 0).
// The queue must not be streaming.
func (q *queue) release() error {
	for _, planes := range q.bufs {
		for _, mem := range planes {
			_ = unix.Munmap(mem) // fails only for memory that mmap did not give
		}
	}
	had := q.bufs != nil
	q.bufs, q.queued = nil, nil
	if !had || q.d.fd < 0 {
		return nil
	}
	rb := v4l2RequestBuffers{count: 0, typ: q.typ, memory: q.memory}
	if err := ioctl(q.d.fd, vidiocReqBufs, unsafe.Pointer(&rb)); err != nil {
		return q.wrap("VIDIOC_REQBUFS 0", err)
	}
	return nil
}

// prepare fills the reused v4l2_buffer for buffer index.
func (q *queue) prepare(index uint32) {
	q.vb = v4l2Buffer{index: index, typ: q.typ, memory: q.memory, field: fieldNone}
	if q.d.mplane {
		q.planes = [videoMaxPlanes]v4l2Plane{}
		q.vb.m = uintptr(unsafe.Pointer(&q.planes[0]))
		q.vb.length = videoMaxPlanes
	}
}

// dmabuf is a buffer another device exported (device/camera/v4l2 does
// VIDIOC_EXPBUF; this package only imports).
type dmabuf struct {
	fd     int
	length int
}

// enqueue hands buffer index to the driver (VIDIOC_QBUF). bytesUsed is per
// plane (OUTPUT) or nil (CAPTURE); dma is the buffer for DMABUF queues.
func (q *queue) enqueue(index int, bytesUsed []int, stamp unix.Timeval, dma dmabuf) error {
	q.prepare(uint32(index))
	q.vb.timestamp = stamp
	if q.d.mplane {
		n := max(len(bytesUsed), 1)
		if q.memory == memoryMMAP && len(q.bufs[index]) > 0 {
			n = len(q.bufs[index])
		}
		q.vb.length = uint32(n)
		for p := 0; p < n; p++ {
			if p < len(bytesUsed) {
				q.planes[p].bytesUsed = uint32(bytesUsed[p])
			}
			if q.memory == memoryDMABUF {
				q.planes[p].m = uintptr(uint32(int32(dma.fd)))
				q.planes[p].length = uint32(dma.length)
			} else {
				q.planes[p].length = uint32(len(q.bufs[index][p]))
			}
		}
	} else {
		if len(bytesUsed) > 0 {
			q.vb.bytesUsed = uint32(bytesUsed[0])
		}
		if q.memory == memoryDMABUF {
			q.vb.m = uintptr(uint32(int32(dma.fd)))
			q.vb.length = uint32(dma.length)
		}
	}
	if err := ioctl(q.d.fd, vidiocQBuf, unsafe.Pointer(&q.vb)); err != nil {
		return q.wrap(fmt.Sprintf("VIDIOC_QBUF %d", index), err)
	}
	q.queued[index] = true
	return nil
}

// dequeued is one buffer back from the driver.
type dequeued struct {
	index      int
	flags      uint32
	bytesUsed  int // of the first plane, without its data offset
	dataOffset int
	stamp      unix.Timeval
	sequence   uint32
}

// dequeue takes one finished buffer (VIDIOC_DQBUF); ok is false when none
// is ready. After the LAST buffer it returns errLastBuffer.
func (q *queue) dequeue() (dequeued, bool, error) {
	q.prepare(0)
	if err := ioctl(q.d.fd, vidiocDQBuf, unsafe.Pointer(&q.vb)); err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return dequeued{}, false, nil
		}
		if errors.Is(err, unix.EPIPE) {
			return dequeued{}, false, errLastBuffer
		}
		return dequeued{}, false, q.wrap("VIDIOC_DQBUF", err)
	}
	out := dequeued{index: int(q.vb.index), flags: q.vb.flags, stamp: q.vb.timestamp, sequence: q.vb.sequence}
	if out.index >= len(q.queued) {
		return dequeued{}, false, q.wrap("VIDIOC_DQBUF", fmt.Errorf("driver returned buffer %d of %d", out.index, len(q.queued)))
	}
	q.queued[out.index] = false
	if q.d.mplane {
		out.dataOffset = int(q.planes[0].dataOffset)
		out.bytesUsed = int(q.planes[0].bytesUsed) - out.dataOffset
	} else {
		out.bytesUsed = int(q.vb.bytesUsed)
	}
	return out, true, nil
}

// data is the payload of a dequeued MMAP buffer's first plane.
func (q *queue) data(b dequeued) []byte {
	mem := q.bufs[b.index][0]
	off := min(max(b.dataOffset, 0), len(mem))
	end := off + b.bytesUsed
	if end > len(mem) || b.bytesUsed < 0 {
		end = len(mem)
	}
	return mem[off:end]
}

// free returns the index of a buffer the driver does not hold, or -1.
func (q *queue) free() int {
	for i, busy := range q.queued {
		if !busy {
			return i
		}
	}
	return -1
}

func (q *queue) busy() int {
	n := 0
	for _, b := range q.queued {
		if b {
			n++
		}
	}
	return n
}

func (q *queue) streamOn() error {
	t := int32(q.typ)
	if err := ioctl(q.d.fd, vidiocStreamOn, unsafe.Pointer(&t)); err != nil {
		return q.wrap("VIDIOC_STREAMON", err)
	}
	q.streaming = true
	return nil
}

// streamOff stops the queue; the driver gives every buffer back.
func (q *queue) streamOff() error {
	if !q.streaming {
		return nil
	}
	q.streaming = false
	for i := range q.queued {
		q.queued[i] = false
	}
	t := int32(q.typ)
	if err := ioctl(q.d.fd, vidiocStreamOff, unsafe.Pointer(&t)); err != nil {
		return q.wrap("VIDIOC_STREAMOFF", err)
	}
	return nil
}

func memoryName(m uint32) string {
	switch m {
	case memoryMMAP:
		return "MMAP"
	case memoryDMABUF:
		return "DMABUF"
	}
	return fmt.Sprint(m)
}
