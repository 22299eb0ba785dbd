package v4l2m2m

// The kernel's V4L2 ABI (<linux/videodev2.h>, <linux/v4l2-controls.h>) as far
// as the stateful codec interfaces need it. Field types follow the C types
// (unsigned long and pointers as uintptr, struct timeval as unix.Timeval) so
// the layouts hold on 32- and 64-bit boards alike; TestABIMatchesHeader
// compares every size, offset and number here with the header through cc.

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/callbox/callbox/media"
)

// Buffer types (enum v4l2_buf_type).
const (
	bufTypeVideoCapture       = 1
	bufTypeVideoOutput        = 2
	bufTypeVideoCaptureMPlane = 9
	bufTypeVideoOutputMPlane  = 10
)

// Memory kinds (enum v4l2_memory).
const (
	memoryMMAP   = 1
	memoryDMABUF = 4
)

// Capability bits of struct v4l2_capability.
const (
	capVideoCapture       = 0x00000001
	capVideoOutput        = 0x00000002
	capVideoCaptureMPlane = 0x00001000
	capVideoOutputMPlane  = 0x00002000
	capVideoM2MMPlane     = 0x00004000
	capVideoM2M           = 0x00008000
	capStreaming          = 0x04000000
	capDeviceCaps         = 0x80000000
)

// Buffer flags (V4L2_BUF_FLAG_*).
const (
	bufFlagKeyframe = 0x00000008
	bufFlagPFrame   = 0x00000010
	bufFlagError    = 0x00000040
	bufFlagLast     = 0x00100000
)

const (
	fieldNone           = 1
	fmtFlagCompressed   = 0x0001
	eventEOS            = 2
	eventSourceChange   = 5
	srcChangeResolution = 1
	encCmdStart         = 0
	encCmdStop          = 1
	decCmdStart         = 0
	decCmdStop          = 1
	selTgtCrop          = 0x0000
	selTgtCompose       = 0x0100
	videoMaxPlanes      = 8
)

// Control IDs.
const (
	cidBase                 = 0x00980900
	cidMinBuffersForCapture = cidBase + 39
	cidMinBuffersForOutput  = cidBase + 40
	cidCodecBase            = 0x00990900
	cidGOPSize              = cidCodecBase + 203
	cidBitrateMode          = cidCodecBase + 206
	cidBitrate              = cidCodecBase + 207
	cidRepeatSeqHeader      = cidCodecBase + 226
	cidForceKeyFrame        = cidCodecBase + 229
	cidFWHTIFrameQP         = cidCodecBase + 290
	cidFWHTPFrameQP         = cidCodecBase + 291
	cidH264IPeriod          = cidCodecBase + 358
	cidH264Level            = cidCodecBase + 359
	cidH264Profile          = cidCodecBase + 363
	cidPrependSPSPPSToIDR   = cidCodecBase + 644

	bitrateModeVBR = 0
	bitrateModeCBR = 1

	h264ProfileConstrainedBaseline = 1
	h264Level31                    = 9
	h264Level32                    = 10
	h264Level40                    = 11
	h264Level41                    = 12
	h264Level42                    = 13
	h264Level50                    = 14
	h264Level51                    = 15

	ctrlFlagDisabled = 0x0001
)

// fwhtFlagIFrame marks an intra-coded FWHT frame in its header's flags.
const fwhtFlagIFrame = media.FWHTFlagIFrame

type v4l2Capability struct {
	driver       [16]byte
	card         [32]byte
	busInfo      [32]byte
	version      uint32
	capabilities uint32
	deviceCaps   uint32
	reserved     [3]uint32
}

type v4l2FmtDesc struct {
	index       uint32
	typ         uint32
	flags       uint32
	description [32]byte
	pixelFormat uint32
	mbusCode    uint32
	reserved    [3]uint32
}

type v4l2PixFormat struct {
	width        uint32
	height       uint32
	pixelFormat  uint32
	field        uint32
	bytesPerLine uint32
	sizeImage    uint32
	colorspace   uint32
	priv         uint32
	flags        uint32
	ycbcrEnc     uint32
	quantization uint32
	xferFunc     uint32
}

type v4l2PlanePixFormat struct {
	sizeImage    uint32
	bytesPerLine uint32
	reserved     [6]uint16
}

type v4l2PixFormatMPlane struct {
	width        uint32
	height       uint32
	pixelFormat  uint32
	field        uint32
	colorspace   uint32
	planeFmt     [videoMaxPlanes]v4l2PlanePixFormat
	numPlanes    uint8
	flags        uint8
	ycbcrEnc     uint8
	quantization uint8
	xferFunc     uint8
	reserved     [7]uint8
}

// v4l2Format is struct v4l2_format: the union holds a struct with pointers
// (v4l2_window), hence its pointer alignment.
type v4l2Format struct {
	typ uint32
	fmt struct {
		_   [0]uintptr
		raw [200]byte
	}
}

func (f *v4l2Format) pix() *v4l2PixFormat { return (*v4l2PixFormat)(unsafe.Pointer(&f.fmt.raw)) }
func (f *v4l2Format) pixMP() *v4l2PixFormatMPlane {
	return (*v4l2PixFormatMPlane)(unsafe.Pointer(&f.fmt.raw))
}

type v4l2RequestBuffers struct {
	count        uint32
	typ          uint32
	memory       uint32
	capabilities uint32
	flags        uint8
	reserved     [3]uint8
}

type v4l2Timecode struct {
	typ      uint32
	flags    uint32
	frames   uint8
	seconds  uint8
	minutes  uint8
	hours    uint8
	userbits [4]uint8
}

