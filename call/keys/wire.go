package keys

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Topic is the LiveKit data topic the messages travel on.
const Topic = "callbox-e2ee-v1"

// MaxMessage is the longest message taken: a roster of MaxMembers is the
// longest that is sent.
const MaxMessage = 64 << 10

// MaxMembers is the most members a roster lists.
const MaxMembers = 100

// MaxBoxes is the most other boxes a box's hello lists.
const MaxBoxes = 16

// Sizes of the fields in bytes.
const (
	sigKeySize   = 32 // Ed25519 public key
	kemKeySize   = 32 // X25519 public key
	sigSize      = 64 // Ed25519 signature
	nonceSize    = 16
	inviteIDSize = 16
	secretSize   = 32
	macSize      = 32
	materialSize = 32
	encSize      = 32 // HPKE's encapsulated X25519 key
	sealedSize   = materialSize + 16
	maxIDLength  = 256 // a LiveKit identity
)

// Message types ("t").
const (
	typeHello     = "hello"
	typeChallenge = "challenge"
	typeJoin      = "join"
	typeRoster    = "roster"
	typeKey       = "key"
	typeAck       = "ack"
	typeVouch     = "vouch"
)

// message is every message's fields; which are set depends on T. Byte
// fields travel as standard base64 (encoding/json's []byte).
type message struct {
	T string `json:"t"`
	// hello
	Room  string `json:"room,omitempty"`
	ID    string `json:"id,omitempty"`
	Sig   []byte `json:"sig,omitempty"`
	KEM   []byte `json:"kem,omitempty"`
	Nonce []byte `json:"nonce,omitempty"`
	Time  int64  `json:"time,omitempty"`
	// Boxes (a box's hello) are the signing keys of the other boxes of
	// the room it trusts.
	Boxes [][]byte `json:"boxes,omitempty"`
	// challenge and join
	To      string `json:"to,omitempty"`
	ToNonce []byte `json:"to_nonce,omitempty"`
	C       []byte `json:"c,omitempty"`
	Invite  []byte `json:"invite,omitempty"`
	MAC     []byte `json:"mac,omitempty"`
	// roster and vouch
	Epoch   uint64   `json:"epoch,omitempty"`
	Members []member `json:"members,omitempty"`
	// key and ack
	From      string `json:"from,omitempty"`
	FromNonce []byte `json:"from_nonce,omitempty"`
	Index     uint8  `json:"index,omitempty"`
	Gen       uint32 `json:"gen,omitempty"`
	Enc       []byte `json:"enc,omitempty"`
	CT        []byte `json:"ct,omitempty"`
	// S is the sender's signature (hello, roster, key, ack, vouch).
	S []byte `json:"s,omitempty"`
}

// member is one roster entry.
type member struct {
	ID    string `json:"id"`
	Sig   []byte `json:"sig"`
	KEM   []byte `json:"kem"`
	Nonce []byte `json:"nonce"`
}

// Errors of parse: what was wrong with a message, never its bytes.
var (
	ErrTooLong   = errors.New("key message too long")
	ErrMalformed = errors.New("key message malformed")
)

// parse reads one message and checks the size of every field its type
// uses. It checks no signature: that needs state (group.go).
func parse(data []byte) (*message, error) {
	if len(data) > MaxMessage {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLong, len(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m message
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, jsonProblem(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: more after the message", ErrMalformed)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %s %w", ErrMalformed, m.T, err)
	}
	return &m, nil
}

// jsonProblem says what encoding/json found without quoting the input.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	}
	return "not a message of this protocol"
}

func (m *message) check() error {
	need := func(name string, b []byte, n int) error {
		if len(b) != n {
			return fmt.Errorf("%s: %d bytes, want %d", name, len(b), n)
		}
		return nil
	}
	id := func(name, s string) error {
		if s == "" || len(s) > maxIDLength {
			return fmt.Errorf("%s: %d characters, want 1 to %d", name, len(s), maxIDLength)
		}
		return nil
	}
	switch m.T {
	case typeHello:
		errs := []error{id("room", m.Room), id("id", m.ID), need("sig", m.Sig, sigKeySize), need("kem", m.KEM, kemKeySize),
			need("nonce", m.Nonce, nonceSize), need("s", m.S, sigSize)}
		if len(m.Boxes) > MaxBoxes {
			errs = append(errs, fmt.Errorf("boxes: %d, want at most %d", len(m.Boxes), MaxBoxes))
		}
		for _, b := range m.Boxes {
			errs = append(errs, need("box", b, sigKeySize))
		}
		return errors.Join(errs...)
	case typeChallenge:
		return errors.Join(id("to", m.To), need("to_nonce", m.ToNonce, nonceSize), need("c", m.C, nonceSize))
	case typeJoin:
		return errors.Join(need("invite", m.Invite, inviteIDSize), need("c", m.C, nonceSize), need("mac", m.MAC, macSize))
	case typeRoster:
		errs := []error{id("room", m.Room), need("nonce", m.Nonce, nonceSize), need("s", m.S, sigSize)}
		if len(m.Members) == 0 {
			errs = append(errs, errors.New("members: none"))
		}
		return errors.Join(append(errs, m.checkMembers(need, id))...)
	case typeVouch:
		errs := []error{id("room", m.Room), need("nonce", m.Nonce, nonceSize), need("to_nonce", m.ToNonce, nonceSize),
			need("c", m.C, nonceSize), need("s", m.S, sigSize)}
		return errors.Join(append(errs, m.checkMembers(need, id))...)
	case typeKey:
		return errors.Join(id("from", m.From), id("to", m.To), need("from_nonce", m.FromNonce, nonceSize),
			need("to_nonce", m.ToNonce, nonceSize), need("enc", m.Enc, encSize), need("ct", m.CT, sealedSize),
			need("s", m.S, sigSize), nonZero(m.Gen))
	case typeAck:
		return errors.Join(id("from", m.From), id("to", m.To), need("from_nonce", m.FromNonce, nonceSize),
			need("to_nonce", m.ToNonce, nonceSize), need("s", m.S, sigSize), nonZero(m.Gen))
	}
	return errors.New("unknown type")
}

