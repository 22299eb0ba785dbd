package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/callbox/callbox/media"
)

func validConfig() Config {
	c := Default()
	c.Call.URL = ServerURLs{"ws://10.99.0.1:7880"}
	c.Call.Room = "family"
	c.Call.APIKey = "key"
	c.Call.APISecret = "secret"
	return c
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		field  string
		says   string
	}{
		{"no url", func(c *Config) { c.Call.URL = nil }, "call.url", "empty"},
		{"url without scheme", func(c *Config) { c.Call.URL = ServerURLs{"10.0.0.1:7880"} }, "call.url", "ws://"},
		{"url of another scheme", func(c *Config) { c.Call.URL = ServerURLs{"ftp://host"} }, "call.url", "ftp://host"},
		{"no room", func(c *Config) { c.Call.Room = "" }, "call.room", "empty"},
		{"no identity", func(c *Config) { c.Call.Identity = "" }, "call.identity", "empty"},
		{"no secret", func(c *Config) { c.Call.APISecret = "" }, "call.api_key", "token"},
		{"no camera", func(c *Config) { c.Video.Camera = "" }, "video.camera", "testpattern"},
		{"odd width", func(c *Config) { c.Video.Width = 1279 }, "video.width", "1279"},
		{"huge height", func(c *Config) { c.Video.Height = 10000 }, "video.height", "16 to 2160"},
		{"zero fps", func(c *Config) { c.Video.FPS = 0 }, "video.fps", "1 to 60"},
		{"short room key", func(c *Config) { c.Call.Encryption, c.Call.RoomKey = EncryptionSharedKey, "s3cret" }, "call.room_key", "at least 12"},
		{"no room key for shared-key", func(c *Config) { c.Call.Encryption = EncryptionSharedKey }, "call.room_key", "at least 12"},
		{"a room key without shared-key", func(c *Config) { c.Call.RoomKey = "a long enough room key" }, "call.room_key", `call.encryption = "shared-key"`},
		{"unknown encryption", func(c *Config) { c.Call.Encryption = "aes" }, "call.encryption", "end-to-end, shared-key, none"},
		{"unknown codec", func(c *Config) { c.Video.Codec = "h265" }, "video.codec", "h264, vp8"},
		{"tiny bitrate", func(c *Config) { c.Video.BitrateKbps = 1 }, "video.bitrate_kbps", "50 to 20000"},
		{"4K at 60 fps", func(c *Config) { c.Video.Width, c.Video.Height, c.Video.FPS = 3840, 2160, 60 }, "video.fps", "3840x2160 at 60 fps is more than H.264 level 5.1"},
		{"no keyframes", func(c *Config) { c.Video.KeyframeInterval = 0 }, "video.keyframe_interval", "1 to 600"},
		{"unknown pixel format", func(c *Config) { c.Video.PixelFormat = "RGB3" }, "video.pixel_format", "YUYV, NV12"},
		{"unknown encoder mode", func(c *Config) { c.Video.Encoder = "gpu" }, "video.encoder", `"gpu" is not one of auto, hardware, software`},
		{"unknown decoder mode", func(c *Config) { c.Video.Decoder = "hardware" }, "video.decoder", `"hardware" is not one of auto, software`},
		{"content camera is the camera", func(c *Config) { c.Video.Camera, c.Video.ContentCamera = "/dev/video0", "/dev/video0" }, "video.content_camera", "a capture device of its own"},
		{"content too fast", func(c *Config) { c.Video.ContentFPS = 30 }, "video.content_fps", "30 is not from 1 to 15"},
		{"no microphone", func(c *Config) { c.Audio.Microphone = "" }, "audio.microphone", "tone"},
		{"inaudible tone", func(c *Config) { c.Audio.ToneHz = 5 }, "audio.tone_hz", "20 to 20000"},
		{"odd period", func(c *Config) { c.Audio.PeriodMs = 15 }, "audio.period_ms", "10, 20"},
		{"audio bitrate", func(c *Config) { c.Audio.BitrateKbps = 1000 }, "audio.bitrate_kbps", "6 to 510"},
		{"log level", func(c *Config) { c.Log.Level = "loud" }, "log.level", "debug, info"},
		{"ringing and joining at start", func(c *Config) { c.Ring.Enabled = true }, "ring.enabled", "start_in_call = false"},
		{"ringing with a token", func(c *Config) {
			c.Ring.Enabled, c.Controls.StartInCall, c.Call.Token, c.Call.APIKey, c.Call.APISecret = true, false, "a.b.c", "", ""
		}, "ring.enabled", "call.api_key"},
		{"ringing for ever", func(c *Config) { c.Ring.TimeoutS = 3600 }, "ring.timeout_s", "5 to 600"},
		{"answering after the ring ends", func(c *Config) { c.Ring.AutoAnswerAfterS = 45 }, "ring.auto_answer_after_s", "under ring.timeout_s (45)"},
		{"metrics without a token", func(c *Config) { c.Metrics.Listen = ":9464" }, "metrics.token", "at least 16"},
		{"metrics on a name", func(c *Config) { c.Metrics.Listen, c.Metrics.Token = "box.local:9464", "0123456789abcdef" }, "metrics.listen", "an IP address"},
		{"metrics on no port", func(c *Config) { c.Metrics.Listen, c.Metrics.Token = "9464", "0123456789abcdef" }, "metrics.listen", ":PORT"},
		{"cec on no device", func(c *Config) { c.CEC.Device = "cec0" }, "cec.device", "/dev/cec0"},
		{"calendar over plain http", func(c *Config) { c.Meetings.Calendar = "http://cal.example/room.ics" }, "meetings.calendar", "https://"},
		{"calendar as a relative path", func(c *Config) { c.Meetings.Calendar = "room.ics" }, "meetings.calendar", "absolute path"},
		{"calendar with a token", func(c *Config) {
			c.Meetings.Calendar, c.Call.Token, c.Call.APIKey, c.Call.APISecret = "/etc/callbox/room.ics", "a.b.c", "", ""
		}, "meetings.calendar", "call.api_key"},
		{"joining meetings without a calendar", func(c *Config) { c.Meetings.AutoJoin = true }, "meetings.auto_join", "meetings.calendar"},
		{"calendar read every second", func(c *Config) { c.Meetings.RefreshS = 1 }, "meetings.refresh_s", "5 to 86400"},
		{"answering a stranger", func(c *Config) { c.Ring.AutoAnswer = []string{"neighbours"} }, "ring.auto_answer", `"neighbours" is not one of controls.contacts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			checkFieldError(t, c.Validate(), tt.field, tt.says)
		})
	}
}

// checkFieldError asserts that err is a *FieldError naming field and
// saying says.
func checkFieldError(t *testing.T, err error, field, says string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Validate() = %v, want a *FieldError", err)
	}
	if fe.Field != field {
		t.Errorf("error names field %q, want %q (error: %v)", fe.Field, field, err)
	}
	if !strings.Contains(err.Error(), says) {
		t.Errorf("error %q does not say %q", err, says)
	}
}

func TestTokenReplacesKeyAndRoom(t *testing.T) {
	c := validConfig()
	c.Call.APIKey, c.Call.APISecret, c.Call.Room = "", "", ""
	c.Call.Token = "eyJ..."
	if err := c.Validate(); err != nil {
		t.Fatalf("a token alone should do: %v", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Video.FPS = 0
	c.Audio.PeriodMs = 7
	err := c.Validate()
	for _, field := range []string{"video.fps", "audio.period_ms"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, want it to name %s", err, field)
		}
	}
}

func TestExampleFileLoads(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "callbox.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	// The example documents the defaults: a field that differs is a lie in one of them.
	want := Default()
	want.Call = cfg.Call
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("example file differs from Default():\n got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	tests := []struct{ name, body, says string }{
		{"unknown key", "[video]\ncolour = \"red\"\n", "video.colour: is not a setting"},
		{"wrong type", "[video]\nfps = \"thirty\"\n", "fps"},
		{"not toml", "this is { not toml", "config"},
		{"invalid value", "[call]\nurl = \"ws://h:1\"\nroom = \"r\"\napi_key = \"k\"\napi_secret = \"s\"\n[video]\ncodec = \"mpeg2\"\n", "video.codec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "callbox.toml")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Load() = %v, want an error saying %s", err, tt.says)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}

func TestSaveThenLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callbox.toml")
	cfg := validConfig()
	cfg.Video.Codec = CodecVP8
	if err := Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v", got, cfg)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, want 0600: it holds the API secret", info.Mode().Perm())
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".callbox-config-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// TestRoomKeyIsNeverInAnError: a rejected room key is described, not shown.
func TestRoomKeyIsNeverInAnError(t *testing.T) {
	c := validConfig()
	c.Call.Encryption = EncryptionSharedKey
	c.Call.RoomKey = "s3cret-ab"
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Validate() = %v, want an error without the key", err)
	}
	c.Call.RoomKey = "a long enough room key"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v for a good room key", err)
	}
}

// TestRoomKeyFromBeforeEncryptionModes: a box upgraded from before
// call.encryption keeps its shared-key call; a file that names the mode
// still has to agree with its room key.
func TestRoomKeyFromBeforeEncryptionModes(t *testing.T) {
	head := "[call]\nurl = \"ws://h:1\"\nroom = \"r\"\napi_key = \"k\"\napi_secret = \"s\"\nroom_key = \"a long enough room key\"\n"
	cfg, err := Parse([]byte(head))
	if err != nil {
		t.Fatalf("settings with only a room key: %v", err)
	}
	if cfg.Call.Encryption != EncryptionSharedKey {
		t.Errorf("call.encryption = %q for settings with only a room key, want %q", cfg.Call.Encryption, EncryptionSharedKey)
	}
	if _, err := Parse([]byte(head + "encryption = \"end-to-end\"\n")); err == nil {
		t.Error("a room key with call.encryption = end-to-end was taken")
	}
	cfg, err = Parse([]byte("[call]\nurl = \"ws://h:1\"\nroom = \"r\"\napi_key = \"k\"\napi_secret = \"s\"\n"))
	if err != nil || cfg.Call.Encryption != EncryptionEndToEnd {
		t.Errorf("settings without a room key: encryption %q, %v; want %q", cfg.Call.Encryption, err, EncryptionEndToEnd)
	}
}

// TestBrokenFileErrorsNameLineAndSettingNotText: a file broken by hand
// gets an error that says where (the line, the setting) and never quotes
// the file: a broken line may hold a secret.
func TestBrokenFileErrorsNameLineAndSettingNotText(t *testing.T) {
	const secret = "Zq9Xk2Wv7JpQ"
	head := "[call]\nurl = \"ws://h:1\"\nroom = \"r\"\napi_key = \"k\"\n"
	tests := []struct {
		name, body, line, setting string
	}{
		{"unquoted secret", head + "api_secret = " + secret + "\n", "line 5", "call.api_secret"},
		{"unterminated quotes", head + "api_secret = \"" + secret + "\n", "line 5", "call.api_secret"},
		{"unquoted room key", head + "api_secret = \"s\"\nroom_key = " + secret + "x\n", "line 6", "call.room_key"},
		{"a secret where a number goes", "[video]\nwidth = \"" + secret + "\"\n", "line 2", "video.width"},
		{"a secret on a line of its own", head + secret + "\n", "line 5", ""},
		{"a secret after a key", head + "api_secret " + secret + "\n", "line 5", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body))
			if err == nil {
				t.Fatal("a broken file parsed")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.line) || !strings.Contains(msg, tt.setting) {
				t.Errorf("error %q does not name %s and %q", msg, tt.line, tt.setting)
			}
			if strings.Contains(msg, secret[:2]) {
				t.Errorf("error %q quotes the start of the secret %q", msg, secret)
			}
			for i := 0; i+4 <= len(secret); i++ {
				if strings.Contains(msg, secret[i:i+4]) {
					t.Errorf("error %q quotes %q of the file's text", msg, secret[i:i+4])
				}
			}
		})
	}
}

// TestURLWithAPasswordIsRefused: LiveKit authenticates by token, so a user
// or password in call.url is refused, with a message that repeats neither.
func TestURLWithAPasswordIsRefused(t *testing.T) {
	for _, u := range []string{"wss://admin:Pw7Secret@calls.example.org", "wss://Pw7Secret@calls.example.org", "ftp://admin:Pw7Secret@calls.example.org", "wss://admin:Pw7Secret@[bad"} {
		c := validConfig()
		c.Call.URL = ServerURLs{u}
		checkFieldError(t, c.Validate(), "call.url", "token")
		if err := c.Validate(); strings.Contains(err.Error(), "Pw7") || strings.Contains(err.Error(), "admin") {
			t.Errorf("%s: the error repeats the user or password: %v", u, err)
		}
	}
}

// TestBoxesSetting: call.boxes takes boxes' keys and names each one that
// is not.
func TestBoxesSetting(t *testing.T) {
	good := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	for _, tt := range []struct {
		name  string
		boxes []string
		enc   EncryptionMode
		want  string // "" for none
	}{
		{"one box", []string{good}, EncryptionEndToEnd, ""},
		{"padded base64", []string{good + "="}, EncryptionEndToEnd, "call.boxes[0]: \"" + good + "=\" is not a box's key: 43 characters of base64url"},
		{"too short", []string{good, good[:40]}, EncryptionEndToEnd, "call.boxes[1]:"},
		{"standard base64", []string{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8"}, EncryptionEndToEnd, "call.boxes[0]:"},
		{"twice", []string{good, good}, EncryptionEndToEnd, "call.boxes[1]: lists the box AAECAwQF… a second time"},
		{"with shared-key", []string{good}, EncryptionNone, `call.boxes: lists other boxes, but call.encryption is "none"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Call.Boxes, c.Call.Encryption = tt.boxes, tt.enc
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestVideoBitrateGoesWithTheSize: with bitrate_kbps unset, each size and
// rate gets its own bitrate; one that is set is kept; 1080p30 is a valid
// setting.
func TestVideoBitrateGoesWithTheSize(t *testing.T) {
	for _, tc := range []struct {
		w, h, fps, kbps int
		want            int
	}{
		{1280, 720, 30, 0, 1_500_000},
		{1920, 1080, 30, 0, 3_000_000},
		{640, 360, 30, 0, 450_000},
		{1920, 1080, 60, 0, 5_400_000},
		{3840, 2160, 30, 0, 9_700_000},
		{16, 16, 1, 0, 50_000},
		{1920, 1080, 30, 2500, 2_500_000},
	} {
		c := validConfig()
		c.Video.Width, c.Video.Height, c.Video.FPS, c.Video.BitrateKbps = tc.w, tc.h, tc.fps, tc.kbps
		if err := c.Validate(); err != nil {
			t.Errorf("%dx%d@%d: %v", tc.w, tc.h, tc.fps, err)
		}
		if got := c.Video.BitsPerSecond(); got != tc.want {
			t.Errorf("%dx%d@%d, bitrate_kbps %d: %d bit/s, want %d", tc.w, tc.h, tc.fps, tc.kbps, got, tc.want)
		}
	}
}

// TestVideoLimitIsH264Level51: what validation lets through is what the
// encoders' level table carries (media.H264LevelFor), and no more.
func TestVideoLimitIsH264Level51(t *testing.T) {
	for _, s := range []struct{ w, h, fps int }{
		{3840, 2160, 30}, {3840, 2160, 31}, {1920, 1080, 60}, {2560, 1440, 60}, {3200, 1800, 60},
	} {
		c := validConfig()
		c.Video.Width, c.Video.Height, c.Video.FPS = s.w, s.h, s.fps
		valid := c.Validate() == nil
		_, carried := media.H264LevelFor(s.w, s.h, s.fps, c.Video.BitsPerSecond()/1000)
		if valid != carried {
			t.Errorf("%dx%d@%d: valid %v, but H.264 level 5.1 carries it: %v", s.w, s.h, s.fps, valid, carried)
		}
	}
	if media.MaxH264Level != 51 {
		t.Errorf("the encoders go up to level %v, validation to 5.1", media.MaxH264Level)
	}
}

// A calendar's address may hold a secret (a private calendar's link): a
// bad one is refused without being quoted.
func TestCalendarAddressIsNeverInAnError(t *testing.T) {
	c := validConfig()
	c.Meetings.Calendar = "http://cal.example/private/s3cr3t-t0ken/basic.ics"
	err := c.Validate()
	checkFieldError(t, err, "meetings.calendar", "https://")
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error quotes the address: %v", err)
	}
	c.Meetings.Calendar = "https://cal.example/private/s3cr3t-t0ken/basic.ics"
	if err := c.Validate(); err != nil {
		t.Errorf("an https calendar is refused: %v", err)
	}
}
