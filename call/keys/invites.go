package keys

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Invite is what a member holds: the invite's id and secret and the box
// that made it. The secret only proves membership to the box; it is never
// a media key.
type Invite struct {
	ID     []byte
	Secret []byte
	// BoxKey is the box's signing key: the roster must be signed by it.
	BoxKey []byte
}

// String names the invite, never its secret.
func (i Invite) String() string { return "invite " + InviteName(i.ID) }

// InviteName is how people and logs name an invite: the hex of its id.
func InviteName(id []byte) string { return hex.EncodeToString(id) }

// ParseInviteName reads InviteName.
func ParseInviteName(name string) ([]byte, error) {
	id, err := hex.DecodeString(name)
	if err != nil || len(id) != inviteIDSize {
		return nil, fmt.Errorf("%q is not an invite's name (%d hex digits)", name, 2*inviteIDSize)
	}
	return id, nil
}

// EncodeBytes and DecodeBytes write the invite's fields in a link
// (base64url without padding).
func EncodeBytes(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// DecodeBytes reads EncodeBytes, wanting n bytes.
func DecodeBytes(s string, n int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("want %d bytes in base64url", n)
	}
	return b, nil
}

// Sizes of an invite's parts in a link.
const (
	InviteIDSize     = inviteIDSize
	InviteSecretSize = secretSize
	BoxKeySize       = sigKeySize
)

// InviteRecord is one invite as the box keeps it.
type InviteRecord struct {
	ID       []byte    `json:"id"`
	Secret   []byte    `json:"secret"`
	Identity string    `json:"identity"` // the LiveKit identity it admits
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	Once     bool      `json:"once"` // admits one visit of one identity key
	Revoked  bool      `json:"revoked,omitempty"`
	// UsedBy is the identity key admitted with it; Spent: a one-use
	// invite whose visit ended.
	UsedBy []byte `json:"used_by,omitempty"`
	Spent  bool   `json:"spent,omitempty"`
}

// InviteInfo is what pages and callboxctl show of an invite: no secret.
type InviteInfo struct {
	Name     string    `json:"name"` // InviteName
	Guest    string    `json:"guest"`
	Identity string    `json:"identity"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	Once     bool      `json:"once"`
	State    string    `json:"state"` // unused, in use, used, expired, revoked
}

// InviteBook is the box's invites. It is safe for concurrent use; Save,
// when set, is called with the book's JSON after every change (the box
// writes it atomically to its data directory).
type InviteBook struct {
	mu      sync.Mutex
	records []*InviteRecord
	now     func() time.Time
	save    func([]byte) error
}

// NewInviteBook reads a book (nil data: an empty one). save may be nil.
func NewInviteBook(data []byte, save func([]byte) error) (*InviteBook, error) {
	b := &InviteBook{now: time.Now, save: save}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &b.records); err != nil {
			return nil, errors.New("invites file: not a list of invites")
		}
		for _, r := range b.records {
			if len(r.ID) != inviteIDSize || len(r.Secret) != secretSize {
				return nil, errors.New("invites file: an invite without a proper id or secret")
			}
		}
	}
	return b, nil
}

// MaxInviteLife is the longest an invite lasts.
const MaxInviteLife = 30 * 24 * time.Hour

// Add makes a new invite for identity, valid for validFor.
func (b *InviteBook) Add(identity, name string, validFor time.Duration, once bool) (InviteRecord, error) {
	if validFor <= 0 || validFor > MaxInviteLife {
		return InviteRecord{}, fmt.Errorf("an invite is valid for more than 0 and at most %v, not %v", MaxInviteLife, validFor)
	}
	now := b.now()
	r := &InviteRecord{ID: random(inviteIDSize), Secret: random(secretSize), Identity: identity, Name: name,
		Created: now, Expires: now.Add(validFor), Once: once}
	b.mu.Lock()
	b.forgetOld(now)
	b.records = append(b.records, r)
	err := b.changed()
	b.mu.Unlock()
	return *r, err
}

// forgetOld drops invites that ended over a week ago. b.mu is held.
func (b *InviteBook) forgetOld(now time.Time) {
	b.records = slices.DeleteFunc(b.records, func(r *InviteRecord) bool {
		return now.Sub(r.Expires) > 7*24*time.Hour
	})
}

// Revoke marks an invite revoked and returns the identity it admitted.
func (b *InviteBook) Revoke(id []byte) (identity string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.find(id)
	if r == nil {
		return "", fmt.Errorf("no invite %s", InviteName(id))
	}
	r.Revoked = true
	return r.Identity, b.changed()
}

// List is every invite, newest first.
func (b *InviteBook) List() []InviteInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	var out []InviteInfo
	for _, r := range slices.Backward(b.records) {
		state := "unused"
		switch {
		case r.Revoked:
			state = "revoked"
		case r.Spent:
			state = "used"
		case !now.Before(r.Expires):
			state = "expired"
		case r.UsedBy != nil:
			state = "in use"
		}
		out = append(out, InviteInfo{Name: InviteName(r.ID), Guest: r.Name, Identity: r.Identity, Created: r.Created,
			Expires: r.Expires, Once: r.Once, State: state})
	}
	return out
}

// Refusals of check, as the log says them.
var (
	ErrNoInvite      = errors.New("no such invite")
	ErrInviteRevoked = errors.New("the invite was revoked")
	ErrInviteExpired = errors.New("the invite expired")
	ErrInviteUsed    = errors.New("the invite was for one visit, and it was used")
	ErrInviteOther   = errors.New("the invite is for another identity")
)

// secret returns the invite's secret if it admits identity with sigKey now.
func (b *InviteBook) secret(id []byte, identity string, sigKey []byte) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.find(id)
	switch {
	case r == nil:
		return nil, ErrNoInvite
	case r.Revoked:
		return nil, ErrInviteRevoked
	case !b.now().Before(r.Expires):
		return nil, ErrInviteExpired
	case r.Identity != identity:
		return nil, ErrInviteOther
	case r.Once && (r.Spent || r.UsedBy != nil && !bytes.Equal(r.UsedBy, sigKey)):
		return nil, ErrInviteUsed
	}
	return slices.Clone(r.Secret), nil
}

// used records that the invite admitted sigKey; an error when that could
// not be saved.
func (b *InviteBook) used(id, sigKey []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.find(id); r != nil && !bytes.Equal(r.UsedBy, sigKey) {
		r.UsedBy = slices.Clone(sigKey)
		return b.changed()
	}
	return nil
}

// ended records that the visit of sigKey admitted by the invite ended: a
// one-use invite is spent. An error when that could not be saved.
func (b *InviteBook) ended(id, sigKey []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.find(id); r != nil && r.Once && bytes.Equal(r.UsedBy, sigKey) && !r.Spent {
		r.Spent = true
		return b.changed()
	}
	return nil
}

// revoked reports whether the invite no longer admits anyone.
func (b *InviteBook) revoked(id []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.find(id)
	return r == nil || r.Revoked
}

func (b *InviteBook) find(id []byte) *InviteRecord {
	for _, r := range b.records {
		if subtle.ConstantTimeCompare(r.ID, id) == 1 {
			return r
		}
	}
	return nil
}

// changed saves the book. b.mu is held.
func (b *InviteBook) changed() error {
	if b.save == nil {
		return nil
	}
	data, err := json.Marshal(b.records)
	if err != nil {
		return err
	}
	if err := b.save(data); err != nil {
		return fmt.Errorf("save the invites: %w", err)
	}
	return nil
}
