package provisioning

// Settings as the page edits them: what a form sends, what it is shown
// (secrets only as "is one set"), and how the form's fields map onto the
// config and its errors back onto the form.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/callbox/callbox/config"
)

// Settings are what the page sends. Secrets are write-only: an empty one
// keeps what is stored; no response ever carries them.
type Settings struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Auth       string `json:"auth"` // "key" (API key and secret) or "token"
	APIKey     string `json:"api_key"`
	APISecret  string `json:"api_secret"`
	Token      string `json:"token"`
	Room       string `json:"room"`
	Camera     string `json:"camera"`
	Microphone string `json:"microphone"`
	Codec      string `json:"codec"`
	// Encryption is call.encryption; empty keeps it, or with a RoomKey
	// given makes it shared-key (the page's room key field is that one).
	Encryption string `json:"encryption"`
	RoomKey    string `json:"room_key"`
	// Contacts replace the speed-dial list; absent (null) keeps it.
	Contacts []Contact `json:"contacts"`
}

// SettingsView is Settings as shown: the secrets only as "is one set".
type SettingsView struct {
	Name         string    `json:"name"`
	URL          string    `json:"url"`
	Auth         string    `json:"auth"`
	APIKey       string    `json:"api_key"`
	HasAPISecret bool      `json:"has_api_secret"`
	HasToken     bool      `json:"has_token"`
	Room         string    `json:"room"`
	Camera       string    `json:"camera"`
	Microphone   string    `json:"microphone"`
	Codec        string    `json:"codec"`
	Encryption   string    `json:"encryption"`
	HasRoomKey   bool      `json:"has_room_key"`
	Contacts     []Contact `json:"contacts"`
}

// maxFieldLength bounds every text setting that is not a name (names:
// config.CheckName); a token is the longest.
const maxFieldLength = 4096

// apply puts st over cfg and says what is wrong, by form field. The names
// (the box's, the room, the contacts') are checked by config, as they are
// in the settings file.
func (st Settings) apply(cfg config.Config) (config.Config, []fieldError) {
	var bad []fieldError
	for name, v := range map[string]string{"url": st.URL, "api_key": st.APIKey, "api_secret": st.APISecret,
		"token": st.Token, "camera": st.Camera, "microphone": st.Microphone, "codec": st.Codec, "room_key": st.RoomKey,
		"encryption": st.Encryption} {
		if len(v) > maxFieldLength {
			bad = append(bad, fieldError{name, fmt.Sprintf("is longer than %d characters", maxFieldLength)})
		} else if strings.ContainsAny(v, "\x00\r\n") {
			bad = append(bad, fieldError{name, "may not contain control characters"})
		}
	}
	if len(bad) > 0 {
		return cfg, bad
	}
	cfg.Call.Name = strings.TrimSpace(st.Name)
	switch {
	case st.Encryption != "":
		cfg.Call.Encryption = config.EncryptionMode(st.Encryption)
	case st.RoomKey != "":
		cfg.Call.Encryption = config.EncryptionSharedKey
	}
	if st.RoomKey != "" {
		cfg.Call.RoomKey = st.RoomKey
	}
	if cfg.Call.Encryption != config.EncryptionSharedKey {
		cfg.Call.RoomKey = "" // a room key is kept only for shared-key encryption
	}
	if cfg.Call.Name == "" {
		bad = append(bad, fieldError{"name", "is empty: give the box a name people will see"})
	}
	cfg.Call.URL = config.ParseServerURLs(st.URL)
	cfg.Call.Room = strings.TrimSpace(st.Room)
	switch st.Auth {
	case "key":
		cfg.Call.Token = ""
		cfg.Call.APIKey = strings.TrimSpace(st.APIKey)
		if st.APISecret != "" {
			cfg.Call.APISecret = st.APISecret
		}
	case "token":
		cfg.Call.APIKey, cfg.Call.APISecret = "", ""
		if st.Token != "" {
			cfg.Call.Token = strings.TrimSpace(st.Token)
		}
	default:
		bad = append(bad, fieldError{"auth", `must be "key" (API key and secret) or "token"`})
	}
	if st.Camera != "" {
		cfg.Video.Camera = st.Camera
	}
	if st.Microphone != "" {
		cfg.Audio.Microphone = st.Microphone
	}
	if st.Codec != "" {
		cfg.Video.Codec = st.Codec
	}
	if st.Contacts != nil {
		controls, contactErrs := applyContacts(st.Contacts, cfg.Controls)
		cfg.Controls = controls
		bad = append(bad, contactErrs...)
	}
	if len(bad) > 0 {
		return cfg, bad // Validate would name the same fields again
	}
	if err := cfg.Validate(); err != nil {
		bad = append(bad, formFieldErrors(err)...)
	}
	return cfg, bad
}

// formFieldErrors names the page's fields in the config's errors.
func formFieldErrors(err error) []fieldError {
	names := map[string]string{"call.url": "url", "call.room": "room", "call.api_key": "api_key", "call.api_secret": "api_secret",
		"call.token": "token", "call.identity": "name", "call.name": "name", "video.camera": "camera",
		"audio.microphone": "microphone", "video.codec": "codec", "call.room_key": "room_key", "call.encryption": "encryption",
		"controls.contacts": "contacts"}
	var out []fieldError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *config.FieldError
		if errors.As(e, &fe) {
			name, ok := names[fe.Field]
			switch {
			case ok:
			case strings.HasPrefix(fe.Field, "controls.contact_names."):
				name, ok = "contacts", true
			case strings.HasPrefix(fe.Field, "call.url["): // one of a cluster's servers
				name, ok = "url", true
			}
			if !ok {
				name = fe.Field
			}
			out = append(out, fieldError{name, fe.Reason})
			return
		}
		out = append(out, fieldError{"", e.Error()})
	}
	walk(err)
	return out
}

func (s *Server) viewOf(cfg config.Config) SettingsView {
	auth := "key"
	if cfg.Call.Token != "" {
		auth = "token"
	}
	return SettingsView{
		Name: cfg.Call.Name, URL: cfg.Call.URL.String(), Auth: auth, APIKey: cfg.Call.APIKey,
		HasAPISecret: cfg.Call.APISecret != "", HasToken: cfg.Call.Token != "",
		Room: cfg.Call.Room, Camera: cfg.Video.Camera, Microphone: cfg.Audio.Microphone,
		Codec: cfg.Video.Codec, Encryption: string(cfg.Call.Encryption), HasRoomKey: cfg.Call.RoomKey != "", Contacts: contactsOf(cfg.Controls),
	}
}

func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	writeJSON(w, http.StatusOK, s.viewOf(s.store.Boot().Config))
}

func (s *Server) handlePostSettings(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	var st Settings
	if err := decodeJSON(r, &st); err != nil {
		writeRequestError(w, err)
		return
	}
	cfg, bad := st.apply(s.store.Boot().Config)
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	if err := s.store.SaveConfig(cfg); err != nil {
		s.log.Error("settings: cannot save", "err", err)
		writeError(w, http.StatusInternalServerError, "the box could not save the settings: "+oneLine(err))
		return
	}
	s.log.Info("settings saved", "name", cfg.Call.Name, "url", cfg.Call.URL, "room", cfg.Call.Room,
		"camera", cfg.Video.Camera, "microphone", cfg.Audio.Microphone, "codec", cfg.Video.Codec)
	s.ctl.Apply(s.store.Boot())
	writeJSON(w, http.StatusOK, s.viewOf(cfg))
}
