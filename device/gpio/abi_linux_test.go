package gpio

import (
	"path/filepath"
	"testing"

	"github.com/callbox/callbox/internal/cabi"
)

// evdev.go and uinput.go write the kernel's input structs and ioctl
// numbers out by hand; this compiles a C program against <linux/input.h>
// and <linux/uinput.h> and checks every value against ours, on each
// architecture the tests are built for (make test runs arm64 too).
func TestInputABIMatchesHeader(t *testing.T) {
	header := cabi.Header(t, filepath.Join("testdata", "input_abi.c"), "/usr/include/linux/uinput.h")
	cabi.Compare(t, header, map[string]uint64{
		"sizeof input_event":   uint64(inputEventSize(wordSize)),
		"input_event.type":     uint64(2 * wordSize),
		"input_event.code":     uint64(2*wordSize + 2),
		"input_event.value":    uint64(2*wordSize + 4),
		"sizeof uinput_setup":  uinputSetupSize,
		"uinput_setup.name":    uinputSetupName,
		"UINPUT_MAX_NAME_SIZE": uinputMaxName,
		"EVIOCGNAME(256)":      uint64(eviocgname(256)),
		"UI_DEV_CREATE":        uiDevCreate,
		"UI_DEV_DESTROY":       uiDevDestroy,
		"UI_DEV_SETUP":         uiDevSetup,
		"UI_SET_EVBIT":         uiSetEvBit,
		"UI_SET_KEYBIT":        uiSetKeyBit,
		"EV_KEY":               evKey,
		"KEY_MAX":              keyMax,
		"BUS_VIRTUAL":          busVirtual,
	})
}