// v4l2Plane is struct v4l2_plane; m is the union of mem_offset, userptr
// and fd.
type v4l2Plane struct {
	bytesUsed  uint32
	length     uint32
	m          uintptr
	dataOffset uint32
	reserved   [11]uint32
}

// v4l2Buffer is struct v4l2_buffer; m is the union of offset, userptr,
// planes and fd; requestFD shares its place with reserved.
type v4l2Buffer struct {
	index     uint32
	typ       uint32
	bytesUsed uint32
	flags     uint32
	field     uint32
	timestamp unix.Timeval
	timecode  v4l2Timecode
	sequence  uint32
	memory    uint32
	m         uintptr
	length    uint32
	reserved2 uint32
	requestFD int32
}

type v4l2EncoderCmd struct {
	cmd   uint32
	flags uint32
	data  [8]uint32
}

type v4l2DecoderCmd struct {
	cmd   uint32
	flags uint32
	raw   struct {
		_    [0]uint64
		data [16]uint32
	}
}

type v4l2EventSubscription struct {
	typ      uint32
	id       uint32
	flags    uint32
	reserved [5]uint32
}

type v4l2Event struct {
	typ uint32
	u   struct {
		_    [0]uint64
		data [64]byte
	}
	pending   uint32
	sequence  uint32
	timestamp unix.Timespec
	id        uint32
	reserved  [8]uint32
}

type v4l2QueryCtrl struct {
	id           uint32
	typ          uint32
	name         [32]byte
	minimum      int32
	maximum      int32
	step         int32
	defaultValue int32
	flags        uint32
	reserved     [2]uint32
}

type v4l2Control struct {
	id    uint32
	value int32
}

type v4l2Fract struct {
	numerator   uint32
	denominator uint32
}

type v4l2OutputParm struct {
	capability   uint32
	outputMode   uint32
	timePerFrame v4l2Fract
	extendedMode uint32
	writeBuffers uint32
	reserved     [4]uint32
}

type v4l2StreamParm struct {
	typ  uint32
	parm [200]byte
}

func (p *v4l2StreamParm) output() *v4l2OutputParm {
	return (*v4l2OutputParm)(unsafe.Pointer(&p.parm))
}

type v4l2Rect struct {
	left   int32
	top    int32
	width  uint32
	height uint32
}

type v4l2Selection struct {
	typ      uint32
	target   uint32
	flags    uint32
	r        v4l2Rect
	reserved [9]uint32
}

// Ioctl numbers, made as the kernel's _IOC macros make them (the generic
// layout used by x86, arm and arm64).
const (
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 'V'<<8 | nr }

var (
	vidiocQueryCap       = ioc(iocRead, 0, unsafe.Sizeof(v4l2Capability{}))
	vidiocEnumFmt        = ioc(iocRead|iocWrite, 2, unsafe.Sizeof(v4l2FmtDesc{}))
	vidiocGFmt           = ioc(iocRead|iocWrite, 4, unsafe.Sizeof(v4l2Format{}))
	vidiocSFmt           = ioc(iocRead|iocWrite, 5, unsafe.Sizeof(v4l2Format{}))
	vidiocReqBufs        = ioc(iocRead|iocWrite, 8, unsafe.Sizeof(v4l2RequestBuffers{}))
	vidiocQueryBuf       = ioc(iocRead|iocWrite, 9, unsafe.Sizeof(v4l2Buffer{}))
	vidiocQBuf           = ioc(iocRead|iocWrite, 15, unsafe.Sizeof(v4l2Buffer{}))
	vidiocDQBuf          = ioc(iocRead|iocWrite, 17, unsafe.Sizeof(v4l2Buffer{}))
	vidiocStreamOn       = ioc(iocWrite, 18, unsafe.Sizeof(int32(0)))
	vidiocStreamOff      = ioc(iocWrite, 19, unsafe.Sizeof(int32(0)))
	vidiocSParm          = ioc(iocRead|iocWrite, 22, unsafe.Sizeof(v4l2StreamParm{}))
	vidiocGCtrl          = ioc(iocRead|iocWrite, 27, unsafe.Sizeof(v4l2Control{}))
	vidiocSCtrl          = ioc(iocRead|iocWrite, 28, unsafe.Sizeof(v4l2Control{}))
	vidiocQueryCtrl      = ioc(iocRead|iocWrite, 36, unsafe.Sizeof(v4l2QueryCtrl{}))
	vidiocEncoderCmd     = ioc(iocRead|iocWrite, 77, unsafe.Sizeof(v4l2EncoderCmd{}))
	vidiocDQEvent        = ioc(iocRead, 89, unsafe.Sizeof(v4l2Event{}))
	vidiocSubscribeEvent = ioc(iocWrite, 90, unsafe.Sizeof(v4l2EventSubscription{}))
	vidiocGSelection     = ioc(iocRead|iocWrite, 94, unsafe.Sizeof(v4l2Selection{}))
	vidiocSSelection     = ioc(iocRead|iocWrite, 95, unsafe.Sizeof(v4l2Selection{}))
	vidiocDecoderCmd     = ioc(iocRead|iocWrite, 96, unsafe.Sizeof(v4l2DecoderCmd{}))
)

// ioctl runs one ioctl on fd with arg, retrying when a signal interrupts it.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		return nil
	}
}

// cString returns the NUL-terminated string at the start of b.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// v4l2H264Level is V4L2's value of each H.264 level the box sends
// (media.H264LevelFor).
var v4l2H264Level = map[media.H264Level]int32{
	31: h264Level31, 32: h264Level32, 40: h264Level40, 41: h264Level41,
	42: h264Level42, 50: h264Level50, 51: h264Level51,
}
