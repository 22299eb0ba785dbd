// Command callboxd is the Callbox daemon: it loads the settings, opens the
// camera and microphone, and keeps the box in its call until it is stopped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// Exit codes: 0 after a clean stop, 2 for settings that cannot work.
const (
	exitOK        = 0
	exitBadConfig = 2
	exitFailed    = 1
)

func run(args []string) int {
	if usesDataDir(args) { // the box as it ships: settings from the setup page
		return runFromDataDir(args)
	}
	cfg, err := loadConfig(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		slog.Error("callboxd cannot start: the settings are wrong", "err", oneLine(err))
		return exitBadConfig
	}
	log := newLogger(cfg.Log.Level)
	slog.SetDefault(log)
	call.UseLogger(log.With("part", "livekit"))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	defer notifySystemd(ctx, log)() // systemd.go: READY=1 now, the watchdog fed, STOPPING=1 at the end

	var running atomic.Pointer[daemon]
	go serveLocalAPI(ctx, controlSocket, &localBox{current: running.Load}, log) // screen.go; -control
	if err := runDaemonWith(ctx, cfg, log, running.Store); err != nil {
		log.Error("callboxd stopped", "err", err)
		return exitFailed
	}
	return exitOK
}

// loadConfig reads the settings: defaults, then the file, then flags.
func loadConfig(args []string) (config.Config, error) {
	fs := flag.NewFlagSet("callboxd", flag.ContinueOnError)
	path := fs.String("config", "", "settings file (TOML); see callbox.example.toml")
	cfg := config.Default()
	// Flags are registered twice over: once to find -config, once over the
	// loaded file so that a flag given on the command line wins.
	bindFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *path != "" {
		loaded, err := config.Load(*path)
		if err != nil && !isValidationOnly(err) {
			return cfg, err
		}
		cfg = loaded
		again := flag.NewFlagSet("callboxd", flag.ContinueOnError)
		again.String("config", "", "")
		bindFlags(again, &cfg)
		if err := again.Parse(args); err != nil {
			return cfg, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// isValidationOnly reports whether a load error is only about values, which
// flags may still correct.
func isValidationOnly(err error) bool {
	var fe *config.FieldError
	return errors.As(err, &fe)
}

func bindFlags(fs *flag.FlagSet, c *config.Config) {
	fs.StringVar(&c.Call.URL, "url", c.Call.URL, "call server address (call.url)")
	fs.StringVar(&c.Call.Room, "room", c.Call.Room, "room to join (call.room)")
	fs.StringVar(&c.Call.Identity, "identity", c.Call.Identity, "identity in the room (call.identity)")
	fs.StringVar(&c.Call.Name, "name", c.Call.Name, "name people see (call.name)")
	fs.StringVar(&c.Call.APIKey, "api-key", c.Call.APIKey, "API key (call.api_key)")
	fs.StringVar(&c.Call.APISecret, "api-secret", c.Call.APISecret, "API secret (call.api_secret)")
	fs.StringVar(&c.Call.Token, "token", c.Call.Token, "access token, instead of key and secret (call.token)")
	fs.StringVar(&c.Video.Camera, "camera", c.Video.Camera, `camera device, card name, or "testpattern" (video.camera)`)
	fs.IntVar(&c.Video.Width, "width", c.Video.Width, "picture width (video.width)")
	fs.IntVar(&c.Video.Height, "height", c.Video.Height, "picture height (video.height)")
	fs.IntVar(&c.Video.FPS, "fps", c.Video.FPS, "frames per second (video.fps)")
	fs.StringVar(&c.Video.Codec, "codec", c.Video.Codec, "h264 or vp8 (video.codec)")
	fs.StringVar(&c.Video.PixelFormat, "pixel-format", c.Video.PixelFormat, `camera pixel format: YUYV, NV12, I420, MJPEG, or "" for the best (video.pixel_format)`)
	fs.IntVar(&c.Video.BitrateKbps, "bitrate", c.Video.BitrateKbps, "most video kbit/s (video.bitrate_kbps)")
	fs.BoolVar(&c.Video.Simulcast, "simulcast", c.Video.Simulcast, "send up to three sizes of the camera (video.simulcast)")
	fs.StringVar(&c.Audio.Microphone, "microphone", c.Audio.Microphone, `ALSA device or "tone" (audio.microphone)`)
	fs.IntVar(&c.Audio.ToneHz, "tone-hz", c.Audio.ToneHz, "tone frequency (audio.tone_hz)")
	fs.StringVar(&c.Log.Level, "log-level", c.Log.Level, "debug, info, warn or error (log.level)")
	fs.StringVar(&controlSocket, "control", controlSocket, "Unix socket of the local API for callboxctl screenshot and invite (none when empty)")
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated already
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// oneLine folds errors.Join's lines so a bad config is one log line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
