package main

// callboxd's flags: those of both modes in one set, with one help.

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/callbox/callbox/config"
)

// options are the flags as given.
type options struct {
	// Both modes.
	control  string // the local API's socket; "": none with -config, DIR/control.sock with -data
	logLevel string // "": the settings' log.level
	// -data DIR: the box as it ships.
	dataDir   string
	listen    string
	wpaSocket string
	provision string // a provisioning file to set the box up from
	// -config FILE: a call with fixed settings, for development.
	configFile string
	settings   []givenFlag // the setting flags given, each winning over the file
}

// givenFlag is one flag from the command line.
type givenFlag struct{ name, value string }

// flagGroups are the flags by the mode they belong to, for the help and
// for refusing a flag of the other mode.
type flagGroups struct {
	common, data, config *flag.FlagSet
}

// newFlags makes the flag set callboxd parses, writing into o.
func newFlags(o *options, output io.Writer) (*flag.FlagSet, flagGroups) {
	g := flagGroups{
		common: flag.NewFlagSet("both modes", flag.ContinueOnError),
		data:   flag.NewFlagSet("-data", flag.ContinueOnError),
		config: flag.NewFlagSet("-config", flag.ContinueOnError),
	}
	g.common.StringVar(&o.control, "control", "", "Unix socket of the local API, for callboxctl screenshot and invite (default: none with -config, DIR/control.sock with -data)")
	g.common.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error (default: log.level of the settings)")

	g.data.StringVar(&o.dataDir, "data", "", "data directory: settings, admin password, TLS key; the setup page writes it")
	g.data.StringVar(&o.listen, "listen", ":443", "address of the setup page (HTTPS)")
	g.data.StringVar(&o.provision, "provision", "", "provisioning file: a box that needs setting up takes its settings from it at start, then deletes it (callboxctl provision-file writes one)")
	g.data.StringVar(&o.wpaSocket, "wpa-socket", "", "wpa_supplicant's control socket (e.g. /run/wpa_supplicant/wlan0) for Wi-Fi setup; empty: no Wi-Fi")

	g.config.StringVar(&o.configFile, "config", "", "settings file (TOML); see callbox.example.toml")
	defaults := config.Default() // each setting flag says its default; the values land in o.settings
	bindFlags(g.config, &defaults)

	fs := flag.NewFlagSet("callboxd", flag.ContinueOnError)
	fs.SetOutput(output)
	for _, group := range []*flag.FlagSet{g.common, g.data, g.config} {
		group.SetOutput(output)
		group.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	}
	fs.Usage = func() { g.printHelp(output) }
	return fs, g
}

func (g flagGroups) printHelp(w io.Writer) {
	fmt.Fprint(w, `callboxd keeps the box in its video call. It starts in one of two ways:

  callboxd -data DIR [-listen ADDR] [-provision FILE] [-wpa-socket SOCKET] [-control SOCKET] [-log-level LEVEL]
	the box as it ships: it serves the setup page, which writes the
	settings into DIR, and runs the call they describe.
  callboxd [-config FILE] [SETTING FLAGS] [-control SOCKET] [-log-level LEVEL]
	a call with the settings of FILE, each setting flag given winning
	over the file; for development.

Either way:
`)
	g.common.PrintDefaults()
	fmt.Fprint(w, "\nWith -data:\n")
	g.data.PrintDefaults()
	fmt.Fprint(w, "\nWith -config (each setting flag names its setting in the file):\n")
	g.config.PrintDefaults()
}

