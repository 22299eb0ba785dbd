package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// FileSystem is the few file operations an atomic save needs. The box uses
// OS; tests put a fake here that can "lose power" after any step.
type FileSystem interface {
	// CreateTemp makes a new file, readable only by its owner, in dir.
	CreateTemp(dir, pattern string) (File, error)
	Rename(oldpath, newpath string) error
	Remove(path string) error
	// RemoveAll removes path and, for a directory, all it holds.
	RemoveAll(path string) error
	// SyncDir makes the directory's entries (a rename) durable.
	SyncDir(dir string) error
	ReadFile(path string) ([]byte, error)
	ReadDir(dir string) ([]fs.DirEntry, error)
}

// File is a file being written.
type File interface {
	Name() string
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// OS is the real file system.
var OS FileSystem = osFileSystem{}

type osFileSystem struct{}

func (osFileSystem) CreateTemp(dir, pattern string) (File, error) {
	return os.CreateTemp(dir, pattern) // mode 0600: settings hold secrets
}
func (osFileSystem) Rename(oldpath, newpath string) error      { return os.Rename(oldpath, newpath) }
func (osFileSystem) Remove(path string) error                  { return os.Remove(path) }
func (osFileSystem) RemoveAll(path string) error               { return os.RemoveAll(path) }
func (osFileSystem) ReadFile(path string) ([]byte, error)      { return os.ReadFile(path) }
func (osFileSystem) ReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }
func (osFileSystem) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tempPrefix begins the name of every temporary file WriteFileAtomic
// makes, and of nothing else: RemoveTempFiles removes by it.
const tempPrefix = ".callbox-tmp-"

// WriteFileAtomic replaces path with data so that, even across a power cut,
// path holds either its old content or data, never a mix: write a temporary
// file beside it, fsync it, rename it over path, fsync the directory. A
// save cut short (a crash, a power cut) can leave the temporary file behind,
// with all of data in it: RemoveTempFiles removes those at start.
func WriteFileAtomic(fsys FileSystem, path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := fsys.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = fsys.Remove(tmp.Name()) // the save's own error is the one to report
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save %s: write %s: %w", path, tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save %s: sync %s: %w", path, tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save %s: close %s: %w", path, tmp.Name(), err)
	}
	if err := fsys.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	renamed = true
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("save %s: sync directory %s: %w", path, dir, err)
	}
	return nil
}

// RemoveTempFiles removes the temporary files that saves into dir left
// when they were cut short. Call it before anything saves into dir: a
// save in progress has one too.
func RemoveTempFiles(fsys FileSystem, dir string) error {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove leftover temporary files in %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if err := fsys.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove leftover temporary file: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// Encode renders cfg as the TOML that Parse reads back.
func Encode(cfg Config) ([]byte, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Parse reads TOML over the defaults and validates the result. An unknown
// setting is an error, so a typo is never silently ignored. An error about
// the file itself is a *FileError: it says where, never what the file
// says there, since a broken line may hold a secret.
func Parse(data []byte) (Config, error) { return ParseWith(data, nil) }

// ParseWith reads, as Parse does, a file that holds the settings and more
// tables: each key of extra names a table, decoded into its value (a
// pointer to a struct). A key the struct does not have is an error, as an
// unknown setting is. A provisioning file is the settings with its
// [admin] and [wifi].
func ParseWith(data []byte, extra map[string]any) (Config, error) {
	cfg := Default()
	meta, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return cfg, fileError(err)
	}
	undecoded := meta.Undecoded()
	if len(extra) > 0 {
		var tables map[string]toml.Primitive
		tableMeta, err := toml.Decode(string(data), &tables)
		if err != nil {
			return cfg, fileError(err)
		}
		for name, v := range extra {
			if p, ok := tables[name]; ok {
				if err := tableMeta.PrimitiveDecode(p, v); err != nil {
					return cfg, fileError(err)
				}
			}
		}
		undecoded = slices.DeleteFunc(undecoded, func(k toml.Key) bool { return extra[k[0]] != nil })
		for _, k := range tableMeta.Undecoded() {
			if len(k) > 1 && extra[k[0]] != nil {
				undecoded = append(undecoded, k)
			}
		}
	}
	if len(undecoded) > 0 {
		return cfg, &FileError{Setting: plainName(undecoded[0].String()), Reason: "is not a setting the box knows"}
	}
	// Settings from before call.encryption existed: a room key was the
	// shared-key encryption of today. Upgrading keeps that call working
	// rather than stopping the box at "settings needed".
	if cfg.Call.RoomKey != "" && !meta.IsDefined("call", "encryption") {
		cfg.Call.Encryption = EncryptionSharedKey
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// FileError is a settings file that cannot be read as settings: the line
// and the setting, never the file's text.
type FileError struct {
	Line    int    // from 1; 0 when not known
	Setting string // "call.api_secret"; "" when not known
	Reason  string
}

func (e *FileError) Error() string {
	var where []string
	if e.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", e.Line))
	}
	if e.Setting != "" {
		where = append(where, e.Setting)
	}
	if len(where) == 0 {
		return "the settings file " + e.Reason
	}
	return strings.Join(where, ", ") + ": " + e.Reason
}

// typeMismatch is how the TOML decoder names a value of the wrong kind;
// only the line and the key are read from it.
var typeMismatch = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): incompatible types`)

// fileError describes a TOML decoder's error by line and setting alone:
// its own message may quote the broken text.
func fileError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Message == errServerURLsKind.Error() {
		return &FileError{Line: pe.Position.Line, Setting: "call.url", Reason: errServerURLsKind.Error()}
	}
	if errors.As(err, &pe) {
		return &FileError{Line: pe.Position.Line, Setting: plainName(pe.LastKey),
			Reason: `is not valid TOML (text needs "quotes", numbers and true/false none)`}
	}
	if m := typeMismatch.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FileError{Line: line, Setting: plainName(m[2]),
			Reason: `has a value of the wrong kind (text in "quotes", a number, or true/false)`}
	}
	return &FileError{Reason: "cannot be read as TOML settings"}
}

// plainName is a setting's name as the file gave it, when it looks like
// one (letters, digits, "_", "-" and dots, not too long); otherwise "",
// so that text that is not a name is never repeated.
func plainName(key string) string {
	if key == "" || len(key) > 64 {
		return ""
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return ""
		}
	}
	return key
}
