package call

// The frame keys of a call whose members each send with a key of their
// own (e2ee_group.go): the box's own key, which its frame encryptors read
// on every frame, and a small key provider per remote identity beside the
// SDK's ExternalKeyProvider, which holds one key set for everyone. The
// keys are livekit-client's: the AES-128 frame key derived from 32 bytes of
// key material as its BaseKeyProvider does (keys.FrameKey), at the key
// index the frame's trailer names.

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/livekit/server-sdk-go/v2/e2ee"
	e2eetypes "github.com/livekit/server-sdk-go/v2/e2ee/types"

	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/media"
)

// mediaKeys is where a call's frame keys come from: one shared room key
// (RoomKey) or each member's own (groupKeys).
type mediaKeys interface {
	newEncryptor(codec media.Codec) (e2eetypes.FrameEncryptor, error)
	// keysOf is the key provider for the frames of identity.
	keysOf(identity string) e2eetypes.KeyProvider
}

func (k *RoomKey) keysOf(string) e2eetypes.KeyProvider { return k.keys }

// ownKey is the key the box sends with now.
type ownKey struct {
	index uint8
	block cipher.Block
}

// groupKeys holds a member's keys; it is the keys.KeySink of its group.
type groupKeys struct {
	own atomic.Pointer[ownKey]

	mu     sync.Mutex
	remote map[string]*remoteKeyRing
	// held is every key material this member ever held, when recording
	// (Watcher.HeldKeys: tests that play a member who keeps everything).
	held   [][]byte
	record bool
}

func newGroupKeys() *groupKeys { return &groupKeys{remote: map[string]*remoteKeyRing{}} }

func (g *groupKeys) SetOwnKey(index uint8, material []byte) {
	block, err := aes.NewCipher(keys.FrameKey(material))
	if err != nil {
		panic(err) // a 16-byte key always makes a cipher
	}
	g.own.Store(&ownKey{index: index, block: block})
	g.remember(material)
}

func (g *groupKeys) SetRemoteKey(identity string, index uint8, material []byte) {
	g.ring(identity).set(index, keys.FrameKey(material))
	g.remember(material)
}

func (g *groupKeys) ForgetRemote(identity string) { g.ring(identity).clear() }

func (g *groupKeys) heldKeys() [][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.held)
}

func (g *groupKeys) remember(material []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.record {
		g.held = append(g.held, slices.Clone(material))
	}
}

func (g *groupKeys) ring(identity string) *remoteKeyRing {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.remote[identity]
	if r == nil {
		r = &remoteKeyRing{keys: map[uint32][]byte{}}
		g.remote[identity] = r
	}
	return r
}

func (g *groupKeys) keysOf(identity string) e2eetypes.KeyProvider { return g.ring(identity) }

var errNoOwnKey = errors.New("no key to send with yet")

func (g *groupKeys) newEncryptor(codec media.Codec) (e2eetypes.FrameEncryptor, error) {
	fn, err := encryptFuncFor(codec)
	if err != nil {
		return nil, err
	}
	return &ownKeySealer{keys: g, fn: fn}, nil
}

// ownKeySealer encrypts with whatever key the box sends with at that
// moment. (The SDK's GCMFrameEncryptor keeps the cipher of a key index,
// and indexes come round again after 16 keys.)
type ownKeySealer struct {
	keys *groupKeys
	fn   e2ee.EncryptFunc
}

func (s *ownKeySealer) EncryptFrame(frame []byte) ([]byte, error) {
	k := s.keys.own.Load()
	if k == nil {
		return nil, errNoOwnKey
	}
	return s.fn(frame, k.index, k.block)
}

// remoteKeyRing is one remote member's frame keys by index: an
// e2eetypes.KeyProvider for the SDK's frame decryptor.
type remoteKeyRing struct {
	mu   sync.RWMutex
	keys map[uint32][]byte
}

func (r *remoteKeyRing) set(index uint8, frameKey []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[uint32(index)] = frameKey
}

func (r *remoteKeyRing) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.keys)
}

func (r *remoteKeyRing) GetKey(index uint32) ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[index]
	if !ok {
		return nil, fmt.Errorf("no key at index %d", index)
	}
	return k, nil
}

// CurrentKeyIndex is not used for decryption: frames name their index.
func (r *remoteKeyRing) CurrentKeyIndex() uint32 { return 0 }

// Decrypts reports whether an encrypted frame of codec, as a receiver
// gets it, decrypts with any of the key materials: for tests that play a
// member who left with every key it had.
func Decrypts(codec media.Codec, frame []byte, materials [][]byte) bool {
	fn, err := decryptFuncFor(codec)
	if err != nil || len(frame) < 2 {
		return false
	}
	for _, m := range materials {
		block, err := aes.NewCipher(keys.FrameKey(m))
		if err != nil {
			continue
		}
		if plain, err := fn(frame, nil, block); err == nil && plain != nil && len(plain) < len(frame) {
			return true
		}
	}
	return false
}