// checkMembers checks a roster's or vouch's list of members.
func (m *message) checkMembers(need func(string, []byte, int) error, id func(string, string) error) error {
	if len(m.Members) > MaxMembers {
		return fmt.Errorf("members: %d, want at most %d", len(m.Members), MaxMembers)
	}
	var errs []error
	for _, e := range m.Members {
		errs = append(errs, id("member id", e.ID), need("member sig", e.Sig, sigKeySize),
			need("member kem", e.KEM, kemKeySize), need("member nonce", e.Nonce, nonceSize))
	}
	return errors.Join(errs...)
}

func nonZero(gen uint32) error {
	if gen == 0 {
		return errors.New("gen: 0")
	}
	return nil
}

func (m *message) encode() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // a struct of strings, numbers and bytes always marshals
	}
	return b
}

// transcript is what is signed or MACed: a domain and fields, each as a
// 4-byte big-endian length and its bytes.
func transcript(domain string, fields ...[]byte) []byte {
	n := 4 + len(domain)
	for _, f := range fields {
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	out = binary.BigEndian.AppendUint32(out, uint32(len(domain)))
	out = append(out, domain...)
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// Domains of the transcripts.
const (
	domainHello        = "callbox-e2ee-v1 hello"
	domainJoin         = "callbox-e2ee-v1 join"
	domainRoster       = "callbox-e2ee-v1 roster"
	domainKey          = "callbox-e2ee-v1 key"
	domainKeyAAD       = "callbox-e2ee-v1 key aad"
	domainAck          = "callbox-e2ee-v1 ack"
	domainVouch        = "callbox-e2ee-v1 vouch"
	domainMembers      = "callbox-e2ee-v1 members"
	infoInviteProof    = "callbox-e2ee-v1 invite proof"
	infoSenderKey      = "callbox-e2ee-v1 sender key"
	infoRatchet        = "callbox-e2ee-v1 ratchet"
	livekitSalt        = "LKFrameEncryptionKey"
	livekitFrameKeyLen = 16
)

// helloTranscript: a box's trusted boxes follow the time; a hello that
// lists none signs as it did before boxes were listed.
func (m *message) helloTranscript() []byte {
	fields := append([][]byte{[]byte(m.Room), []byte(m.ID), m.Sig, m.KEM, m.Nonce, u64(uint64(m.Time))}, m.Boxes...)
	return transcript(domainHello, fields...)
}

func (m *message) rosterTranscript() []byte {
	return transcript(domainRoster, appendMembers([][]byte{[]byte(m.Room), m.Nonce, u64(m.Epoch)}, m.Members)...)
}

// vouchTranscript is what a box signs when it vouches for its members to
// the authority's session to_nonce, after its challenge c.
func (m *message) vouchTranscript() []byte {
	return transcript(domainVouch, appendMembers([][]byte{[]byte(m.Room), m.Nonce, m.ToNonce, m.C, u64(m.Epoch)}, m.Members)...)
}

func appendMembers(fields [][]byte, members []member) [][]byte {
	for _, e := range members {
		fields = append(fields, []byte(e.ID), e.Sig, e.KEM, e.Nonce)
	}
	return fields
}

func (m *message) ackTranscript(room string) []byte {
	return transcript(domainAck, []byte(room), []byte(m.From), m.FromNonce, []byte(m.To), m.ToNonce, []byte{m.Index}, u32(m.Gen))
}

// keyAAD binds a sealed key to both ends and to its place.
func keyAAD(room string, from *member, to *member, index uint8, gen uint32) []byte {
	return transcript(domainKeyAAD, []byte(room), []byte(from.ID), from.Sig, from.Nonce, []byte(to.ID), to.KEM, to.Nonce,
		[]byte{index}, u32(gen))
}

func keyTranscript(aad, enc, ct []byte) []byte { return transcript(domainKey, aad, enc, ct) }

func joinTranscript(room string, p *member, invite, c []byte) []byte {
	return transcript(domainJoin, []byte(room), []byte(p.ID), p.Sig, p.KEM, p.Nonce, invite, c)
}
