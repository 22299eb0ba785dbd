// Package config owns Callbox's settings: one typed struct, its defaults, its
// validation, loading from one TOML file and writing it back atomically. It
// does not know how the settings are used.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// Config is every setting of the box. Field docs live in callbox.example.toml.
type Config struct {
	Call  Call  `toml:"call"`
	Video Video `toml:"video"`
	Audio Audio `toml:"audio"`
	Log   Log   `toml:"log"`
	// Controls: buttons, LEDs, keys and remotes (controls.go).
	Controls Controls `toml:"controls"`
	// Display and Speaker: the others on the screen and in the speaker (receive.go).
	Display Display `toml:"display"`
	Speaker Speaker `toml:"speaker"`
	// Ring: the box's line and ringing (ring.go).
	Ring Ring `toml:"ring"`
	// CEC: the TV woken and switched to the box over HDMI-CEC (cec.go).
	CEC CEC `toml:"cec"`
	// Metrics: Prometheus metrics, off by default (metrics.go).
	Metrics Metrics `toml:"metrics"`
	// Meetings: a meeting room's calendar (meetings.go).
	Meetings Meetings `toml:"meetings"`
}

// Call says which room to join and how to prove we may.
type Call struct {
	// URL is the call server, or a cluster's servers in the order the box
	// tries them (servers.go).
	URL       ServerURLs `toml:"url"`
	Room      string     `toml:"room"`
	Identity  string     `toml:"identity"`
	Name      string     `toml:"name"`
	APIKey    string     `toml:"api_key"`
	APISecret string     `toml:"api_secret"`
	Token     string     `toml:"token"`
	// Encryption says how media is encrypted: EncryptionEndToEnd (each
	// member with a key of its own, made by the box), EncryptionSharedKey
	// (one passphrase, RoomKey, as plain livekit-client apps use) or
	// EncryptionNone.
	Encryption EncryptionMode `toml:"encryption"`
	// RoomKey is the passphrase of EncryptionSharedKey, which only the
	// room's participants hold. A secret: never logged, never shown.
	RoomKey string `toml:"room_key"`
	// Boxes are the signing keys of the room's other boxes, each as
	// callboxctl box-key prints it (base64url, BoxKeyLength characters):
	// with end-to-end encryption, boxes that list each other share one
	// call, and each one's guests get keys from all.
	Boxes []string `toml:"boxes"`
}

// BoxKeyLength is the length of a box's key in call.boxes: 32 bytes in
// base64url without padding.
const BoxKeyLength = 43

// MaxBoxes is the most other boxes call.boxes lists.
const MaxBoxes = 16

// EncryptionMode is call.encryption.
type EncryptionMode string

const (
	// EncryptionEndToEnd: each member encrypts with a key of its own,
	// handed only to the members the box admitted (package call/keys).
	EncryptionEndToEnd EncryptionMode = "end-to-end"
	// EncryptionSharedKey: one passphrase (call.room_key) for everyone and
	// every call, for plain livekit-client apps.
	EncryptionSharedKey EncryptionMode = "shared-key"
	// EncryptionNone: media goes NOT end-to-end encrypted.
	EncryptionNone EncryptionMode = "none"
)

// Video is the camera and how its pictures are encoded.
type Video struct {
	// Camera is a device path (/dev/video0), a V4L2 card name, or
	// "testpattern" for the synthetic source.
	Camera string `toml:"camera"`
	Width  int    `toml:"width"`
	Height int    `toml:"height"`
	FPS    int    `toml:"fps"`
	Codec  string `toml:"codec"`
	// BitrateKbps is the most the full-size picture sends; 0 takes the
	// bitrate that goes with the size and rate (BitsPerSecond).
	BitrateKbps      int `toml:"bitrate_kbps"`
	KeyframeInterval int `toml:"keyframe_interval"`
	// PixelFormat forces the camera's pixel format ("YUYV", "NV12",
	// "I420", "MJPEG"); "" takes the best the camera offers.
	PixelFormat string `toml:"pixel_format"`
	// Encoder says how the video encoder is chosen.
	Encoder EncoderMode `toml:"encoder"`
	// Decoder says how the others' video is decoded.
	Decoder DecoderMode `toml:"decoder"`
	// Simulcast sends the camera in up to three sizes (full, half, quarter)
	// so each receiver gets the one its screen and network want.
	Simulcast bool `toml:"simulcast"`
	// ContentCamera is a second capture device whose pictures the box
	// shares as content (SCREEN_SHARE): an HDMI input (a USB capture
	// stick, a TC358743 bridge) by node or card name, or "testpattern";
	// empty shares nothing.
	ContentCamera string `toml:"content_camera"`
	// ContentFPS is the rate content is sent at, from 1 to 15.
	ContentFPS int `toml:"content_fps"`
}

