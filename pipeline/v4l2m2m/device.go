package v4l2m2m

import (
	"errors"
	"fmt"
	"image"
	"os"
	"time"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
	"golang.org/x/sys/unix"
)

// ErrNotM2M is returned when a node is not a memory-to-memory device.
var ErrNotM2M = errors.New("not a V4L2 memory-to-memory device")

// ErrGone is returned when the device went away (unplugged, driver
// unbound) while it was in use.
var ErrGone = errors.New("device is gone")

// device is one open m2m node: its file, what it can do, and which buffer
// types its OUTPUT (raw or coded input) and CAPTURE (output) queues use.
type device struct {
	path    string
	fd      int
	driver  string
	card    string
	bus     string
	caps    uint32
	mplane  bool
	outType uint32
	capType uint32
	pollFds [1]unix.PollFd // reused: waiting allocates nothing
}

// openDevice opens path and checks it is a streaming m2m device.
func openDevice(path string) (*device, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &device{path: path, fd: fd}
	var c v4l2Capability
	if err := ioctl(fd, vidiocQueryCap, unsafe.Pointer(&c)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open %s: VIDIOC_QUERYCAP: %w", path, err)
	}
	d.driver, d.card, d.bus = cString(c.driver[:]), cString(c.card[:]), cString(c.busInfo[:])
	d.caps = c.capabilities
	if c.capabilities&capDeviceCaps != 0 {
		d.caps = c.deviceCaps
	}
	switch {
	case d.caps&capVideoM2MMPlane != 0 ||
		d.caps&(capVideoCaptureMPlane|capVideoOutputMPlane) == capVideoCaptureMPlane|capVideoOutputMPlane:
		d.mplane, d.outType, d.capType = true, bufTypeVideoOutputMPlane, bufTypeVideoCaptureMPlane
	case d.caps&capVideoM2M != 0 ||
		d.caps&(capVideoCapture|capVideoOutput) == capVideoCapture|capVideoOutput:
		d.outType, d.capType = bufTypeVideoOutput, bufTypeVideoCapture
	default:
		unix.Close(fd)
		return nil, fmt.Errorf("open %s (%s): %w", path, d.card, ErrNotM2M)
	}
	if d.caps&capStreaming == 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("open %s (%s): no streaming I/O: %w", path, d.card, ErrNotM2M)
	}
	return d, nil
}

func (d *device) close() error {
	if d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

// wrap names the device and the step in an error, and turns the errnos of
// a vanished device into ErrGone.
func (d *device) wrap(step string, err error) error {
	if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("%s (%s): %s: %w (%w)", d.path, d.card, step, ErrGone, err)
	}
	return fmt.Errorf("%s (%s): %s: %w", d.path, d.card, step, err)
}

// formatDesc is one entry of VIDIOC_ENUM_FMT.
type formatDesc struct {
	pixel      camera.PixelFormat
	compressed bool
	name       string
}

// enumFormats lists the formats of the queue of type typ.
func (d *device) enumFormats(typ uint32) ([]formatDesc, error) {
	var out []formatDesc
	for i := uint32(0); i < 64; i++ {
		desc := v4l2FmtDesc{index: i, typ: typ}
		if err := ioctl(d.fd, vidiocEnumFmt, unsafe.Pointer(&desc)); err != nil {
			if errors.Is(err, unix.EINVAL) {
				break
			}
			return out, d.wrap("VIDIOC_ENUM_FMT", err)
		}
		out = append(out, formatDesc{
			pixel:      camera.PixelFormat(desc.pixelFormat),
			compressed: desc.flags&fmtFlagCompressed != 0,
			name:       cString(desc.description[:]),
		})
	}
	return out, nil
}

// planeFormat is one plane of a negotiated format.
type planeFormat struct {
	bytesPerLine int
	sizeImage    int
}

// queueFormat is a negotiated format of one queue, single- or multi-planar.
type queueFormat struct {
	pixel         camera.PixelFormat
	width, height int
	planes        []planeFormat
}

func (f queueFormat) String() string {
	return fmt.Sprintf("%s %dx%d", f.pixel, f.width, f.height)
}

