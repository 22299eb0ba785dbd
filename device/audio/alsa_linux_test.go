//go:build linux && (amd64 || arm64 || arm || 386 || riscv64)

package audio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/callbox/callbox/internal/cabi"
)

// The structs and ioctl numbers in alsa_linux.go are written out by hand;
// this compiles a C program against the kernel's <sound/asound.h> and
// checks every value against ours.
func TestKernelABIMatchesHeader(t *testing.T) {
	header := cabi.Header(t, filepath.Join("testdata", "alsa_abi.c"), "/usr/include/sound/asound.h")

	ours := map[string]uint64{
		"HW_REFINE":             uint64(ioctlHwRefine),
		"HW_PARAMS":             uint64(ioctlHwParams),
		"SW_PARAMS":             uint64(ioctlSwParams),
		"PREPARE":               uint64(ioctlPrepare),
		"START":                 uint64(ioctlStart),
		"DROP":                  uint64(ioctlDrop),
		"WRITEI_FRAMES":         uint64(ioctlWriteiFrames),
		"READI_FRAMES":          uint64(ioctlReadiFrames),
		"PREFER_SUBDEVICE":      uint64(ioctlPreferSubdevice),
		"sizeof hw_params":      uint64(unsafe.Sizeof(hwParams{})),
		"hw_params.intervals":   uint64(unsafe.Offsetof(hwParams{}.intervals)),
		"hw_params.rmask":       uint64(unsafe.Offsetof(hwParams{}.rmask)),
		"hw_params.fifo_size":   uint64(unsafe.Offsetof(hwParams{}.fifoSize)),
		"sizeof sw_params":      uint64(unsafe.Sizeof(swParams{})),
		"sw_params.avail_min":   uint64(unsafe.Offsetof(swParams{}.availMin)),
		"sw_params.boundary":    uint64(unsafe.Offsetof(swParams{}.boundary)),
		"sw_params.proto":       uint64(unsafe.Offsetof(swParams{}.proto)),
		"sizeof xferi":          uint64(unsafe.Sizeof(xferi{})),
		"xferi.frames":          uint64(unsafe.Offsetof(xferi{}.frames)),
		"PARAM_CHANNELS":        hwParamChannels,
		"PARAM_RATE":            hwParamRate,
		"PARAM_PERIOD_SIZE":     hwParamPeriodSize,
		"PARAM_PERIODS":         hwParamPeriods,
		"PARAM_BUFFER_SIZE":     hwParamBufferSize,
		"PARAM_FIRST_INTERVAL":  hwParamFirstInter,
		"ACCESS_RW_INTERLEAVED": accessRWInterleaved,
		"FORMAT_S16_LE":         formatS16LE,
	}
	if formatNames[int(header["FORMAT_S32_LE"])] != "S32_LE" || formatNames[int(header["FORMAT_S24_3LE"])] != "S24_3LE" {
		t.Errorf("formatNames disagree with the header on S32_LE or S24_3LE")
	}
	for name := range header { // the other formats are checked through formatNames above
		if strings.HasPrefix(name, "FORMAT_S") && name != "FORMAT_S16_LE" {
			delete(header, name)
		}
	}
	cabi.Compare(t, header, ours)
}

func TestOpenKernelPCMErrors(t *testing.T) {
	dir := t.TempDir()
	notPCM := filepath.Join(dir, "pcmC0D0c")
	if err := os.WriteFile(notPCM, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		loc    pcmLocation
		wantIs error
		want   string
	}{
		{"regular file", pcmLocation{path: notPCM, subdevice: -1}, nil, "not an ALSA PCM device"},
		{"missing node", pcmLocation{path: filepath.Join(dir, "pcmC1D0c"), subdevice: -1}, ErrNotFound, "no such file"},
		{"missing control for subdevice", pcmLocation{path: notPCM, subdevice: 1, controlPath: filepath.Join(dir, "controlC0")}, ErrNotFound, "controlC0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := openKernelPCM(tt.loc, directionCapture, 960)
			if err == nil {
				p.close()
				t.Fatal("opened, want an error")
			}
			if (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one saying %q (is %v)", err, tt.want, tt.wantIs)
			}
		})
	}
}

func TestOpenErrorKinds(t *testing.T) {
	tests := []struct {
		errno  unix.Errno
		kind   error
		prefix string
	}{
		{unix.EBUSY, ErrBusy, "device busy: in use by another program"},
		{unix.EAGAIN, ErrBusy, "device busy"},
		{unix.ENODEV, ErrNotFound, "no such device"},
		{unix.ENOENT, ErrNotFound, "no such device"},
	}
	for _, tt := range tests {
		err := openError(tt.errno)
		if !errors.Is(err, tt.kind) || !errors.Is(err, tt.errno) || !strings.HasPrefix(err.Error(), tt.prefix) {
			t.Errorf("openError(%v) = %q, want %q, matching %v and the errno", tt.errno, err, tt.prefix, tt.kind)
		}
	}
	if err := openError(unix.EACCES); errors.Is(err, ErrBusy) || errors.Is(err, ErrNotFound) || !errors.Is(err, unix.EACCES) {
		t.Errorf("openError(EACCES) = %v, want the errno as is", err)
	}
}

// A transfer waiting in poll(2) must come back when its context ends or
// the device is closed. A pipe that never becomes readable stands in for
// a silent PCM.
func TestKernelWaitIsInterruptible(t *testing.T) {
	newPCM := func(t *testing.T) *kernelPCM {
		t.Helper()
		var pipe [2]int
		if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(pipe[1]) })
		wakeFd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		k := &kernelPCM{fd: pipe[0], wakeFd: wakeFd, channels: 1}
		t.Cleanup(func() { k.close() })
		return k
	}

	t.Run("context ends", func(t *testing.T) {
		k := newPCM(t)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- k.wait(ctx, unix.POLLIN) }()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("wait = %v, want context.Canceled", err)
		}
		// A wake-up left over from the old context must not end the next wait.
		ctx2, cancel2 := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel2()
		if err := k.wait(ctx2, unix.POLLIN); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("second wait = %v, want it to wait out its own deadline", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		k := newPCM(t)
		done := make(chan error)
		go func() { done <- k.wait(t.Context(), unix.POLLIN) }()
		k.closing.Store(true)
		k.wake()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("wait = %v, want ErrClosed", err)
		}
	})
}
