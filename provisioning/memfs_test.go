package provisioning

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/callbox/callbox/config"
)

// memFS is a file system that models what survives a power cut, as the
// strictest real file systems allow: a file's bytes are durable only after
// its Sync, a directory's entries (create, rename, remove) only after
// SyncDir. After crashAfter operations every operation fails, as if the
// process died there; PowerCut then throws away what was not durable.
type memFS struct {
	mu         sync.Mutex
	entries    map[string]*inode // what a reader sees now
	durable    map[string]*inode // the entries as of the last SyncDir
	ops        int
	crashAfter int // -1: never
	temps      int
}

type inode struct {
	data   []byte // now
	synced []byte // as of the last Sync
}

var errCrashed = errors.New("crashed (fault injection)")

func newMemFS() *memFS {
	return &memFS{entries: map[string]*inode{}, durable: map[string]*inode{}, crashAfter: -1}
}

// put writes a durable file, as if it had been there for long.
func (m *memFS) put(path string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := &inode{data: data, synced: data}
	m.entries[path], m.durable[path] = n, n
}

func (m *memFS) step() error {
	if m.crashAfter >= 0 && m.ops >= m.crashAfter {
		return errCrashed
	}
	m.ops++
	return nil
}

// PowerCut keeps only what was durable.
func (m *memFS) PowerCut() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = maps.Clone(m.durable)
	for _, n := range m.entries {
		n.data = n.synced
	}
	m.crashAfter = -1
}

func (m *memFS) CreateTemp(dir, pattern string) (config.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.step(); err != nil {
		return nil, err
	}
	m.temps++
	name := filepath.Join(dir, fmt.Sprintf("%s%d", pattern, m.temps))
	n := &inode{}
	m.entries[name] = n
	return &memFile{fs: m, name: name, node: n}, nil
}

func (m *memFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.step(); err != nil {
		return err
	}
	n, ok := m.entries[oldpath]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	m.entries[newpath] = n
	delete(m.entries, oldpath)
	return nil
}

func (m *memFS) Remove(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.step(); err != nil {
		return err
	}
	if _, ok := m.entries[path]; !ok {
		return &fs.PathError{Op: "remove", Path: path, Err: fs.ErrNotExist}
	}
	delete(m.entries, path)
	return nil
}

func (m *memFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.step(); err != nil {
		return err
	}
	m.durable = maps.Clone(m.entries)
	return nil
}

func (m *memFS) ReadDir(dir string) ([]fs.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []fs.DirEntry
	for path := range m.entries {
		if filepath.Dir(path) == dir {
			out = append(out, memEntry(filepath.Base(path)))
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (m *memFS) RemoveAll(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.step(); err != nil {
		return err
	}
	for p := range m.entries {
		if p == path || strings.HasPrefix(p, path+"/") {
			delete(m.entries, p)
		}
	}
	return nil
}

// names lists the files in dir.
func (m *memFS) names(dir string) []string {
	entries, _ := m.ReadDir(dir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// memEntry is a regular file in a memFS directory.
type memEntry string

func (e memEntry) Name() string               { return string(e) }
func (e memEntry) IsDir() bool                { return false }
func (e memEntry) Type() fs.FileMode          { return 0 }
func (e memEntry) Info() (fs.FileInfo, error) { return nil, fs.ErrInvalid }

func (m *memFS) ReadFile(path string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.entries[path]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), n.data...), nil
}

type memFile struct {
	fs   *memFS
	name string
	node *inode
}

func (f *memFile) Name() string { return f.name }

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.fs.step(); err != nil {
		return 0, err
	}
	f.node.data = append(f.node.data, p...)
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.fs.step(); err != nil {
		return err
	}
	f.node.synced = append([]byte(nil), f.node.data...)
	return nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.fs.step()
}
