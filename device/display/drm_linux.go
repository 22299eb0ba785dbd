package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultDRMDevice is the first DRM card, the HDMI output on a Pi.
const DefaultDRMDevice = "/dev/dri/card0"

// The DRM mode-setting ABI from <drm/drm_mode.h>, written out by hand;
// TestDRMABIMatchesHeader checks every size and number against the header.

type drmModeCardRes struct {
	FbIDPtr, CrtcIDPtr, ConnectorIDPtr, EncoderIDPtr     uint64
	CountFbs, CountCrtcs, CountConnectors, CountEncoders uint32
	MinWidth, MaxWidth, MinHeight, MaxHeight             uint32
}

type drmModeInfo struct {
	Clock                                         uint32
	Hdisplay, HsyncStart, HsyncEnd, Htotal, Hskew uint16
	Vdisplay, VsyncStart, VsyncEnd, Vtotal, Vscan uint16
	Vrefresh, Flags, Type                         uint32
	Name                                          [32]byte
}

type drmModeGetConnector struct {
	EncodersPtr, ModesPtr, PropsPtr, PropValuesPtr   uint64
	CountModes, CountProps, CountEncoders, EncoderID uint32
	ConnectorID, ConnectorType, ConnectorTypeID      uint32
	Connection, MmWidth, MmHeight, Subpixel, Pad     uint32
}

type drmModeGetEncoder struct {
	EncoderID, EncoderType, CrtcID, PossibleCrtcs, PossibleClones uint32
}

type drmModeCrtc struct {
	SetConnectorsPtr              uint64
	CountConnectors, CrtcID, FbID uint32
	X, Y, GammaSize, ModeValid    uint32
	Mode                          drmModeInfo
}

type drmModeFbCmd struct {
	FbID, Width, Height, Pitch, Bpp, Depth, Handle uint32
}

type drmModeCrtcPageFlip struct {
	CrtcID, FbID, Flags, Reserved uint32
	UserData                      uint64
}

type drmModeCreateDumb struct {
	Height, Width, Bpp, Flags, Handle, Pitch uint32
	Size                                     uint64
}

type drmModeMapDumb struct {
	Handle, Pad uint32
	Offset      uint64
}

type drmModeDestroyDumb struct{ Handle uint32 }

const (
	iocWrite = 1
	iocRead  = 2
)

func drmIOWR(nr, size uintptr) uintptr {
	return (iocRead|iocWrite)<<30 | size<<16 | 'd'<<8 | nr
}

var (
	ioctlModeGetResources = drmIOWR(0xA0, unsafe.Sizeof(drmModeCardRes{}))
	ioctlModeGetCrtc      = drmIOWR(0xA1, unsafe.Sizeof(drmModeCrtc{}))
	ioctlModeSetCrtc      = drmIOWR(0xA2, unsafe.Sizeof(drmModeCrtc{}))
	ioctlModeGetEncoder   = drmIOWR(0xA6, unsafe.Sizeof(drmModeGetEncoder{}))
	ioctlModeGetConnector = drmIOWR(0xA7, unsafe.Sizeof(drmModeGetConnector{}))
	ioctlModeAddFB        = drmIOWR(0xAE, unsafe.Sizeof(drmModeFbCmd{}))
	ioctlModeRmFB         = drmIOWR(0xAF, unsafe.Sizeof(uint32(0)))
	ioctlModePageFlip     = drmIOWR(0xB0, unsafe.Sizeof(drmModeCrtcPageFlip{}))
	ioctlModeCreateDumb   = drmIOWR(0xB2, unsafe.Sizeof(drmModeCreateDumb{}))
	ioctlModeMapDumb      = drmIOWR(0xB3, unsafe.Sizeof(drmModeMapDumb{}))
	ioctlModeDestroyDumb  = drmIOWR(0xB4, unsafe.Sizeof(drmModeDestroyDumb{}))
)