// ContentBitsPerSecond is the most shared content sends: what a 1080p
// camera gets at 30 fps, spent on ContentFPS pictures a second for
// sharp text.
func (v Video) ContentBitsPerSecond() int {
	return Video{Width: 1920, Height: 1080, FPS: 30}.BitsPerSecond() // content's largest size
}

// Audio is the microphone and how its sound is encoded.
type Audio struct {
	// Microphone is an ALSA device ("default", "hw:1,0", a card name), or
	// "tone" for the synthetic source.
	Microphone  string `toml:"microphone"`
	ToneHz      int    `toml:"tone_hz"`
	PeriodMs    int    `toml:"period_ms"`
	BitrateKbps int    `toml:"bitrate_kbps"`
}

// Log sets how much the daemon says.
type Log struct {
	Level string `toml:"level"`
}

// validateBoxes checks call.boxes: each a box's key, none twice, only with
// end-to-end encryption.
func (c Config) validateBoxes(bad func(field, format string, args ...any)) {
	if len(c.Call.Boxes) > 0 && c.Call.Encryption != EncryptionEndToEnd {
		bad("call.boxes", "lists other boxes, but call.encryption is %q: boxes share a call only with call.encryption = %q", c.Call.Encryption, EncryptionEndToEnd)
	}
	if len(c.Call.Boxes) > MaxBoxes {
		bad("call.boxes", "lists %d boxes, at most %d", len(c.Call.Boxes), MaxBoxes)
	}
	for i, k := range c.Call.Boxes {
		field := fmt.Sprintf("call.boxes[%d]", i)
		b, err := base64.RawURLEncoding.DecodeString(k)
		switch {
		case err != nil || len(b) != 32:
			bad(field, "%q is not a box's key: %d characters of base64url (A-Z a-z 0-9 - _), as callboxctl box-key prints it on the other box", k, BoxKeyLength)
		case slices.Index(c.Call.Boxes, k) < i:
			bad(field, "lists the box %s… a second time", k[:8])
		}
	}
}

// MinRoomKeyLength is the shortest call.room_key taken: the server sees the
// encrypted frames and could try guesses offline.
const MinRoomKeyLength = 12

// Names of the synthetic sources and the codecs, as written in the file.
const (
	CameraTestPattern = "testpattern"
	MicrophoneTone    = "tone"
	CodecH264         = "h264"
	CodecVP8          = "vp8"
)

// EncoderMode says how the video encoder is chosen (video.encoder).
type EncoderMode string

const (
	// EncoderAuto: the board's hardware (m2m) encoder when it makes the
	// call's codec, else software; software too when the hardware fails
	// mid-call.
	EncoderAuto EncoderMode = "auto"
	// EncoderHardware: the hardware encoder, or an error.
	EncoderHardware EncoderMode = "hardware"
	// EncoderSoftware: x264 or libvpx; the hardware is not looked for.
	EncoderSoftware EncoderMode = "software"
)

// DecoderMode says how the others' video is decoded (video.decoder).
type DecoderMode string

const (
	// DecoderAuto: the board's hardware (m2m) decoder for each participant
	// whose codec it reads, as long as it has an instance free, else
	// software; software too when the hardware fails mid-call.
	DecoderAuto DecoderMode = "auto"
	// DecoderSoftware: libavcodec for everyone; the hardware is not looked for.
	DecoderSoftware DecoderMode = "software"
)

