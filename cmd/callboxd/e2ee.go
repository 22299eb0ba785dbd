package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/config"
)

// The box's own keys for end-to-end encryption with per-member keys: its
// identity (which invite links carry, so guests know the box) and its
// invites, in the data directory with -data, for the process's life with
// -config.
const (
	identityFile = "e2ee-identity.json"
	invitesFile  = "invites.json"
)

// boxKeyStore opens the box's identity and invite book.
type boxKeyStore struct {
	dir string // "" with -config: kept in memory

	mu       sync.Mutex
	identity *keys.Identity
	invites  *keys.InviteBook
}

// open reads the identity and invites, making an identity the first time
// (and after a factory reset, which removes both files).
func (s *boxKeyStore) open(log *slog.Logger) (*keys.Identity, *keys.InviteBook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		if s.identity == nil {
			id, err := keys.NewIdentity()
			if err != nil {
				return nil, nil, err
			}
			book, _ := keys.NewInviteBook(nil, nil)
			s.identity, s.invites = id, book
			log.Info("the box's identity key is new for this run (no -data directory to keep it in)")
		}
		return s.identity, s.invites, nil
	}
	idPath, invPath := filepath.Join(s.dir, identityFile), filepath.Join(s.dir, invitesFile)
	var id *keys.Identity
	data, err := os.ReadFile(idPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if id, err = keys.NewIdentity(); err != nil {
			return nil, nil, err
		}
		b, _ := id.MarshalJSON()
		if err := config.WriteFileAtomic(config.OS, idPath, b); err != nil {
			return nil, nil, fmt.Errorf("the box's identity key: %w", err)
		}
		log.Info("made the box's identity key", "file", idPath)
	case err != nil:
		return nil, nil, fmt.Errorf("the box's identity key: %w", err)
	default:
		if id, err = keys.ParseIdentity(data); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", idPath, err)
		}
	}
	data, err = os.ReadFile(invPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("the invites: %w", err)
	}
	book, err := keys.NewInviteBook(data, func(b []byte) error { return config.WriteFileAtomic(config.OS, invPath, b) })
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", invPath, err)
	}
	return id, book, nil
}

// encryption makes the call's encryption from call.encryption and says,
// once, how calls are encrypted. No key is ever logged.
func encryption(cfg config.Config, store *boxKeyStore, log *slog.Logger) (*call.RoomKey, *call.GroupOptions, *keys.InviteBook, error) {
	switch cfg.Call.Encryption {
	case config.EncryptionNone:
		log.Warn("calls are NOT end-to-end encrypted: call.encryption is none")
		return nil, nil, nil, nil
	case config.EncryptionSharedKey:
		key, err := call.NewRoomKey(cfg.Call.RoomKey)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("call.room_key: %w", err)
		}
		log.Info("calls use shared-key encryption: everyone with the room key can read them", "fingerprint", key.Fingerprint())
		return key, nil, nil, nil
	}
	id, book, err := store.open(log)
	if err != nil {
		return nil, nil, nil, err
	}
	var boxes [][]byte
	for i, k := range cfg.Call.Boxes {
		b, err := keys.DecodeBytes(k, keys.BoxKeySize)
		switch {
		case err != nil: // config.Validate refuses it first
			return nil, nil, nil, fmt.Errorf("call.boxes[%d]: %w", i, err)
		case bytes.Equal(b, id.SigKey()):
			return nil, nil, nil, &config.FieldError{Field: fmt.Sprintf("call.boxes[%d]", i),
				Reason: "is this box's own key: list the other boxes of the room"}
		}
		boxes = append(boxes, b)
	}
	log.Info("calls are end-to-end encrypted with a key per member", "box_key", keys.EncodeBytes(id.SigKey()), "other_boxes", len(boxes))
	return nil, &call.GroupOptions{Identity: id, Invites: book, Boxes: boxes}, book, nil
}