const (
	drmModeConnected     = 1 // drm_mode_get_connector.connection: 1 connected, 2 not, 3 unknown
	drmModeTypePreferred = 1 << 3
	drmModePageFlipEvent = 0x01
	drmEventFlipComplete = 0x02
)

func drmIoctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		switch errno {
		case 0:
			return nil
		case unix.EINTR, unix.EAGAIN:
			continue
		}
		return errno
	}
}

// dumbBuffer is one scan-out buffer in the card's memory, mapped into ours.
type dumbBuffer struct {
	handle, fbID uint32
	mem          []byte
	frame        Frame
}

// DRM shows frames through DRM/KMS on the first connected connector, in its
// preferred mode, with two dumb buffers flipped on vertical blank.
type DRM struct {
	path        string
	fd          int
	crtcID      uint32
	connectorID uint32
	mode        drmModeInfo
	saved       drmModeCrtc // the CRTC as found, restored on Close
	buffers     [2]dumbBuffer
	back        int  // index of the buffer being drawn
	modeSet     bool // SETCRTC done: later pictures page-flip
}

// OpenDRM takes over the screen on the DRM card at path.
func OpenDRM(path string) (*DRM, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open %s: %w (is a DRM driver loaded? no /dev/dri means no KMS screen)", path, ErrNoDisplay)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &DRM{path: path, fd: fd}
	if err := d.setup(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *DRM) setup() error {
	var res drmModeCardRes
	if err := drmIoctl(d.fd, ioctlModeGetResources, unsafe.Pointer(&res)); err != nil {
		return fmt.Errorf("%s: get resources: %w (not a mode-setting device?)", d.path, err)
	}
	connectors := make([]uint32, res.CountConnectors)
	crtcs := make([]uint32, res.CountCrtcs)
	res = drmModeCardRes{CountConnectors: uint32(len(connectors)), CountCrtcs: uint32(len(crtcs))}
	if len(connectors) > 0 {
		res.ConnectorIDPtr = uint64(uintptr(unsafe.Pointer(&connectors[0])))
	}
	if len(crtcs) > 0 {
		res.CrtcIDPtr = uint64(uintptr(unsafe.Pointer(&crtcs[0])))
	}
	err := drmIoctl(d.fd, ioctlModeGetResources, unsafe.Pointer(&res))
	connectors = connectors[:min(len(connectors), int(res.CountConnectors))]
	crtcs = crtcs[:min(len(crtcs), int(res.CountCrtcs))]
	if err != nil {
		return fmt.Errorf("%s: get resources: %w", d.path, err)
	}
	for _, id := range connectors {
		conn, modes, encoders, err := d.connector(id)
		if err != nil {
			return err
		}
		if conn.Connection != drmModeConnected || len(modes) == 0 {
			continue
		}
		d.connectorID = id
		d.mode = preferredMode(modes)
		crtc, err := d.findCrtc(conn, encoders, crtcs)
		if err != nil {
			return err
		}
		d.crtcID = crtc
		break
	}
	if d.connectorID == 0 {
		return fmt.Errorf("%s: none of %d connectors has a screen connected: %w", d.path, len(connectors), ErrNoDisplay)
	}
	d.saved.CrtcID = d.crtcID
	_ = drmIoctl(d.fd, ioctlModeGetCrtc, unsafe.Pointer(&d.saved)) // only to restore; fine if it fails
	for i := range d.buffers {
		if err := d.createBuffer(&d.buffers[i], int(d.mode.Hdisplay), int(d.mode.Vdisplay)); err != nil {
			return err
		}
	}
	return nil
}

// connector reads one connector with its modes and encoders; the counts
// may change between the two calls (a screen plugged in), so it retries.
func (d *DRM) connector(id uint32) (drmModeGetConnector, []drmModeInfo, []uint32, error) {
	for range 5 {
		c := drmModeGetConnector{ConnectorID: id}
		if err := drmIoctl(d.fd, ioctlModeGetConnector, unsafe.Pointer(&c)); err != nil {
			return c, nil, nil, fmt.Errorf("%s: get connector %d: %w", d.path, id, err)
		}
		modes := make([]drmModeInfo, c.CountModes)
		encoders := make([]uint32, c.CountEncoders)
		props := make([]uint32, c.CountProps)
		values := make([]uint64, c.CountProps)
		want := c
		c = drmModeGetConnector{ConnectorID: id, CountModes: want.CountModes,
			CountEncoders: want.CountEncoders, CountProps: want.CountProps}
		if len(modes) > 0 {
			c.ModesPtr = uint64(uintptr(unsafe.Pointer(&modes[0])))
		}
		if len(encoders) > 0 {
			c.EncodersPtr = uint64(uintptr(unsafe.Pointer(&encoders[0])))
		}
		if len(props) > 0 {
			c.PropsPtr = uint64(uintptr(unsafe.Pointer(&props[0])))
			c.PropValuesPtr = uint64(uintptr(unsafe.Pointer(&values[0])))
		}
		if err := drmIoctl(d.fd, ioctlModeGetConnector, unsafe.Pointer(&c)); err != nil {
			return c, nil, nil, fmt.Errorf("%s: get connector %d: %w", d.path, id, err)
		}
		if c.CountModes <= want.CountModes && c.CountEncoders <= want.CountEncoders && c.CountProps <= want.CountProps {
			return c, modes[:c.CountModes], encoders[:c.CountEncoders], nil
		}
	}
	return drmModeGetConnector{}, nil, nil, fmt.Errorf("%s: connector %d keeps changing", d.path, id)
}

// preferredMode is the mode the screen marks preferred, else its first
// (the kernel lists the best first).
func preferredMode(modes []drmModeInfo) drmModeInfo {
	for _, m := range modes {
		if m.Type&drmModeTypePreferred != 0 {
			return m
		}
	}
	return modes[0]
}

// findCrtc picks the CRTC the connector's encoder drives now, else the
// first one an encoder of the connector can drive.
func (d *DRM) findCrtc(conn drmModeGetConnector, encoders, crtcs []uint32) (uint32, error) {
	if conn.EncoderID != 0 {
		enc := drmModeGetEncoder{EncoderID: conn.EncoderID}
		if drmIoctl(d.fd, ioctlModeGetEncoder, unsafe.Pointer(&enc)) == nil && enc.CrtcID != 0 {
			return enc.CrtcID, nil
		}
	}
	for _, id := range encoders {
		enc := drmModeGetEncoder{EncoderID: id}
		if drmIoctl(d.fd, ioctlModeGetEncoder, unsafe.Pointer(&enc)) != nil {
			continue
		}
		for i, crtc := range crtcs {
			if i < 32 && enc.PossibleCrtcs&(1<<i) != 0 {
				return crtc, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: no CRTC can drive connector %d", d.path, conn.ConnectorID)
}

func (d *DRM) createBuffer(b *dumbBuffer, width, height int) error {
	create := drmModeCreateDumb{Width: uint32(width), Height: uint32(height), Bpp: 32}
	if err := drmIoctl(d.fd, ioctlModeCreateDumb, unsafe.Pointer(&create)); err != nil {
		return fmt.Errorf("%s: create %dx%d dumb buffer: %w", d.path, width, height, err)
	}
	b.handle = create.Handle
	fb := drmModeFbCmd{Width: uint32(width), Height: uint32(height), Pitch: create.Pitch, Bpp: 32, Depth: 24, Handle: create.Handle}
	if err := drmIoctl(d.fd, ioctlModeAddFB, unsafe.Pointer(&fb)); err != nil {
		return fmt.Errorf("%s: add frame buffer: %w", d.path, err)
	}
	b.fbID = fb.FbID
	m := drmModeMapDumb{Handle: create.Handle}
	if err := drmIoctl(d.fd, ioctlModeMapDumb, unsafe.Pointer(&m)); err != nil {
		return fmt.Errorf("%s: map dumb buffer: %w", d.path, err)
	}
	mem, err := unix.Mmap(d.fd, int64(m.Offset), int(create.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("%s: mmap dumb buffer: %w", d.path, err)
	}
	b.mem = mem
	b.frame = Frame{Width: width, Height: height, Stride: int(create.Pitch), Pix: mem}
	return nil
}

func (d *DRM) Size() image.Point  { return image.Pt(int(d.mode.Hdisplay), int(d.mode.Vdisplay)) }
func (d *DRM) BackBuffer() *Frame { return &d.buffers[d.back].frame }

// Present sets the mode with the back buffer the first time, and later
// flips to it on vertical blank and waits for the flip to happen.
func (d *DRM) Present(ctx context.Context) error {
	b := &d.buffers[d.back]
	if !d.modeSet {
		conn := d.connectorID
		crtc := drmModeCrtc{
			SetConnectorsPtr: uint64(uintptr(unsafe.Pointer(&conn))), CountConnectors: 1,
			CrtcID: d.crtcID, FbID: b.fbID, ModeValid: 1, Mode: d.mode,
		}
		if err := drmIoctl(d.fd, ioctlModeSetCrtc, unsafe.Pointer(&crtc)); err != nil {
			return fmt.Errorf("%s: set mode %dx%d: %w (does another program own the screen?)", d.path, d.mode.Hdisplay, d.mode.Vdisplay, err)
		}
		d.modeSet = true
	} else {
		flip := drmModeCrtcPageFlip{CrtcID: d.crtcID, FbID: b.fbID, Flags: drmModePageFlipEvent}
		if err := drmIoctl(d.fd, ioctlModePageFlip, unsafe.Pointer(&flip)); err != nil {
			return fmt.Errorf("%s: page flip: %w", d.path, err)
		}
		if err := d.waitFlip(ctx); err != nil {
			return err
		}
	}
	d.back = 1 - d.back
	return nil
}

// waitFlip reads DRM events until the flip-complete one arrives.
func (d *DRM) waitFlip(ctx context.Context) error {
	var buf [1024]byte
	deadline := time.Now().Add(time.Second) // a screen refreshes far more often
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: page flip did not complete within 1 s", d.path)
		}
		fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, 50); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("%s: wait for page flip: %w", d.path, err)
		}
		n, err := unix.Read(d.fd, buf[:])
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: read events: %w", d.path, err)
		}
		// struct drm_event { __u32 type; __u32 length; } heads each event.
		for i := 0; i+8 <= n; {
			typ := *(*uint32)(unsafe.Pointer(&buf[i]))
			length := int(*(*uint32)(unsafe.Pointer(&buf[i+4])))
			if typ == drmEventFlipComplete {
				return nil
			}
			if length < 8 {
				break
			}
			i += length
		}
	}
}

// Close restores the CRTC as it was and frees the buffers.
func (d *DRM) Close() error {
	if d.fd < 0 {
		return nil
	}
	if d.modeSet && d.saved.FbID != 0 {
		conn := d.connectorID
		d.saved.SetConnectorsPtr = uint64(uintptr(unsafe.Pointer(&conn)))
		d.saved.CountConnectors = 1
		_ = drmIoctl(d.fd, ioctlModeSetCrtc, unsafe.Pointer(&d.saved))
	}
	for i := range d.buffers {
		b := &d.buffers[i]
		if b.mem != nil {
			_ = unix.Munmap(b.mem)
			b.mem = nil
		}
		if b.fbID != 0 {
			id := b.fbID
			_ = drmIoctl(d.fd, ioctlModeRmFB, unsafe.Pointer(&id))
		}
		if b.handle != 0 {
			_ = drmIoctl(d.fd, ioctlModeDestroyDumb, unsafe.Pointer(&drmModeDestroyDumb{Handle: b.handle}))
		}
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}
