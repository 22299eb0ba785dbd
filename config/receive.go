package config

import "strings"

// Display is the screen the call is shown on.
type Display struct {
	// Output is "auto" (DRM/KMS, else /dev/fb0), "drm", "drm:/dev/dri/cardN",
	// "fbdev", "fbdev:/dev/fbN", "offscreen", "png:/path/screen.png" (an
	// offscreen screen saved as PNG twice a second), or "none".
	Output string `toml:"output"`
	// Width and Height size offscreen and png outputs; real screens use
	// their preferred mode.
	Width  int `toml:"width"`
	Height int `toml:"height"`
	FPS    int `toml:"fps"`
	// SelfView shows the box's own camera among the tiles.
	SelfView bool `toml:"self_view"`
}

// Speaker is where the others' sound is played.
type Speaker struct {
	// Device is an ALSA device ("default", "hw:1,0", a card name), "none",
	// or "file:/path.raw" (48 kHz mono 16-bit little-endian, for tests).
	Device string `toml:"device"`
	// EchoCancellation removes the speaker's sound from a real microphone
	// (with noise suppression and gain control); the test tone is never
	// processed.
	EchoCancellation bool `toml:"echo_cancellation"`
	// JitterMs is the least each participant's sound is held to even out
	// the network's jitter (more while the jitter needs it); video is held
	// as long, to stay in sync.
	JitterMs int `toml:"jitter_ms"`
}

// Names of the outputs and devices that are not device paths.
const (
	DisplayAuto = "auto"
	DisplayNone = "none"
	SpeakerNone = "none"
)

func defaultDisplay() Display {
	return Display{Output: DisplayAuto, Width: 1280, Height: 720, FPS: 30, SelfView: true}
}

func defaultSpeaker() Speaker {
	return Speaker{Device: "default", EchoCancellation: true, JitterMs: 60}
}

func (d Display) validate(bad func(field, format string, args ...any)) {
	kind, path, hasPath := strings.Cut(d.Output, ":")
	switch {
	case d.Output == "":
		bad("display.output", "is empty: use auto, drm, fbdev, offscreen, png:/path/screen.png or none")
	case !oneOf(kind, "auto", "drm", "fbdev", "offscreen", "png", "none"):
		bad("display.output", "%q is not one of auto, drm[:/dev/dri/cardN], fbdev[:/dev/fbN], offscreen, png:PATH, none", d.Output)
	case kind == "png" && path == "", hasPath && path == "":
		bad("display.output", "%q names no path", d.Output)
	}
	if d.Width < 160 || d.Width > 7680 || d.Width%2 != 0 {
		bad("display.width", "%d is not an even number from 160 to 7680", d.Width)
	}
	if d.Height < 90 || d.Height > 4320 || d.Height%2 != 0 {
		bad("display.height", "%d is not an even number from 90 to 4320", d.Height)
	}
	if d.FPS < 1 || d.FPS > 60 {
		bad("display.fps", "%d is not from 1 to 60", d.FPS)
	}
}

func (s Speaker) validate(bad func(field, format string, args ...any)) {
	if s.Device == "" || s.Device == "file:" {
		bad("speaker.device", "is empty: use an ALSA device such as default or hw:1,0, none, or file:/path.raw")
	}
	if s.JitterMs < 10 || s.JitterMs > 500 {
		bad("speaker.jitter_ms", "%d is not from 10 to 500", s.JitterMs)
	}
}