// parseFlags reads args. A flag of the other mode is refused, naming it.
func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs, g := newFlags(&o, output)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch {
		case err != nil:
		case f.Name == "data" && o.dataDir == "":
			err = fmt.Errorf("-data needs a directory")
		case o.dataDir != "" && g.config.Lookup(f.Name) != nil:
			err = fmt.Errorf("-%s is for callboxd without -data: with -data DIR the settings are DIR/callbox.toml, written by the setup page", f.Name)
		case o.dataDir == "" && g.data.Lookup(f.Name) != nil:
			err = fmt.Errorf("-%s works only with -data DIR", f.Name)
		case g.config.Lookup(f.Name) != nil && f.Name != "config":
			o.settings = append(o.settings, givenFlag{f.Name, f.Value.String()})
		}
	})
	if err != nil {
		return o, err
	}
	if o.dataDir != "" && o.control == "" {
		o.control = filepath.Join(o.dataDir, "control.sock")
	}
	if o.logLevel != "" {
		var l slog.Level
		if l.UnmarshalText([]byte(o.logLevel)) != nil {
			return o, fmt.Errorf("-log-level %q is not one of debug, info, warn, error", o.logLevel)
		}
	}
	return o, nil
}

// bindFlags makes a flag of each setting a flag may set.
func bindFlags(fs *flag.FlagSet, c *config.Config) {
	fs.Var(&c.Call.URL, "url", "call server address (call.url); a cluster's servers separated by commas, tried in order")
	fs.StringVar(&c.Call.Room, "room", c.Call.Room, "room to join (call.room)")
	fs.StringVar(&c.Call.Identity, "identity", c.Call.Identity, "identity in the room (call.identity)")
	fs.StringVar(&c.Call.Name, "name", c.Call.Name, "name people see (call.name)")
	fs.StringVar(&c.Call.APIKey, "api-key", c.Call.APIKey, "API key (call.api_key)")
	fs.StringVar(&c.Call.APISecret, "api-secret", c.Call.APISecret, "API secret (call.api_secret)")
	fs.StringVar(&c.Call.Token, "token", c.Call.Token, "access token, instead of key and secret (call.token)")
	fs.StringVar((*string)(&c.Call.Encryption), "encryption", string(c.Call.Encryption), "end-to-end, shared-key or none (call.encryption)")
	fs.StringVar(&c.Video.Camera, "camera", c.Video.Camera, `camera device, card name, or "testpattern" (video.camera)`)
	fs.IntVar(&c.Video.Width, "width", c.Video.Width, "picture width (video.width)")
	fs.IntVar(&c.Video.Height, "height", c.Video.Height, "picture height (video.height)")
	fs.IntVar(&c.Video.FPS, "fps", c.Video.FPS, "frames per second (video.fps)")
	fs.StringVar(&c.Video.Codec, "codec", c.Video.Codec, "h264 or vp8 (video.codec)")
	fs.StringVar(&c.Video.PixelFormat, "pixel-format", c.Video.PixelFormat, `camera pixel format: YUYV, NV12, I420, MJPEG, or "" for the best (video.pixel_format)`)
	fs.IntVar(&c.Video.BitrateKbps, "bitrate", c.Video.BitrateKbps, "most video kbit/s, 0 for the size's (video.bitrate_kbps)")
	fs.BoolVar(&c.Video.Simulcast, "simulcast", c.Video.Simulcast, "send up to three sizes of the camera (video.simulcast)")
	fs.StringVar(&c.Audio.Microphone, "microphone", c.Audio.Microphone, `ALSA device or "tone" (audio.microphone)`)
	fs.IntVar(&c.Audio.ToneHz, "tone-hz", c.Audio.ToneHz, "tone frequency (audio.tone_hz)")
}

// loadConfig reads the settings of -config: defaults, then the file, then
// the setting flags given, then -log-level.
func loadConfig(o options) (config.Config, error) {
	cfg := config.Default()
	if o.configFile != "" {
		loaded, err := config.Load(o.configFile)
		if err != nil && !isValidationOnly(err) {
			return cfg, err
		}
		cfg = loaded
	}
	apply := flag.NewFlagSet("callboxd", flag.ContinueOnError)
	bindFlags(apply, &cfg)
	for _, f := range o.settings {
		if err := apply.Set(f.name, f.value); err != nil {
			return cfg, fmt.Errorf("-%s: %w", f.name, err) // parsed once already: not expected
		}
	}
	if o.logLevel != "" {
		cfg.Log.Level = o.logLevel
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}