// setFormat runs VIDIOC_S_FMT (or G_FMT when want is nil) on the queue of
// type typ and returns what the driver settled on. sizeImage, when not 0,
// asks for buffers of that size (coded formats).
func (d *device) setFormat(typ uint32, want *queueFormat, sizeImage int) (queueFormat, error) {
	f := v4l2Format{typ: typ}
	req, name := vidiocGFmt, "VIDIOC_G_FMT"
	if want != nil {
		req, name = vidiocSFmt, "VIDIOC_S_FMT"
		if d.mplane {
			p := f.pixMP()
			p.width, p.height, p.pixelFormat, p.field = uint32(want.width), uint32(want.height), uint32(want.pixel), fieldNone
			p.numPlanes = 1
			p.planeFmt[0].sizeImage = uint32(sizeImage)
		} else {
			p := f.pix()
			p.width, p.height, p.pixelFormat, p.field = uint32(want.width), uint32(want.height), uint32(want.pixel), fieldNone
			p.sizeImage = uint32(sizeImage)
		}
	}
	if err := ioctl(d.fd, req, unsafe.Pointer(&f)); err != nil {
		what := "OUTPUT"
		if typ == d.capType {
			what = "CAPTURE"
		}
		if want != nil {
			return queueFormat{}, d.wrap(fmt.Sprintf("%s %s %s", name, what, want), err)
		}
		return queueFormat{}, d.wrap(name+" "+what, err)
	}
	var got queueFormat
	if d.mplane {
		p := f.pixMP()
		got = queueFormat{pixel: camera.PixelFormat(p.pixelFormat), width: int(p.width), height: int(p.height)}
		for i := 0; i < int(p.numPlanes) && i < videoMaxPlanes; i++ {
			got.planes = append(got.planes, planeFormat{int(p.planeFmt[i].bytesPerLine), int(p.planeFmt[i].sizeImage)})
		}
	} else {
		p := f.pix()
		got = queueFormat{pixel: camera.PixelFormat(p.pixelFormat), width: int(p.width), height: int(p.height),
			planes: []planeFormat{{int(p.bytesPerLine), int(p.sizeImage)}}}
	}
	return got, nil
}

// control is what VIDIOC_QUERYCTRL says of one control.
type control struct {
	id                    uint32
	name                  string
	min, max, step, deflt int32
}

// queryControl reports whether the device has control id, and its range.
func (d *device) queryControl(id uint32) (control, bool) {
	q := v4l2QueryCtrl{id: id}
	if err := ioctl(d.fd, vidiocQueryCtrl, unsafe.Pointer(&q)); err != nil || q.flags&ctrlFlagDisabled != 0 {
		return control{}, false
	}
	return control{id: id, name: cString(q.name[:]), min: q.minimum, max: q.maximum, step: q.step, deflt: q.defaultValue}, true
}

func (d *device) setControl(id uint32, value int32) error {
	c := v4l2Control{id: id, value: value}
	if err := ioctl(d.fd, vidiocSCtrl, unsafe.Pointer(&c)); err != nil {
		return d.wrap(fmt.Sprintf("VIDIOC_S_CTRL 0x%x=%d", id, value), err)
	}
	return nil
}

func (d *device) getControl(id uint32) (int32, error) {
	c := v4l2Control{id: id}
	if err := ioctl(d.fd, vidiocGCtrl, unsafe.Pointer(&c)); err != nil {
		return 0, d.wrap(fmt.Sprintf("VIDIOC_G_CTRL 0x%x", id), err)
	}
	return c.value, nil
}

// setFrameRate sets the OUTPUT queue's frame interval (VIDIOC_S_PARM) and
// returns the rate the driver took.
func (d *device) setFrameRate(fps int) (float64, error) {
	p := v4l2StreamParm{typ: d.outType}
	p.output().timePerFrame = v4l2Fract{numerator: 1, denominator: uint32(fps)}
	if err := ioctl(d.fd, vidiocSParm, unsafe.Pointer(&p)); err != nil {
		return 0, d.wrap("VIDIOC_S_PARM", err)
	}
	tpf := p.output().timePerFrame
	if tpf.numerator == 0 {
		return 0, nil
	}
	return float64(tpf.denominator) / float64(tpf.numerator), nil
}

func (d *device) subscribe(event uint32) error {
	s := v4l2EventSubscription{typ: event}
	if err := ioctl(d.fd, vidiocSubscribeEvent, unsafe.Pointer(&s)); err != nil {
		return d.wrap(fmt.Sprintf("VIDIOC_SUBSCRIBE_EVENT %d", event), err)
	}
	return nil
}

