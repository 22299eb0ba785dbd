//go:build linux && (amd64 || arm64 || arm || 386 || riscv64)

// The ALSA PCM kernel interface (include/uapi/sound/asound.h), spoken over
// ioctls so that no alsa-lib is needed. Build tags keep it to architectures
// with the generic ioctl encoding and little-endian bitfields.

package audio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Parameters of struct snd_pcm_hw_params (SNDRV_PCM_HW_PARAM_*).
const (
	hwParamAccess     = 0 // masks
	hwParamFormat     = 1
	hwParamSubformat  = 2
	hwParamFirstInter = 8 // intervals
	hwParamChannels   = 10
	hwParamRate       = 11
	hwParamPeriodSize = 13
	hwParamPeriods    = 15
	hwParamBufferSize = 17
)

const (
	accessRWInterleaved = 3 // SNDRV_PCM_ACCESS_RW_INTERLEAVED
	formatS16LE         = 2 // SNDRV_PCM_FORMAT_S16_LE
	subformatStd        = 0

	intervalOpenMin = 1 << 0 // bitfields of struct snd_interval
	intervalOpenMax = 1 << 1
	intervalInteger = 1 << 2
)

// formatNames names the formats a device may offer, for error messages.
var formatNames = map[int]string{
	0: "S8", 1: "U8", 2: "S16_LE", 3: "S16_BE", 4: "U16_LE", 5: "U16_BE",
	6: "S24_LE", 7: "S24_BE", 8: "U24_LE", 9: "U24_BE", 10: "S32_LE",
	11: "S32_BE", 12: "U32_LE", 13: "U32_BE", 14: "FLOAT_LE", 15: "FLOAT_BE",
	16: "FLOAT64_LE", 17: "FLOAT64_BE", 18: "IEC958_SUBFRAME_LE", 20: "MU_LAW",
	21: "A_LAW", 32: "S24_3LE", 33: "S24_3BE", 34: "U24_3LE", 35: "U24_3BE",
	36: "S20_3LE", 38: "S18_3LE", 25: "S20_LE",
}

type sndMask struct{ bits [8]uint32 }

type sndInterval struct{ min, max, flags uint32 }

// hwParams is struct snd_pcm_hw_params. fifoSize is a C unsigned long,
// which Go's uint matches on Linux.
type hwParams struct {
	flags     uint32
	masks     [3]sndMask
	mres      [5]sndMask
	intervals [12]sndInterval
	ires      [9]sndInterval
	rmask     uint32
	cmask     uint32
	info      uint32
	msbits    uint32
	rateNum   uint32
	rateDen   uint32
	fifoSize  uint
	reserved  [64]byte
}

// swParams is struct snd_pcm_sw_params (unsigned long fields as uint).
type swParams struct {
	tstampMode       int32
	periodStep       uint32
	sleepMin         uint32
	availMin         uint
	xferAlign        uint
	startThreshold   uint
	stopThreshold    uint
	silenceThreshold uint
	silenceSize      uint
	boundary         uint
	proto            uint32
	tstampType       uint32
	reserved         [56]byte
}

// xferi is struct snd_xferi.
type xferi struct {
	result int
	buf    unsafe.Pointer
	frames uint
}

func ioc(dir, typ, nr, size uintptr) uintptr { return dir<<30 | size<<16 | typ<<8 | nr }

const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

var (
	ioctlHwRefine        = ioc(iocRead|iocWrite, 'A', 0x10, unsafe.Sizeof(hwParams{}))
	ioctlHwParams        = ioc(iocRead|iocWrite, 'A', 0x11, unsafe.Sizeof(hwParams{}))
	ioctlSwParams        = ioc(iocRead|iocWrite, 'A', 0x13, unsafe.Sizeof(swParams{}))
	ioctlPrepare         = ioc(iocNone, 'A', 0x40, 0)
	ioctlStart           = ioc(iocNone, 'A', 0x42, 0)
	ioctlDrop            = ioc(iocNone, 'A', 0x43, 0)
	ioctlWriteiFrames    = ioc(iocWrite, 'A', 0x50, unsafe.Sizeof(xferi{}))
	ioctlReadiFrames     = ioc(iocRead, 'A', 0x51, unsafe.Sizeof(xferi{}))
	ioctlPreferSubdevice = ioc(iocWrite, 'U', 0x32, unsafe.Sizeof(int32(0)))
)

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// anyHwParams is the whole configuration space, for the kernel to narrow.
func anyHwParams() *hwParams {
	p := &hwParams{rmask: ^uint32(0), info: ^uint32(0)}
	for i := range p.masks {
		for j := range p.masks[i].bits {
			p.masks[i].bits[j] = ^uint32(0)
		}
	}
	for i := range p.intervals {
		p.intervals[i] = sndInterval{min: 0, max: ^uint32(0)}
	}
	return p
}

func (p *hwParams) setMask(param, value int) {
	p.masks[param] = sndMask{}
	p.masks[param].bits[value/32] = 1 << (value % 32)
}

