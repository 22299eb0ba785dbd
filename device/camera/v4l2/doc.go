// Package v4l2 is the camera driver: V4L2 capture devices through go4vl's
// ioctl wrappers (which use cgo, so this package sits apart from the pure-Go
// camera types). It finds a camera by node or card name, negotiates a
// format from what the device offers, streams with capture timestamps as
// wall time, exports its buffers as DMABUF when asked, and hands out
// camera.Frames as a camera.Source. Its errors wrap camera's sentinels
// (camera.ErrNotFound, ErrBusy, ErrGone, ...) and name the device.
package v4l2