// Default returns the settings of a box that has been told nothing: the
// synthetic sources, 720p30 H.264.
func Default() Config {
	return Config{
		Call: Call{Identity: "callbox", Name: "Callbox", Encryption: EncryptionEndToEnd},
		Video: Video{
			Camera: CameraTestPattern, Width: 1280, Height: 720, FPS: 30, ContentFPS: 5,
			Codec: CodecH264, KeyframeInterval: 120, Encoder: EncoderAuto, Decoder: DecoderAuto,
		},
		Audio: Audio{Microphone: MicrophoneTone, ToneHz: 440, PeriodMs: 20, BitrateKbps: 32},
		Log:   Log{Level: "info"},

		Controls: Controls{StartInCall: true},
		Display:  defaultDisplay(),
		Speaker:  defaultSpeaker(),
		Ring:     defaultRing(),
		Meetings: defaultMeetings(),
		CEC:      defaultCEC(),
	}
}

// Load reads path over the defaults and validates the result.
func Load(path string) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	cfg, err = Parse(data) // atomic.go
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// FieldError names the setting that is wrong and says why.
type FieldError struct {
	Field  string // as written in the file: "video.codec"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate checks every setting and returns all problems found, each a *FieldError.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}

	c.Call.URL.validate(bad) // servers.go
	if c.Call.Token == "" {
		if c.Call.Room == "" {
			bad("call.room", "is empty: name the room to join")
		}
		if c.Call.Identity == "" {
			bad("call.identity", "is empty: give the box a unique identity in the room")
		}
		if c.Call.APIKey == "" || c.Call.APISecret == "" {
			bad("call.api_key", "api_key and api_secret are both needed when no token is given")
		}
	}

	name := func(field, value string, max int) {
		if err := CheckName(value, max); err != nil {
			bad(field, "%v", err)
		}
	}
	name("call.name", c.Call.Name, MaxNameLength)
	name("call.room", c.Call.Room, MaxRoomLength)
	name("call.identity", c.Call.Identity, MaxRoomLength)

	switch c.Call.Encryption {
	case EncryptionSharedKey:
		if len(c.Call.RoomKey) < MinRoomKeyLength {
			// Never the key itself in the message.
			bad("call.room_key", "is %d characters long: shared-key encryption needs at least %d (a longer one is harder to guess)", len(c.Call.RoomKey), MinRoomKeyLength)
		}
	case EncryptionEndToEnd, EncryptionNone:
		if c.Call.RoomKey != "" {
			bad("call.room_key", "is set, but call.encryption is %q: a shared room key is used only with call.encryption = %q", c.Call.Encryption, EncryptionSharedKey)
		}
	default:
		bad("call.encryption", "%q is not one of %s, %s, %s", c.Call.Encryption, EncryptionEndToEnd, EncryptionSharedKey, EncryptionNone)
	}

	c.validateBoxes(bad)

	if c.Video.Camera == "" {
		bad("video.camera", "is empty: use a device path such as /dev/video0, a camera name, or %q", CameraTestPattern)
	}
	if c.Video.Width < 16 || c.Video.Width > 3840 || c.Video.Width%2 != 0 {
		bad("video.width", "%d is not an even number from 16 to 3840", c.Video.Width)
	}
	if c.Video.Height < 16 || c.Video.Height > 2160 || c.Video.Height%2 != 0 {
		bad("video.height", "%d is not an even number from 16 to 2160", c.Video.Height)
	}
	if c.Video.FPS < 1 || c.Video.FPS > 60 {
		bad("video.fps", "%d is not from 1 to 60", c.Video.FPS)
	}
	if !oneOf(c.Video.Codec, CodecH264, CodecVP8) {
		bad("video.codec", "%q is not one of %s, %s", c.Video.Codec, CodecH264, CodecVP8)
	}
	if c.Video.BitrateKbps != 0 && (c.Video.BitrateKbps < 50 || c.Video.BitrateKbps > 20000) {
		bad("video.bitrate_kbps", "%d is not from 50 to 20000, or 0 for the bitrate that goes with the size", c.Video.BitrateKbps)
	}
	if mbps := macroblocks(c.Video.Width) * macroblocks(c.Video.Height) * c.Video.FPS; c.Video.Codec == CodecH264 && mbps > maxH264MacroblocksPerSecond {
		bad("video.fps", "%dx%d at %d fps is more than H.264 level 5.1 carries (%d macroblocks of 16x16 a second, e.g. 3840x2160 at 30): lower the size or the rate",
			c.Video.Width, c.Video.Height, c.Video.FPS, maxH264MacroblocksPerSecond)
	}
	if c.Video.KeyframeInterval < 1 || c.Video.KeyframeInterval > 600 {
		bad("video.keyframe_interval", "%d is not from 1 to 600 frames", c.Video.KeyframeInterval)
	}
	if !oneOf(c.Video.PixelFormat, "", "YUYV", "NV12", "I420", "MJPEG") {
		bad("video.pixel_format", "%q is not one of YUYV, NV12, I420, MJPEG, or empty for the best the camera offers", c.Video.PixelFormat)
	}
	if c.Video.ContentCamera != "" && c.Video.ContentCamera == c.Video.Camera && c.Video.Camera != CameraTestPattern {
		bad("video.content_camera", "%q is video.camera too: content needs a capture device of its own (an HDMI input)", c.Video.ContentCamera)
	}
	if c.Video.ContentFPS < 1 || c.Video.ContentFPS > 15 {
		bad("video.content_fps", "%d is not from 1 to 15", c.Video.ContentFPS)
	}
	if !oneOf(c.Video.Encoder, EncoderAuto, EncoderHardware, EncoderSoftware) {
		bad("video.encoder", "%q is not one of %s, %s, %s", c.Video.Encoder, EncoderAuto, EncoderHardware, EncoderSoftware)
	}
	if !oneOf(c.Video.Decoder, DecoderAuto, DecoderSoftware) {
		bad("video.decoder", "%q is not one of %s, %s", c.Video.Decoder, DecoderAuto, DecoderSoftware)
	}

	if c.Audio.Microphone == "" {
		bad("audio.microphone", "is empty: use an ALSA device such as default or hw:1,0, or %q", MicrophoneTone)
	}
	if c.Audio.ToneHz < 20 || c.Audio.ToneHz > 20000 {
		bad("audio.tone_hz", "%d is not from 20 to 20000", c.Audio.ToneHz)
	}
	if !oneOf(c.Audio.PeriodMs, 10, 20) {
		bad("audio.period_ms", "%d is not one of 10, 20", c.Audio.PeriodMs)
	}
	if c.Audio.BitrateKbps < 6 || c.Audio.BitrateKbps > 510 {
		bad("audio.bitrate_kbps", "%d is not from 6 to 510", c.Audio.BitrateKbps)
	}

	if !oneOf(strings.ToLower(c.Log.Level), "debug", "info", "warn", "error") {
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	c.Controls.validate(c.Call, bad)
	c.Display.validate(bad)
	c.Speaker.validate(bad)
	c.Ring.validate(c, bad)
	c.CEC.validate(bad)
	c.Metrics.validate(bad)
	c.Meetings.validate(c, bad)
	return errors.Join(errs...)
}

// Save writes cfg to path atomically: a reader sees the old file or the new
// one, never half of one, even across a power cut.
func Save(path string, cfg Config) error {
	data, err := Encode(cfg)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(OS, path, data); err != nil { // atomic.go
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func oneOf[T comparable](v T, allowed ...T) bool { return slices.Contains(allowed, v) }

// maxH264MacroblocksPerSecond is H.264 level 5.1's limit, the highest level
// the box sends (media.MaxH264Level; config_test holds the two together).
const maxH264MacroblocksPerSecond = 983040

// macroblocks is how many 16-pixel macroblocks cover n pixels.
func macroblocks(n int) int { return (n + 15) / 16 }

// BitsPerSecond is the most the full-size picture sends: BitrateKbps, or
// when that is 0 the bitrate that goes with the size and rate. That one
// grows with the pixels a second to the power 0.85, as LiveKit's presets
// do: 1500 kbit/s at 1280x720@30, 3000 at 1920x1080@30, 450 at
// 640x360@30; in steps of 50 kbit/s, from 50 to 20000.
func (v Video) BitsPerSecond() int {
	if v.BitrateKbps != 0 {
		return v.BitrateKbps * 1000
	}
	share := float64(v.Width) * float64(v.Height) * float64(v.FPS) / (1280 * 720 * 30)
	kbps := 50 * math.Round(1500*math.Pow(share, 0.85)/50)
	return int(min(max(kbps, 50), 20000)) * 1000
}