func (p *hwParams) interval(param int) *sndInterval { return &p.intervals[param-hwParamFirstInter] }

func (p *hwParams) setExact(param int, v uint32) {
	*p.interval(param) = sndInterval{min: v, max: v, flags: intervalInteger}
}

func (p *hwParams) setRange(param int, lo, hi uint32) {
	*p.interval(param) = sndInterval{min: lo, max: hi, flags: intervalInteger}
}

// bounds reads an interval as closed integer bounds.
func (p *hwParams) bounds(param int) (int, int) {
	iv := p.interval(param)
	lo, hi := int(iv.min), int(iv.max)
	if iv.flags&intervalOpenMin != 0 {
		lo++
	}
	if iv.flags&intervalOpenMax != 0 {
		hi--
	}
	return lo, hi
}

func (p *hwParams) offer() deviceOffer {
	var o deviceOffer
	for f := 0; f < 64; f++ {
		if p.masks[hwParamFormat].bits[f/32]&(1<<(f%32)) == 0 {
			continue
		}
		name, ok := formatNames[f]
		if !ok {
			name = fmt.Sprintf("format#%d", f)
		}
		o.formats = append(o.formats, name)
	}
	o.channelsMin, o.channelsMax = p.bounds(hwParamChannels)
	o.rateMin, o.rateMax = p.bounds(hwParamRate)
	return o
}

// kernelPCM is an open /dev/snd/pcmC*D*[cp] node in non-blocking mode;
// waits are poll(2) on it and on an eventfd that Close and ctx use to
// interrupt them.
type kernelPCM struct {
	fd       int
	channels int
	closing  atomic.Bool

	mu sync.Mutex // held by transfers; close takes it to release fd

	wakeMu sync.Mutex // guards wakeFd against use after close
	wakeFd int
}

// openKernelPCM opens loc, checks that it can do 48 kHz S16_LE, and sets
// it up with the fewest channels it offers and periods of periodFrames.
func openKernelPCM(loc pcmLocation, dir direction, periodFrames int) (pcm, int, error) {
	fd, err := openNode(loc)
	if err != nil {
		return nil, 0, err
	}
	wakeFd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(fd)
		return nil, 0, fmt.Errorf("eventfd: %w", err)
	}
	k := &kernelPCM{fd: fd, wakeFd: wakeFd}
	channels, err := k.configure(dir, periodFrames)
	if err != nil {
		k.close()
		return nil, 0, err
	}
	k.channels = channels
	return k, channels, nil
}

func openNode(loc pcmLocation) (int, error) {
	if loc.subdevice >= 0 {
		// The kernel hands out the subdevice that this process last
		// preferred through the card's control device, while it is open.
		ctl, err := unix.Open(loc.controlPath, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("open %s: %w", loc.controlPath, openError(err))
		}
		defer unix.Close(ctl)
		sub := int32(loc.subdevice)
		if err := ioctl(ctl, ioctlPreferSubdevice, unsafe.Pointer(&sub)); err != nil {
			return -1, fmt.Errorf("choose subdevice %d: %w", loc.subdevice, err)
		}
	}
	// O_NONBLOCK also makes open fail with EBUSY instead of waiting for
	// another program to let go of the device.
	fd, err := unix.Open(loc.path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, openError(err)
	}
	return fd, nil
}

func openError(err error) error {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return &kindError{kind: ErrNotFound, msg: "no such device: " + err.Error(), err: err}
	case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EAGAIN):
		return &kindError{kind: ErrBusy, msg: "device busy: in use by another program", err: err}
	}
	return err
}

