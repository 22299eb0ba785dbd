package provisioning

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/callbox/callbox/config"
)

// The files of a data directory.
const (
	ConfigFile     = "callbox.toml"      // the settings in use
	GoodConfigFile = "callbox.good.toml" // the settings before the last save, kept to fall back to
	AdminFile      = "admin.json"        // the admin password's hash and the room key
	TLSKeyFile     = "tls-key.pem"
	TLSCertFile    = "tls-cert.pem"
)

// Secrets are what the box keeps apart from the settings, in AdminFile.
// (The settings' own secrets, call.api_secret, call.token and
// call.room_key, stay in the settings.) No API response or log line
// contains any of them.
type Secrets struct {
	// PasswordHash is the admin password as an argon2id PHC string; empty
	// until first-boot setup is done.
	PasswordHash string `json:"password_hash"`
}

// Boot is what a data directory holds at start.
type Boot struct {
	Config config.Config
	// SetupNeeded is true until first-boot setup has saved an admin
	// password (with the settings): then, and only then, a setup code
	// opens the page. A box with an admin never needs it again.
	SetupNeeded bool
	// SettingsNeeded: the box has an admin but no settings it can run
	// with (broken, none earlier): the admin signs in and saves them.
	SettingsNeeded bool
	// Notice explains, for the admin (the status page, the log), that the
	// saved settings were broken, where (a line and a setting, never the
	// file's text), and which ones the box uses instead; empty when all is
	// well. PublicNotice is the same for a page nobody has signed in to:
	// only that the settings were restored, or could not be.
	Notice, PublicNotice string
}

// restoredNotice is all a page says before sign-in about settings the box
// could not use and replaced with its earlier ones.
const restoredNotice = "The box's saved settings could not be used; it restored the earlier ones. Sign in to see why."

// Store keeps the box's settings and secrets in a data directory. Every
// write is atomic (config.WriteFileAtomic); a save keeps the settings it
// replaces, and Load falls back to them when the newest fail validation.
type Store struct {
	dir string
	fs  config.FileSystem

	mu      sync.Mutex
	boot    Boot    // guarded by mu
	secrets Secrets // guarded by mu
	admin   bool    // guarded by mu; AdminFile exists, even broken: the box has an admin
}

// OpenStore makes dir (mode 0700) if needed and reads what it holds.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s := NewStore(dir, config.OS)
	s.Load()
	return s, nil
}

// NewStore is a store over any file system; call Load before use.
func NewStore(dir string, fsys config.FileSystem) *Store {
	return &Store{dir: dir, fs: fsys}
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

// Load reads the data directory again and returns what the box should run
// with. It first removes what saves cut short left behind (each may hold
// every secret of the settings).
func (s *Store) Load() Boot {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := Boot{Config: config.Default()}
	if err := config.RemoveTempFiles(s.fs, s.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.Notice = "The box could not remove what an interrupted save left: " + oneLine(err) + "."
	}
	cfg, err := s.parse(ConfigFile)
	switch {
	case err == nil:
		b.Config = cfg
	case errors.Is(err, fs.ErrNotExist):
		if good, gerr := s.parse(GoodConfigFile); gerr == nil {
			b.Config = good
			b.Notice = "The settings file is missing; the box uses the previous good settings. Check them and save."
			b.PublicNotice = restoredNotice
		} else {
			b.SettingsNeeded = true
		}
	default:
		if good, gerr := s.parse(GoodConfigFile); gerr == nil {
			b.Config = good
			b.Notice = "The saved settings are broken (" + oneLine(err) + "); the box uses the previous good settings. Check them and save."
			b.PublicNotice = restoredNotice
		} else {
			b.SettingsNeeded = true
			b.Notice = "The saved settings are broken (" + oneLine(err) + ") and there are no earlier ones: enter them again."
			b.PublicNotice = "The box's saved settings could not be used, and there are no earlier ones."
		}
	}
	s.secrets = Secrets{}
	data, err := s.fs.ReadFile(s.path(AdminFile))
	s.admin = err == nil
	if s.admin && (json.Unmarshal(data, &s.secrets) != nil || s.secrets.PasswordHash == "") {
		// Still the admin's box: a setup code now would let whoever
		// reads the screen take it over.
		s.secrets = Secrets{PasswordHash: brokenHash}
		b.Notice = strings.TrimSpace(b.Notice + " The admin password file is broken: only a factory reset (the page's, or the button held 10 s) sets the box up again.")
		b.PublicNotice = b.Notice
	}
	// Without an admin, first-boot setup saves the settings too.
	b.SetupNeeded, b.SettingsNeeded = !s.admin, s.admin && b.SettingsNeeded
	s.boot = b
	return b
}

// brokenHash stands for an admin password file that cannot be read: no
// password matches it (verifyPassword says the hash is damaged).
const brokenHash = "broken"

func (s *Store) parse(name string) (config.Config, error) {
	data, err := s.fs.ReadFile(s.path(name))
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Parse(data)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// Boot is the state as last loaded or saved.
func (s *Store) Boot() Boot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.boot
}

// Secrets returns the stored secrets; callers must never show them.
func (s *Store) Secrets() Secrets {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets
}

// knownSecrets are the secrets of the settings in use and of the previous
// ones (a call still running with those may quote them), for redaction.
func (s *Store) knownSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.boot.Config.Call
	list := []string{c.APISecret, c.Token, c.RoomKey, s.boot.Config.Metrics.Token}
	if prev, err := s.parse(GoodConfigFile); err == nil {
		list = append(list, prev.Call.APISecret, prev.Call.Token, prev.Call.RoomKey, prev.Metrics.Token)
	}
	return list
}

// SaveConfig validates cfg and saves it, keeping the settings it replaces
// (if they were valid) as the ones to fall back to. Invalid settings are
// refused with the config's *FieldError values and nothing changes.
func (s *Store) SaveConfig(cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	data, err := config.Encode(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if current, err := s.fs.ReadFile(s.path(ConfigFile)); err == nil {
		if _, err := config.Parse(current); err == nil {
			if err := config.WriteFileAtomic(s.fs, s.path(GoodConfigFile), current); err != nil {
				return err
			}
		}
	}
	if err := config.WriteFileAtomic(s.fs, s.path(ConfigFile), data); err != nil {
		return err
	}
	s.boot.Config = cfg
	s.boot.Notice, s.boot.PublicNotice = "", ""
	s.boot.SettingsNeeded = false
	return nil
}

// SaveSecrets replaces the stored secrets.
func (s *Store) SaveSecrets(sec Secrets) error {
	data, err := json.Marshal(sec)
	if err != nil {
		return fmt.Errorf("admin file: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := config.WriteFileAtomic(s.fs, s.path(AdminFile), data); err != nil {
		return err
	}
	s.secrets, s.admin = sec, true
	s.boot.SetupNeeded = false
	return nil
}

// Reset is the factory reset: it removes everything in the data directory
// (the settings, the previous ones, the secrets, the TLS key, what saves
// cut short left, and whatever else was put there), so the next setup
// starts from nothing. Sockets stay: they hold nothing, and one is the
// running daemon's local API (control.sock).
func (s *Store) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	entries, err := s.fs.ReadDir(s.dir)
	if err != nil {
		errs = append(errs, fmt.Errorf("factory reset: %w", err))
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSocket != 0 {
			continue
		}
		if err := s.fs.RemoveAll(s.path(e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("factory reset: %w", err))
		}
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("factory reset: sync %s: %w", s.dir, err))
	}
	s.secrets, s.admin = Secrets{}, false
	s.boot = Boot{Config: config.Default(), SetupNeeded: true}
	return errors.Join(errs...)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
