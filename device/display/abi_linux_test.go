//go:build linux && (amd64 || arm64)

package display

import (
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/callbox/callbox/internal/cabi"
)

// The structs and ioctl numbers in drm_linux.go and fbdev_linux.go are
// written out by hand; this compiles a C program against <drm_mode.h> and
// <linux/fb.h> and checks every value against ours.
func TestKernelABIMatchesHeader(t *testing.T) {
	header := cabi.Header(t, filepath.Join("testdata", "display_abi.c"), "/usr/include/libdrm/drm_mode.h", "-I/usr/include/libdrm")
	var res drmModeCardRes
	var mode drmModeInfo
	var conn drmModeGetConnector
	var enc drmModeGetEncoder
	var crtc drmModeCrtc
	var flip drmModeCrtcPageFlip
	var create drmModeCreateDumb
	var mapDumb drmModeMapDumb
	var fbVar fbVarScreeninfo
	var fbFix fbFixScreeninfo
	ours := map[string]uint64{
		"MODE_GETRESOURCES":          uint64(ioctlModeGetResources),
		"MODE_GETCRTC":               uint64(ioctlModeGetCrtc),
		"MODE_SETCRTC":               uint64(ioctlModeSetCrtc),
		"MODE_GETENCODER":            uint64(ioctlModeGetEncoder),
		"MODE_GETCONNECTOR":          uint64(ioctlModeGetConnector),
		"MODE_ADDFB":                 uint64(ioctlModeAddFB),
		"MODE_RMFB":                  uint64(ioctlModeRmFB),
		"MODE_PAGE_FLIP":             uint64(ioctlModePageFlip),
		"MODE_CREATE_DUMB":           uint64(ioctlModeCreateDumb),
		"MODE_MAP_DUMB":              uint64(ioctlModeMapDumb),
		"MODE_DESTROY_DUMB":          uint64(ioctlModeDestroyDumb),
		"sizeof card_res":            uint64(unsafe.Sizeof(res)),
		"card_res.count_connectors":  uint64(unsafe.Offsetof(res.CountConnectors)),
		"sizeof modeinfo":            uint64(unsafe.Sizeof(mode)),
		"modeinfo.vrefresh":          uint64(unsafe.Offsetof(mode.Vrefresh)),
		"modeinfo.type":              uint64(unsafe.Offsetof(mode.Type)),
		"modeinfo.name":              uint64(unsafe.Offsetof(mode.Name)),
		"sizeof get_connector":       uint64(unsafe.Sizeof(conn)),
		"get_connector.count_modes":  uint64(unsafe.Offsetof(conn.CountModes)),
		"get_connector.connection":   uint64(unsafe.Offsetof(conn.Connection)),
		"sizeof get_encoder":         uint64(unsafe.Sizeof(enc)),
		"get_encoder.possible_crtcs": uint64(unsafe.Offsetof(enc.PossibleCrtcs)),
		"sizeof crtc":                uint64(unsafe.Sizeof(crtc)),
		"crtc.mode_valid":            uint64(unsafe.Offsetof(crtc.ModeValid)),
		"crtc.mode":                  uint64(unsafe.Offsetof(crtc.Mode)),
		"sizeof fb_cmd":              uint64(unsafe.Sizeof(drmModeFbCmd{})),
		"sizeof page_flip":           uint64(unsafe.Sizeof(flip)),
		"page_flip.user_data":        uint64(unsafe.Offsetof(flip.UserData)),
		"sizeof create_dumb":         uint64(unsafe.Sizeof(create)),
		"create_dumb.size":           uint64(unsafe.Offsetof(create.Size)),
		"sizeof map_dumb":            uint64(unsafe.Sizeof(mapDumb)),
		"map_dumb.offset":            uint64(unsafe.Offsetof(mapDumb.Offset)),
		"TYPE_PREFERRED":             drmModeTypePreferred,
		"PAGE_FLIP_EVENT":            drmModePageFlipEvent,
		"EVENT_FLIP_COMPLETE":        drmEventFlipComplete,
		"FBIOGET_VSCREENINFO":        ioctlFbGetVscreeninfo,
		"FBIOGET_FSCREENINFO":        ioctlFbGetFscreeninfo,
		"sizeof fb_var":              uint64(unsafe.Sizeof(fbVar)),
		"fb_var.bits_per_pixel":      uint64(unsafe.Offsetof(fbVar.BitsPerPixel)),
		"fb_var.red":                 uint64(unsafe.Offsetof(fbVar.Red)),
		"sizeof fb_fix":              uint64(unsafe.Sizeof(fbFix)),
		"fb_fix.smem_len":            uint64(unsafe.Offsetof(fbFix.SmemLen)),
		"fb_fix.line_length":         uint64(unsafe.Offsetof(fbFix.LineLength)),
	}
	cabi.Compare(t, header, ours)
}