// dequeueEvent takes one pending event; ok is false when none is pending.
func (d *device) dequeueEvent() (typ uint32, changes uint32, ok bool, err error) {
	var ev v4l2Event
	if err := ioctl(d.fd, vidiocDQEvent, unsafe.Pointer(&ev)); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return 0, 0, false, nil
		}
		return 0, 0, false, d.wrap("VIDIOC_DQEVENT", err)
	}
	changes = *(*uint32)(unsafe.Pointer(&ev.u.data))
	return ev.typ, changes, true, nil
}

func (d *device) encoderCommand(cmd uint32) error {
	c := v4l2EncoderCmd{cmd: cmd}
	if err := ioctl(d.fd, vidiocEncoderCmd, unsafe.Pointer(&c)); err != nil {
		return d.wrap(fmt.Sprintf("VIDIOC_ENCODER_CMD %d", cmd), err)
	}
	return nil
}

func (d *device) decoderCommand(cmd uint32) error {
	c := v4l2DecoderCmd{cmd: cmd}
	if err := ioctl(d.fd, vidiocDecoderCmd, unsafe.Pointer(&c)); err != nil {
		return d.wrap(fmt.Sprintf("VIDIOC_DECODER_CMD %d", cmd), err)
	}
	return nil
}

// Poll results.
const (
	readyCapture = 1 << iota // a CAPTURE buffer can be dequeued (POLLIN)
	readyOutput              // an OUTPUT buffer can be dequeued (POLLOUT)
	readyEvent               // an event is pending (POLLPRI)
)

// wait polls the device until one of want is ready or timeout passes; it
// returns what is ready (possibly 0 on timeout).
func (d *device) wait(want int, timeout time.Duration) (int, error) {
	var events int16
	if want&readyCapture != 0 {
		events |= unix.POLLIN
	}
	if want&readyOutput != 0 {
		events |= unix.POLLOUT
	}
	if want&readyEvent != 0 {
		events |= unix.POLLPRI
	}
	deadline := time.Now().Add(timeout)
	for {
		// Past the deadline is a timeout even when something is ready: a
		// caller looping on a ready queue that gives nothing must end.
		if timeout <= 0 || time.Until(deadline) <= 0 {
			return 0, nil
		}
		d.pollFds[0] = unix.PollFd{Fd: int32(d.fd), Events: events}
		fds := d.pollFds[:]
		ms := int(time.Until(deadline).Milliseconds())
		if ms < 0 {
			ms = 0
		}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, d.wrap("poll", err)
		}
		if n == 0 {
			return 0, nil
		}
		r := fds[0].Revents
		if r&unix.POLLNVAL != 0 {
			return 0, d.wrap("poll", os.ErrClosed)
		}
		ready := 0
		if r&unix.POLLIN != 0 {
			ready |= readyCapture
		}
		if r&unix.POLLOUT != 0 {
			ready |= readyOutput
		}
		if r&unix.POLLPRI != 0 {
			ready |= readyEvent
		}
		if ready == 0 && r&(unix.POLLERR|unix.POLLHUP) != 0 {
			// vb2 says POLLERR when a queue is not streaming or has no
			// buffers; the caller's DQBUF then says what is wrong.
			return readyCapture | readyOutput, nil
		}
		return ready, nil
	}
}

func ioctlSelection(d *device, s *v4l2Selection) error {
	if err := ioctl(d.fd, vidiocSSelection, unsafe.Pointer(s)); err != nil {
		return d.wrap("VIDIOC_S_SELECTION", err)
	}
	return nil
}

// composeRect is the visible part of decoded pictures (V4L2_SEL_TGT_COMPOSE
// on CAPTURE).
func (dec *Decoder) composeRect() (image.Rectangle, error) {
	s := v4l2Selection{typ: bufTypeVideoCapture, target: selTgtCompose}
	if err := ioctl(dec.d.fd, vidiocGSelection, unsafe.Pointer(&s)); err != nil {
		return image.Rectangle{}, dec.d.wrap("VIDIOC_G_SELECTION", err)
	}
	return image.Rect(int(s.r.left), int(s.r.top), int(s.r.left)+int(s.r.width), int(s.r.top)+int(s.r.height)), nil
}