func (k *kernelPCM) configure(dir direction, periodFrames int) (int, error) {
	all := anyHwParams()
	if err := ioctl(k.fd, ioctlHwRefine, unsafe.Pointer(all)); err != nil {
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			return 0, fmt.Errorf("not an ALSA PCM device: %w", err)
		}
		return 0, fmt.Errorf("query hardware parameters: %w", err)
	}
	offer := all.offer()
	channels, err := chooseChannels(offer)
	if err != nil {
		return 0, err
	}

	base := anyHwParams()
	base.setMask(hwParamAccess, accessRWInterleaved)
	base.setMask(hwParamFormat, formatS16LE)
	base.setMask(hwParamSubformat, subformatStd)
	base.setExact(hwParamChannels, uint32(channels))
	base.setExact(hwParamRate, SampleRate)
	if err := ioctl(k.fd, ioctlHwRefine, unsafe.Pointer(base)); err != nil {
		return 0, &kindError{kind: ErrUnsupportedFormat, err: err, msg: fmt.Sprintf(
			"format not supported: S16_LE, %d channels, %d Hz together not accepted (device offers %s)", channels, SampleRate, offer)}
	}

	// Prefer exactly our period with 4 periods of buffer (room for a late
	// reader), then fewer or more, then whatever period is near ours.
	period := uint32(periodFrames)
	attempts := []func(p *hwParams){
		func(p *hwParams) { p.setExact(hwParamPeriodSize, period); p.setExact(hwParamPeriods, 4) },
		func(p *hwParams) { p.setExact(hwParamPeriodSize, period); p.setExact(hwParamPeriods, 3) },
		func(p *hwParams) { p.setExact(hwParamPeriodSize, period); p.setRange(hwParamPeriods, 2, 32) },
		func(p *hwParams) {
			p.setRange(hwParamPeriodSize, period/2, period*4)
			p.setRange(hwParamPeriods, 2, 32)
		},
		func(p *hwParams) {},
	}
	var lastErr error
	var chosen *hwParams
	for _, constrain := range attempts {
		p := *base
		p.rmask = ^uint32(0)
		constrain(&p)
		if lastErr = ioctl(k.fd, ioctlHwRefine, unsafe.Pointer(&p)); lastErr != nil {
			continue
		}
		p.rmask = ^uint32(0)
		if lastErr = ioctl(k.fd, ioctlHwParams, unsafe.Pointer(&p)); lastErr != nil {
			continue
		}
		chosen = &p
		break
	}
	if chosen == nil {
		return 0, fmt.Errorf("set hardware parameters (S16_LE, %d channels, %d Hz, period %d frames): %w",
			channels, SampleRate, periodFrames, lastErr)
	}
	gotPeriod, _ := chosen.bounds(hwParamPeriodSize)
	gotBuffer, _ := chosen.bounds(hwParamBufferSize)

	sw := swParams{
		periodStep:     1,
		availMin:       uint(gotPeriod),
		xferAlign:      1,
		startThreshold: 1, // capture: started explicitly
		stopThreshold:  uint(gotBuffer),
	}
	if dir == directionPlayback {
		// Start once two periods are queued, so one late write does not
		// underrun straight away.
		sw.startThreshold = uint(min(2*gotPeriod, gotBuffer))
	}
	if err := ioctl(k.fd, ioctlSwParams, unsafe.Pointer(&sw)); err != nil {
		return 0, fmt.Errorf("set software parameters: %w", err)
	}
	if err := ioctl(k.fd, ioctlPrepare, nil); err != nil {
		return 0, fmt.Errorf("prepare: %w", err)
	}
	return channels, nil
}

func (k *kernelPCM) readFrames(ctx context.Context, p []int16) (int, error) {
	return k.transfer(ctx, ioctlReadiFrames, unix.POLLIN, p)
}

func (k *kernelPCM) writeFrames(ctx context.Context, p []int16) (int, error) {
	return k.transfer(ctx, ioctlWriteiFrames, unix.POLLOUT, p)
}

func (k *kernelPCM) transfer(ctx context.Context, req uintptr, events int16, p []int16) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	frames := len(p) / k.channels
	if frames == 0 {
		return 0, fmt.Errorf("transfer of %d samples is less than a frame", len(p))
	}
	for {
		if k.closing.Load() {
			return 0, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		x := xferi{buf: unsafe.Pointer(&p[0]), frames: uint(frames)}
		err := ioctl(k.fd, req, unsafe.Pointer(&x))
		switch {
		case err == nil && x.result > 0:
			return x.result, nil
		case err == nil, errors.Is(err, unix.EAGAIN):
			if err := k.wait(ctx, events); err != nil {
				return 0, err
			}
		case errors.Is(err, unix.EPIPE), errors.Is(err, unix.ESTRPIPE), errors.Is(err, unix.EBADFD):
			return 0, fmt.Errorf("%w: %w", errXrun, err)
		default:
			return 0, err
		}
	}
}

// wait blocks until the device is ready for events, or ctx ends, or close.
func (k *kernelPCM) wait(ctx context.Context, events int16) error {
	stop := context.AfterFunc(ctx, k.wake)
	defer stop()
	fds := []unix.PollFd{{Fd: int32(k.fd), Events: events}, {Fd: int32(k.wakeFd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		break
	}
	if fds[1].Revents != 0 {
		var drain [8]byte
		_, _ = unix.Read(k.wakeFd, drain[:]) // EAGAIN: another wait drained it
	}
	if k.closing.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

func (k *kernelPCM) wake() {
	k.wakeMu.Lock()
	defer k.wakeMu.Unlock()
	if k.wakeFd >= 0 {
		one := [8]byte{1}
		_, _ = unix.Write(k.wakeFd, one[:]) // fails only when the counter is full: a wake is pending anyway
	}
}

func (k *kernelPCM) prepare() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return ioctl(k.fd, ioctlPrepare, nil)
}

func (k *kernelPCM) start() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return ioctl(k.fd, ioctlStart, nil)
}

func (k *kernelPCM) close() error {
	k.closing.Store(true)
	k.wake()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fd < 0 {
		return nil
	}
	_ = ioctl(k.fd, ioctlDrop, nil) // stop now; the fd is going anyway
	err := unix.Close(k.fd)
	k.fd = -1
	k.wakeMu.Lock()
	unix.Close(k.wakeFd)
	k.wakeFd = -1
	k.wakeMu.Unlock()
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
