// Package pipeline owns the media graph between the devices and the call:
// raw frames and samples in, encoded frames out (and, for the receive side,
// back). It holds the media policy: which video encoder runs (the board's
// m2m hardware through pipeline/v4l2m2m, or x264 and libvpx), simulcast,
// falling back to software mid-call (VideoSender); and it converts and
// scales pictures, mixes sound, cancels echo. The types it trades in are
// media's. It sees devices only through the device/* interfaces and never
// imports call: it knows nothing of calls or networks, and takes the
// settings' types (config.EncoderMode) but not their names.
package pipeline

// VideoSettings are what a software video encoder is built with.
type VideoSettings struct {
	Width, Height int
	FPS           int
	BitsPerSecond int
	// KeyframeInterval is the most frames between two keyframes.
	KeyframeInterval int
	// LowEffort trades a little picture quality for CPU time (x264:
	// whole-pixel motion search; VP8 ignores it). Simulcast sets it on
	// the layers below the first (SimulcastLayerSettings).
	LowEffort bool
	// Capped codes at a constant quality (x264's CRF, cappedQuality) and
	// keeps BitsPerSecond as a cap, not a target: an easy picture (a still
	// room, a test pattern) goes out at a third of the bitrate or less, as
	// a browser's encoder sends it, and so puts fewer packets at risk on a
	// lossy network. x264 only: VP8 and the hardware encoders code at the
	// bitrate.
	Capped bool
	// Content codes shared content (slides, text, a desktop) rather than
	// a camera: x264 tuned for still pictures (stillimage: a lighter
	// deblocking filter and stronger psychovisual tuning keep text
	// sharp). VP8 and the hardware encoders ignore it.
	Content bool
}
