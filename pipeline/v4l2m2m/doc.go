// Package v4l2m2m owns the hardware video codecs that Linux exposes as V4L2
// memory-to-memory devices: the stateful encoder and decoder interfaces of
// the kernel's Documentation/userspace-api/media/v4l/dev-encoder.rst and
// dev-decoder.rst (the Raspberry Pi's bcm2835-codec, Rockchip, Amlogic,
// i.MX, Qualcomm Venus; vicodec in the lab), m2m scalers (vim2m, the Pi's
// ISP), and probing for them by capability; choosing between them and the
// software codecs is pipeline's (VideoSender). It imports only the plain
// media types and device/camera's frame types, and links no cgo (media's
// TestNoCgo). It talks to the kernel with its own ioctls over
// golang.org/x/sys/unix (videodev2.go, checked against the kernel headers
// by a test).
//
// It does not capture (device/camera/v4l2 does, and exports its buffers as
// DMABUF: the encoder imports them from camera.Frame.DMABuf), convert
// formats beyond copying between I420 and NV12, or know about calls: an
// encoder reports the codec it really produces (FWHT on vicodec), and the
// caller decides whether a call can carry it.
package v4l2m2m
