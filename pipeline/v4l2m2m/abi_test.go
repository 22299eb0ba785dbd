package v4l2m2m

import (
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/cabi"
)

// TestABIMatchesHeader compiles testdata/v4l2_abi.c against the kernel's
// <linux/videodev2.h> and compares every size, offset, ioctl number and
// constant it prints with ours.
func TestABIMatchesHeader(t *testing.T) {
	header := cabi.Header(t, filepath.Join("testdata", "v4l2_abi.c"), "/usr/include/linux/videodev2.h")

	var (
		capab  v4l2Capability
		desc   v4l2FmtDesc
		f      v4l2Format
		pix    v4l2PixFormat
		mp     v4l2PixFormatMPlane
		rb     v4l2RequestBuffers
		pl     v4l2Plane
		buf    v4l2Buffer
		enc    v4l2EncoderCmd
		dec    v4l2DecoderCmd
		ev     v4l2Event
		qc     v4l2QueryCtrl
		outp   v4l2OutputParm
		parm   v4l2StreamParm
		sel    v4l2Selection
		size   = func(v uintptr) uint64 { return uint64(v) }
		fourcc = func(p camera.PixelFormat) uint64 { return uint64(p) }
	)
	ours := map[string]uint64{
		"sizeof v4l2_capability":                            size(unsafe.Sizeof(capab)),
		"v4l2_capability.capabilities":                      size(unsafe.Offsetof(capab.capabilities)),
		"v4l2_capability.device_caps":                       size(unsafe.Offsetof(capab.deviceCaps)),
		"sizeof v4l2_fmtdesc":                               size(unsafe.Sizeof(desc)),
		"v4l2_fmtdesc.flags":                                size(unsafe.Offsetof(desc.flags)),
		"v4l2_fmtdesc.pixelformat":                          size(unsafe.Offsetof(desc.pixelFormat)),
		"sizeof v4l2_format":                                size(unsafe.Sizeof(f)),
		"v4l2_format.fmt":                                   size(unsafe.Offsetof(f.fmt)),
		"sizeof v4l2_pix_format":                            size(unsafe.Sizeof(pix)),
		"v4l2_pix_format.bytesperline":                      size(unsafe.Offsetof(pix.bytesPerLine)),
		"v4l2_pix_format.sizeimage":                         size(unsafe.Offsetof(pix.sizeImage)),
		"v4l2_pix_format.xfer_func":                         size(unsafe.Offsetof(pix.xferFunc)),
		"sizeof v4l2_plane_pix_format":                      size(unsafe.Sizeof(v4l2PlanePixFormat{})),
		"sizeof v4l2_pix_format_mplane":                     size(unsafe.Sizeof(mp)),
		"v4l2_pix_format_mplane.plane_fmt":                  size(unsafe.Offsetof(mp.planeFmt)),
		"v4l2_pix_format_mplane.num_planes":                 size(unsafe.Offsetof(mp.numPlanes)),
		"sizeof v4l2_requestbuffers":                        size(unsafe.Sizeof(rb)),
		"v4l2_requestbuffers.memory":                        size(unsafe.Offsetof(rb.memory)),
		"v4l2_requestbuffers.flags":                         size(unsafe.Offsetof(rb.flags)),
		"sizeof v4l2_timecode":                              size(unsafe.Sizeof(v4l2Timecode{})),
		"sizeof v4l2_plane":                                 size(unsafe.Sizeof(pl)),
		"v4l2_plane.m":                                      size(unsafe.Offsetof(pl.m)),
		"v4l2_plane.data_offset":                            size(unsafe.Offsetof(pl.dataOffset)),
		"sizeof v4l2_buffer":                                size(unsafe.Sizeof(buf)),
		"v4l2_buffer.flags":                                 size(unsafe.Offsetof(buf.flags)),
		"v4l2_buffer.timestamp":                             size(unsafe.Offsetof(buf.timestamp)),
		"v4l2_buffer.timecode":                              size(unsafe.Offsetof(buf.timecode)),
		"v4l2_buffer.sequence":                              size(unsafe.Offsetof(buf.sequence)),
		"v4l2_buffer.memory":                                size(unsafe.Offsetof(buf.memory)),
		"v4l2_buffer.m":                                     size(unsafe.Offsetof(buf.m)),
		"v4l2_buffer.length":                                size(unsafe.Offsetof(buf.length)),
		"v4l2_buffer.request_fd":                            size(unsafe.Offsetof(buf.requestFD)),
		"sizeof v4l2_encoder_cmd":                           size(unsafe.Sizeof(enc)),
		"v4l2_encoder_cmd.raw":                              size(unsafe.Offsetof(enc.data)),
		"sizeof v4l2_decoder_cmd":                           size(unsafe.Sizeof(dec)),
		"v4l2_decoder_cmd.raw":                              size(unsafe.Offsetof(dec.raw)),
		"sizeof v4l2_event_subscription":                    size(unsafe.Sizeof(v4l2EventSubscription{})),
		"sizeof v4l2_event":                                 size(unsafe.Sizeof(ev)),
		"v4l2_event.u":                                      size(unsafe.Offsetof(ev.u)),
		"v4l2_event.pending":                                size(unsafe.Offsetof(ev.pending)),
		"v4l2_event.timestamp":                              size(unsafe.Offsetof(ev.timestamp)),
		"v4l2_event.id":                                     size(unsafe.Offsetof(ev.id)),
		"sizeof v4l2_queryctrl":                             size(unsafe.Sizeof(qc)),
		"v4l2_queryctrl.minimum":                            size(unsafe.Offsetof(qc.minimum)),
		"v4l2_queryctrl.flags":                              size(unsafe.Offsetof(qc.flags)),
		"sizeof v4l2_control":                               size(unsafe.Sizeof(v4l2Control{})),
		"sizeof v4l2_outputparm":                            size(unsafe.Sizeof(outp)),
		"v4l2_outputparm.timeperframe":                      size(unsafe.Offsetof(outp.timePerFrame)),
		"sizeof v4l2_streamparm":                            size(unsafe.Sizeof(parm)),
		"v4l2_streamparm.parm":                              size(unsafe.Offsetof(parm.parm)),
		"sizeof v4l2_selection":                             size(unsafe.Sizeof(sel)),
		"v4l2_selection.r":                                  size(unsafe.Offsetof(sel.r)),
		"VIDIOC_QUERYCAP":                                   uint64(vidiocQueryCap),
		"VIDIOC_ENUM_FMT":                                   uint64(vidiocEnumFmt),
		"VIDIOC_G_FMT":                                      uint64(vidiocGFmt),
		"VIDIOC_S_FMT":                                      uint64(vidiocSFmt),
		"VIDIOC_REQBUFS":                                    uint64(vidiocReqBufs),
		"VIDIOC_QUERYBUF":                                   uint64(vidiocQueryBuf),
		"VIDIOC_QBUF":                                       uint64(vidiocQBuf),
		"VIDIOC_DQBUF":                                      uint64(vidiocDQBuf),
		"VIDIOC_STREAMON":                                   uint64(vidiocStreamOn),
		"VIDIOC_STREAMOFF":                                  uint64(vidiocStreamOff),
		"VIDIOC_S_PARM":                                     uint64(vidiocSParm),
		"VIDIOC_G_CTRL":                                     uint64(vidiocGCtrl),
		"VIDIOC_S_CTRL":                                     uint64(vidiocSCtrl),
		"VIDIOC_QUERYCTRL":                                  uint64(vidiocQueryCtrl),
		"VIDIOC_ENCODER_CMD":                                uint64(vidiocEncoderCmd),
		"VIDIOC_DQEVENT":                                    uint64(vidiocDQEvent),
		"VIDIOC_SUBSCRIBE_EVENT":                            uint64(vidiocSubscribeEvent),
		"VIDIOC_G_SELECTION":                                uint64(vidiocGSelection),
		"VIDIOC_S_SELECTION":                                uint64(vidiocSSelection),
		"VIDIOC_DECODER_CMD":                                uint64(vidiocDecoderCmd),
		"V4L2_BUF_TYPE_VIDEO_CAPTURE":                       bufTypeVideoCapture,
		"V4L2_BUF_TYPE_VIDEO_OUTPUT":                        bufTypeVideoOutput,
		"V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE":                bufTypeVideoCaptureMPlane,
		"V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE":                 bufTypeVideoOutputMPlane,
		"V4L2_MEMORY_MMAP":                                  memoryMMAP,
		"V4L2_MEMORY_DMABUF":                                memoryDMABUF,
		"V4L2_CAP_VIDEO_CAPTURE":                            capVideoCapture,
		"V4L2_CAP_VIDEO_OUTPUT":                             capVideoOutput,
		"V4L2_CAP_VIDEO_CAPTURE_MPLANE":                     capVideoCaptureMPlane,
		"V4L2_CAP_VIDEO_OUTPUT_MPLANE":                      capVideoOutputMPlane,
		"V4L2_CAP_VIDEO_M2M_MPLANE":                         capVideoM2MMPlane,
		"V4L2_CAP_VIDEO_M2M":                                capVideoM2M,
		"V4L2_CAP_STREAMING":                                capStreaming,
		"V4L2_CAP_DEVICE_CAPS":                              capDeviceCaps,
		"V4L2_BUF_FLAG_KEYFRAME":                            bufFlagKeyframe,
		"V4L2_BUF_FLAG_PFRAME":                              bufFlagPFrame,
		"V4L2_BUF_FLAG_ERROR":                               bufFlagError,
		"V4L2_BUF_FLAG_LAST":                                bufFlagLast,
		"V4L2_FIELD_NONE":                                   fieldNone,
		"V4L2_FMT_FLAG_COMPRESSED":                          fmtFlagCompressed,
		"V4L2_EVENT_EOS":                                    eventEOS,
		"V4L2_EVENT_SOURCE_CHANGE":                          eventSourceChange,
		"V4L2_EVENT_SRC_CH_RESOLUTION":                      srcChangeResolution,
		"V4L2_ENC_CMD_START":                                encCmdStart,
		"V4L2_ENC_CMD_STOP":                                 encCmdStop,
		"V4L2_DEC_CMD_START":                                decCmdStart,
		"V4L2_DEC_CMD_STOP":                                 decCmdStop,
		"V4L2_SEL_TGT_CROP":                                 selTgtCrop,
		"V4L2_SEL_TGT_COMPOSE":                              selTgtCompose,
		"VIDEO_MAX_PLANES":                                  videoMaxPlanes,
		"V4L2_CID_MIN_BUFFERS_FOR_CAPTURE":                  cidMinBuffersForCapture,
		"V4L2_CID_MIN_BUFFERS_FOR_OUTPUT":                   cidMinBuffersForOutput,
		"V4L2_CID_MPEG_VIDEO_GOP_SIZE":                      cidGOPSize,
		"V4L2_CID_MPEG_VIDEO_BITRATE_MODE":                  cidBitrateMode,
		"V4L2_CID_MPEG_VIDEO_BITRATE":                       cidBitrate,
		"V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER":             cidRepeatSeqHeader,
		"V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME":               cidForceKeyFrame,
		"V4L2_CID_FWHT_I_FRAME_QP":                          cidFWHTIFrameQP,
		"V4L2_CID_FWHT_P_FRAME_QP":                          cidFWHTPFrameQP,
		"V4L2_CID_MPEG_VIDEO_H264_I_PERIOD":                 cidH264IPeriod,
		"V4L2_CID_MPEG_VIDEO_H264_LEVEL":                    cidH264Level,
		"V4L2_CID_MPEG_VIDEO_H264_PROFILE":                  cidH264Profile,
		"V4L2_CID_MPEG_VIDEO_PREPEND_SPSPPS_TO_IDR":         cidPrependSPSPPSToIDR,
		"V4L2_MPEG_VIDEO_BITRATE_MODE_VBR":                  bitrateModeVBR,
		"V4L2_MPEG_VIDEO_BITRATE_MODE_CBR":                  bitrateModeCBR,
		"V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE": h264ProfileConstrainedBaseline,
		"V4L2_MPEG_VIDEO_H264_LEVEL_3_1":                    h264Level31,
		"V4L2_MPEG_VIDEO_H264_LEVEL_3_2":                    h264Level32,
		"V4L2_MPEG_VIDEO_H264_LEVEL_4_0":                    h264Level40,
		"V4L2_MPEG_VIDEO_H264_LEVEL_4_1":                    h264Level41,
		"V4L2_MPEG_VIDEO_H264_LEVEL_4_2":                    h264Level42,
		"V4L2_MPEG_VIDEO_H264_LEVEL_5_0":                    h264Level50,
		"V4L2_MPEG_VIDEO_H264_LEVEL_5_1":                    h264Level51,
		"V4L2_CTRL_FLAG_DISABLED":                           ctrlFlagDisabled,
		"V4L2_FWHT_FL_I_FRAME":                              fwhtFlagIFrame,
		"V4L2_PIX_FMT_H264":                                 fourcc(PixelFormatH264),
		"V4L2_PIX_FMT_VP8":                                  fourcc(PixelFormatVP8),
		"V4L2_PIX_FMT_FWHT":                                 fourcc(PixelFormatFWHT),
		"V4L2_PIX_FMT_YUV420":                               fourcc(camera.PixelFormatI420),
		"V4L2_PIX_FMT_NV12":                                 fourcc(camera.PixelFormatNV12),
		"V4L2_PIX_FMT_YUYV":                                 fourcc(camera.PixelFormatYUYV),
		"V4L2_PIX_FMT_RGB24":                                fourcc(PixelFormatRGB24),
	}
	cabi.Compare(t, header, ours)
}
