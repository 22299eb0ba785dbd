/* Prints the CEC ABI values that adapter.go hard-codes, from the kernel's
   own header, for TestCECABIMatchesHeader. */
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/cec.h>

#define P(name, v) printf("%s %lu\n", name, (unsigned long)(v))

int main(void) {
	P("sizeof cec_caps", sizeof(struct cec_caps));
	P("cec_caps.capabilities", offsetof(struct cec_caps, capabilities));
	P("sizeof cec_log_addrs", sizeof(struct cec_log_addrs));
	P("cec_log_addrs.vendor_id", offsetof(struct cec_log_addrs, vendor_id));
	P("cec_log_addrs.osd_name", offsetof(struct cec_log_addrs, osd_name));
	P("cec_log_addrs.primary_device_type", offsetof(struct cec_log_addrs, primary_device_type));
	P("cec_log_addrs.all_device_types", offsetof(struct cec_log_addrs, all_device_types));
	P("sizeof cec_msg", sizeof(struct cec_msg));
	P("cec_msg.len", offsetof(struct cec_msg, len));
	P("cec_msg.msg", offsetof(struct cec_msg, msg));
	P("cec_msg.tx_status", offsetof(struct cec_msg, tx_status));
	P("sizeof cec_event", sizeof(struct cec_event));
	P("cec_event.state_change", offsetof(struct cec_event, state_change));
	P("CEC_ADAP_G_CAPS", CEC_ADAP_G_CAPS);
	P("CEC_ADAP_G_PHYS_ADDR", CEC_ADAP_G_PHYS_ADDR);
	P("CEC_ADAP_S_LOG_ADDRS", CEC_ADAP_S_LOG_ADDRS);
	P("CEC_TRANSMIT", CEC_TRANSMIT);
	P("CEC_RECEIVE", CEC_RECEIVE);
	P("CEC_DQEVENT", CEC_DQEVENT);
	P("CEC_S_MODE", CEC_S_MODE);
	P("CEC_CAP_LOG_ADDRS", CEC_CAP_LOG_ADDRS);
	P("CEC_CAP_TRANSMIT", CEC_CAP_TRANSMIT);
	P("CEC_MODE_INITIATOR", CEC_MODE_INITIATOR);
	P("CEC_MODE_FOLLOWER", CEC_MODE_FOLLOWER);
	P("CEC_LOG_ADDR_TYPE_PLAYBACK", CEC_LOG_ADDR_TYPE_PLAYBACK);
	P("CEC_OP_PRIM_DEVTYPE_PLAYBACK", CEC_OP_PRIM_DEVTYPE_PLAYBACK);
	P("CEC_OP_ALL_DEVTYPE_PLAYBACK", CEC_OP_ALL_DEVTYPE_PLAYBACK);
	P("CEC_LOG_ADDR_TYPE_TV", CEC_LOG_ADDR_TYPE_TV);
	P("CEC_OP_PRIM_DEVTYPE_TV", CEC_OP_PRIM_DEVTYPE_TV);
	P("CEC_OP_ALL_DEVTYPE_TV", CEC_OP_ALL_DEVTYPE_TV);
	P("CEC_OP_CEC_VERSION_1_4", CEC_OP_CEC_VERSION_1_4);
	P("CEC_VENDOR_ID_NONE", CEC_VENDOR_ID_NONE);
	P("CEC_LOG_ADDR_INVALID", CEC_LOG_ADDR_INVALID);
	P("CEC_TX_STATUS_OK", CEC_TX_STATUS_OK);
	P("CEC_TX_STATUS_NACK", CEC_TX_STATUS_NACK);
	P("CEC_EVENT_STATE_CHANGE", CEC_EVENT_STATE_CHANGE);
	P("CEC_EVENT_LOST_MSGS", CEC_EVENT_LOST_MSGS);
	P("CEC_MAX_MSG_SIZE", CEC_MAX_MSG_SIZE);
	P("CEC_MSG_IMAGE_VIEW_ON", CEC_MSG_IMAGE_VIEW_ON);
	P("CEC_MSG_USER_CONTROL_PRESSED", CEC_MSG_USER_CONTROL_PRESSED);
	P("CEC_MSG_USER_CONTROL_RELEASED", CEC_MSG_USER_CONTROL_RELEASED);
	P("CEC_MSG_ROUTING_CHANGE", CEC_MSG_ROUTING_CHANGE);
	P("CEC_MSG_ACTIVE_SOURCE", CEC_MSG_ACTIVE_SOURCE);
	P("CEC_MSG_REQUEST_ACTIVE_SOURCE", CEC_MSG_REQUEST_ACTIVE_SOURCE);
	P("CEC_MSG_SET_STREAM_PATH", CEC_MSG_SET_STREAM_PATH);
	P("CEC_MSG_INACTIVE_SOURCE", CEC_MSG_INACTIVE_SOURCE);
	P("CEC_OP_UI_CMD_SELECT", CEC_OP_UI_CMD_SELECT);
	P("CEC_OP_UI_CMD_BACK", CEC_OP_UI_CMD_BACK);
	P("CEC_OP_UI_CMD_VOLUME_UP", CEC_OP_UI_CMD_VOLUME_UP);
	P("CEC_OP_UI_CMD_VOLUME_DOWN", CEC_OP_UI_CMD_VOLUME_DOWN);
	P("CEC_OP_UI_CMD_MUTE", CEC_OP_UI_CMD_MUTE);
	P("CEC_OP_UI_CMD_STOP", CEC_OP_UI_CMD_STOP);
	P("CEC_OP_UI_CMD_MUTE_FUNCTION", CEC_OP_UI_CMD_MUTE_FUNCTION);
	P("CEC_OP_UI_CMD_F1_BLUE", CEC_OP_UI_CMD_F1_BLUE);
	P("CEC_OP_UI_CMD_F2_RED", CEC_OP_UI_CMD_F2_RED);
	P("CEC_OP_UI_CMD_F3_GREEN", CEC_OP_UI_CMD_F3_GREEN);
	P("CEC_OP_UI_CMD_F4_YELLOW", CEC_OP_UI_CMD_F4_YELLOW);
	return 0;
}
