package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Identity is a participant's long-term keys: Ed25519 to sign, X25519 to
// receive keys. A box keeps one in its data directory (MarshalJSON,
// ParseIdentity); everyone else makes one per call.
type Identity struct {
	sign ed25519.PrivateKey
	kem  *ecdh.PrivateKey
}

// NewIdentity makes new keys.
func NewIdentity() (*Identity, error) {
	_, sign, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	kem, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	return &Identity{sign: sign, kem: kem}, nil
}

// SigKey is the public signing key, the one a box's invite links carry.
func (id *Identity) SigKey() []byte { return slices.Clone(id.sign.Public().(ed25519.PublicKey)) }

func (id *Identity) kemKey() []byte { return id.kem.PublicKey().Bytes() }

// String shows whose keys these are, never the private keys.
func (id *Identity) String() string { return fmt.Sprintf("identity %x", id.SigKey()[:4]) }

type identityFile struct {
	Version int    `json:"version"`
	Ed25519 []byte `json:"ed25519_seed"`
	X25519  []byte `json:"x25519"`
}

// MarshalJSON is the identity as the box stores it: a secret file.
func (id *Identity) MarshalJSON() ([]byte, error) {
	return json.Marshal(identityFile{Version: 1, Ed25519: id.sign.Seed(), X25519: id.kem.Bytes()})
}

// ParseIdentity reads what MarshalJSON wrote. Its errors never quote the file.
func ParseIdentity(data []byte) (*Identity, error) {
	var f identityFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, errors.New("identity file: not an identity (not JSON)")
	}
	if f.Version != 1 || len(f.Ed25519) != ed25519.SeedSize {
		return nil, errors.New("identity file: not an identity of version 1")
	}
	kem, err := ecdh.X25519().NewPrivateKey(f.X25519)
	if err != nil {
		return nil, errors.New("identity file: the X25519 key is broken")
	}
	return &Identity{sign: ed25519.NewKeyFromSeed(f.Ed25519), kem: kem}, nil
}

// The HPKE suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
var (
	hpkeKEM  = hpke.DHKEM(ecdh.X25519())
	hpkeKDF  = hpke.HKDFSHA256()
	hpkeAEAD = hpke.AES128GCM()
)

// sealKey seals key material to a recipient's X25519 key.
func sealKey(kem []byte, aad, material []byte) (enc, ct []byte, err error) {
	pk, err := hpkeKEM.NewPublicKey(kem)
	if err != nil {
		return nil, nil, fmt.Errorf("recipient's key: %w", err)
	}
	enc, sender, err := hpke.NewSender(pk, hpkeKDF, hpkeAEAD, []byte(infoSenderKey))
	if err != nil {
		return nil, nil, err
	}
	ct, err = sender.Seal(aad, material)
	return enc, ct, err
}

// openKey opens what sealKey sealed to id.
func (id *Identity) openKey(enc, aad, ct []byte) ([]byte, error) {
	sk, err := hpke.NewDHKEMPrivateKey(id.kem)
	if err != nil {
		return nil, err
	}
	r, err := hpke.NewRecipient(enc, sk, hpkeKDF, hpkeAEAD, []byte(infoSenderKey))
	if err != nil {
		return nil, err
	}
	return r.Open(aad, ct)
}

func (id *Identity) signBytes(b []byte) []byte { return ed25519.Sign(id.sign, b) }

func verify(sigKey, b, sig []byte) bool {
	return len(sigKey) == ed25519.PublicKeySize && ed25519.Verify(sigKey, b, sig)
}

// inviteMAC proves that the holder of secret joins as p after challenge c.
func inviteMAC(secret []byte, room string, p *member, invite, c []byte) []byte {
	key, err := hkdf.Key(sha256.New, secret, nil, infoInviteProof, 32)
	if err != nil {
		panic(err) // 32 bytes of SHA-256's HKDF cannot fail
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(joinTranscript(room, p, invite, c))
	return mac.Sum(nil)
}

// ratchet is the next key material of a sender when a member comes.
func ratchet(material []byte) []byte {
	next, err := hkdf.Key(sha256.New, material, nil, infoRatchet, materialSize)
	if err != nil {
		panic(err)
	}
	return next
}

// FrameKey is the AES-128 frame key that livekit-client derives from key
// material set as bytes (createKeyMaterialFromBuffer and deriveKeys):
// HKDF-SHA256 with the salt "LKFrameEncryptionKey" and 128 zero bytes of
// info.
func FrameKey(material []byte) []byte {
	k, err := hkdf.Key(sha256.New, material, []byte(livekitSalt), string(make([]byte, 128)), livekitFrameKeyLen)
	if err != nil {
		panic(err)
	}
	return k
}

// VerificationSize is how many bytes of the verification hash are shown:
// five emoji or words, 40 bits.
const VerificationSize = 5

// verification is what members compare: a hash of the room and the
// members' signing keys in byte order.
func verification(room string, sigKeys [][]byte) []byte {
	sorted := slices.Clone(sigKeys)
	slices.SortFunc(sorted, bytes.Compare)
	sum := sha256.Sum256(transcript(domainMembers, append([][]byte{[]byte(room)}, sorted...)...))
	return sum[:VerificationSize]
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return b
}
