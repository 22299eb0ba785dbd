package cec

import (
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/callbox/callbox/internal/cabi"
)

// adapter.go and cec.go write the kernel's CEC structs, ioctl numbers and
// message codes out by hand; this compiles a C program against
// <linux/cec.h> and checks every value against ours, on each architecture
// the tests are built for.
func TestCECABIMatchesHeader(t *testing.T) {
	header := cabi.Header(t, filepath.Join("testdata", "cec_abi.c"), "/usr/include/linux/cec.h")
	cabi.Compare(t, header, map[string]uint64{
		"sizeof cec_caps":                   uint64(unsafe.Sizeof(cecCaps{})),
		"cec_caps.capabilities":             uint64(unsafe.Offsetof(cecCaps{}.capabilities)),
		"sizeof cec_log_addrs":              uint64(unsafe.Sizeof(cecLogAddrs{})),
		"cec_log_addrs.vendor_id":           uint64(unsafe.Offsetof(cecLogAddrs{}.vendorID)),
		"cec_log_addrs.osd_name":            uint64(unsafe.Offsetof(cecLogAddrs{}.osdName)),
		"cec_log_addrs.primary_device_type": uint64(unsafe.Offsetof(cecLogAddrs{}.primaryDeviceType)),
		"cec_log_addrs.all_device_types":    uint64(unsafe.Offsetof(cecLogAddrs{}.allDeviceTypes)),
		"sizeof cec_msg":                    uint64(unsafe.Sizeof(cecMsg{})),
		"cec_msg.len":                       uint64(unsafe.Offsetof(cecMsg{}.len)),
		"cec_msg.msg":                       uint64(unsafe.Offsetof(cecMsg{}.msg)),
		"cec_msg.tx_status":                 uint64(unsafe.Offsetof(cecMsg{}.txStatus)),
		"sizeof cec_event":                  uint64(unsafe.Sizeof(cecEvent{})),
		"cec_event.state_change":            uint64(unsafe.Offsetof(cecEvent{}.raw)),
		"CEC_ADAP_G_CAPS":                   uint64(cecAdapGCaps),
		"CEC_ADAP_G_PHYS_ADDR":              uint64(cecAdapGPhysAddr),
		"CEC_ADAP_S_LOG_ADDRS":              uint64(cecAdapSLogAddrs),
		"CEC_TRANSMIT":                      uint64(cecTransmit),
		"CEC_RECEIVE":                       uint64(cecReceive),
		"CEC_DQEVENT":                       uint64(cecDQEvent),
		"CEC_S_MODE":                        uint64(cecSMode),
		"CEC_CAP_LOG_ADDRS":                 capLogAddrs,
		"CEC_CAP_TRANSMIT":                  capTransmit,
		"CEC_MODE_INITIATOR":                modeInitiator,
		"CEC_MODE_FOLLOWER":                 modeFollower,
		"CEC_LOG_ADDR_TYPE_PLAYBACK":        logAddrTypePlayback,
		"CEC_OP_PRIM_DEVTYPE_PLAYBACK":      primDevTypePlayback,
		"CEC_OP_ALL_DEVTYPE_PLAYBACK":       allDevTypePlayback,
		"CEC_LOG_ADDR_TYPE_TV":              logAddrTypeTV,
		"CEC_OP_PRIM_DEVTYPE_TV":            primDevTypeTV,
		"CEC_OP_ALL_DEVTYPE_TV":             allDevTypeTV,
		"CEC_OP_CEC_VERSION_1_4":            cecVersion14,
		"CEC_VENDOR_ID_NONE":                vendorIDNone,
		"CEC_LOG_ADDR_INVALID":              logAddrInvalid,
		"CEC_TX_STATUS_OK":                  txStatusOK,
		"CEC_TX_STATUS_NACK":                txStatusNack,
		"CEC_EVENT_STATE_CHANGE":            eventStateChange,
		"CEC_EVENT_LOST_MSGS":               eventLostMsgs,
		"CEC_MAX_MSG_SIZE":                  maxMessageSize,
		"CEC_MSG_IMAGE_VIEW_ON":             uint64(OpImageViewOn),
		"CEC_MSG_USER_CONTROL_PRESSED":      uint64(OpUserControlPressed),
		"CEC_MSG_USER_CONTROL_RELEASED":     uint64(OpUserControlReleased),
		"CEC_MSG_ROUTING_CHANGE":            uint64(OpRoutingChange),
		"CEC_MSG_ACTIVE_SOURCE":             uint64(OpActiveSource),
		"CEC_MSG_REQUEST_ACTIVE_SOURCE":     uint64(OpRequestActiveSource),
		"CEC_MSG_SET_STREAM_PATH":           uint64(OpSetStreamPath),
		"CEC_MSG_INACTIVE_SOURCE":           uint64(OpInactiveSource),
		"CEC_OP_UI_CMD_SELECT":              uint64(KeySelect),
		"CEC_OP_UI_CMD_BACK":                uint64(KeyBack),
		"CEC_OP_UI_CMD_VOLUME_UP":           uint64(KeyVolumeUp),
		"CEC_OP_UI_CMD_VOLUME_DOWN":         uint64(KeyVolumeDown),
		"CEC_OP_UI_CMD_MUTE":                uint64(KeyMute),
		"CEC_OP_UI_CMD_STOP":                uint64(KeyStop),
		"CEC_OP_UI_CMD_MUTE_FUNCTION":       uint64(KeyMuteFunction),
		"CEC_OP_UI_CMD_F1_BLUE":             uint64(KeyBlue),
		"CEC_OP_UI_CMD_F2_RED":              uint64(KeyRed),
		"CEC_OP_UI_CMD_F3_GREEN":            uint64(KeyGreen),
		"CEC_OP_UI_CMD_F4_YELLOW":           uint64(KeyYellow),
	})
}
