// Package pipeline owns the media graph between the devices and the call:
// raw frames and samples in, encoded frames out (and, for the receive side,
// back). It chooses and drives encoders and converts pixel formats. It sees
// devices only through the device/* interfaces and knows nothing of calls
// or networks.
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
}
