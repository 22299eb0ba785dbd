package main

// What the SFU forwards holds no key: a participant with a valid server
// token and no invite (a curious operator) keeps every data message and
// every media packet it is handed during a call of two boxes and their
// guests with joins, a leave and keys changed every few seconds; the
// members keep every key message the server delivered to them. None holds
// any member's key material, frame key, invite secret or private identity
// key, raw or written in hex or base64.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/internal/lkserver"
)

// tap keeps what the server handed over: data messages and media packets.
type tap struct {
	mu          sync.Mutex
	blobs       [][]byte
	data, media int
}

func (p *tap) keep(data bool, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blobs = append(p.blobs, bytes.Clone(b))
	if data {
		p.data++
	} else {
		p.media++
	}
}

// curious joins room with a token from the server alone and keeps every
// data message (any topic) and every RTP packet (whole, as received) the
// SFU hands it, until the test ends.
func curious(t *testing.T, srv *lkserver.Server, room, identity string) *tap {
	t.Helper()
	p := &tap{}
	var reading sync.WaitGroup
	cb := &lksdk.RoomCallback{
		ParticipantCallback: lksdk.ParticipantCallback{
			OnDataPacket: func(d lksdk.DataPacket, _ lksdk.DataReceiveParams) {
				if u, ok := d.(*lksdk.UserDataPacket); ok {
					p.keep(true, u.Payload)
				}
			},
			OnTrackSubscribed: func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
				reading.Go(func() {
					for {
						pkt, _, err := track.ReadRTP()
						if err != nil {
							return // the room was left
						}
						if raw, err := pkt.Marshal(); err == nil {
							p.keep(false, raw)
						}
					}
				})
			},
		},
	}
	r, err := lksdk.ConnectToRoom(srv.URL, lksdk.ConnectInfo{APIKey: srv.APIKey, APISecret: srv.APISecret,
		RoomName: room, ParticipantIdentity: identity}, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Disconnect(); reading.Wait() })
	return p
}

// secrets finds secrets in bytes: each secret raw, its first 16 bytes, and
// in hex and every base64, indexed by their first 8 bytes so that one pass
// over what was recorded finds any of them.
type secrets map[uint64][]secret

type secret struct {
	name string
	b    []byte
}

func (s secrets) put(name string, b []byte) {
	if len(b) >= 8 {
		k := binary.LittleEndian.Uint64(b)
		s[k] = append(s[k], secret{name, b})
	}
}

func (s secrets) add(name string, b []byte) {
	s.put(name, b)
	if len(b) > 16 {
		s.put(name+", its first 16 bytes", b[:16])
	}
	s.put(name+" in hex", []byte(hex.EncodeToString(b)))
	s.put(name+" in HEX", []byte(strings.ToUpper(hex.EncodeToString(b))))
	for enc, e := range map[string]*base64.Encoding{"base64": base64.RawStdEncoding, "base64url": base64.RawURLEncoding} {
		s.put(name+" in "+enc, []byte(e.EncodeToString(b))) // a padded one starts alike
	}
}

// find names the first secret in b.
func (s secrets) find(b []byte) (string, bool) {
	for i := 0; i+8 <= len(b); i++ {
		for _, c := range s[binary.LittleEndian.Uint64(b[i:])] {
			if bytes.HasPrefix(b[i:], c.b) {
				return c.name, true
			}
		}
	}
	return "", false
}

// privateKeys are an identity's private keys, as the box stores them.
func privateKeys(t *testing.T, id *keys.Identity) (sign, kem []byte) {
	t.Helper()
	data, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Seed   []byte `json:"ed25519_seed"`
		X25519 []byte `json:"x25519"`
	}
	if err := json.Unmarshal(data, &f); err != nil || len(f.Seed) != 32 || len(f.X25519) != 32 {
		t.Fatalf("an identity's private keys: %v", err)
	}
	return f.Seed, f.X25519
}

func TestSFUForwardsNoKey(t *testing.T) {
	srv := startServer(t)
	const room = "curious"
	boxA := sender{"box-a", 90, 240, 500}
	boxB := sender{"box-b", 240, 90, 800}
	ids := boxIdentities(t, 2)
	idA, idB := ids[0], ids[1]
	forwarded := curious(t, srv, room, "operator")
	// The members keep every key message the server delivered to them:
	// the ones sealed to one member, which the curious one is not sent.
	delivered := &tap{}
	often := func(o *call.GroupOptions) {
		o.Timing = keys.Timing{RotateEvery: 3 * time.Second}
		o.OnMessage = func(_ string, msg []byte) { delivered.keep(true, msg) }
	}
	a := startTestBox(t, t.Context(), srv, room, boxA, idA, []*keys.Identity{idB}, often)
	b := startTestBox(t, t.Context(), srv, room, boxB, idB, []*keys.Identity{idA}, often)
	anna := guestOf(t, srv, room, "anna", a, often, boxA, boxB)
	bert := guestOf(t, srv, room, "bert", b, often, boxA, boxB)
	start := time.Now()
	waitFor(t, "the guests read both boxes", 60*time.Second, func() bool {
		return anna.got.read("box-b", start) >= 10 && bert.got.read("box-a", start) >= 10
	})
	carl := guestOf(t, srv, room, "carl", a, often, boxA, boxB) // a join: everyone ratchets
	waitFor(t, "carl reads box-b", 30*time.Second, func() bool { return carl.got.read("box-b", start) >= 10 })
	bert.Leave() // a leave: everyone makes a new key
	time.Sleep(keys.DefaultSwitchDeadline + 4*time.Second)

	found := secrets{}
	material := 0
	for name, held := range map[string][][]byte{"box-a": a.session.HeldKeys(), "box-b": b.session.HeldKeys(),
		"anna": anna.HeldKeys(), "bert": bert.HeldKeys(), "carl": carl.HeldKeys()} {
		for _, m := range held {
			found.add(name+"'s key material", m)
			found.add(name+"'s frame key", keys.FrameKey(m))
			material++
		}
	}
	for name, g := range map[string]*testGuest{"anna": anna, "bert": bert, "carl": carl} {
		found.add(name+"'s invite secret", g.secret)
	}
	for name, id := range map[string]*keys.Identity{"box-a": idA, "box-b": idB, "anna": anna.id, "bert": bert.id, "carl": carl.id} {
		sign, kem := privateKeys(t, id)
		found.add(name+"'s signing key", sign)
		found.add(name+"'s HPKE private key", kem)
	}
	// The search finds what it looks for, written any way.
	probe := a.session.HeldKeys()[0]
	for _, written := range []string{hex.EncodeToString(probe), base64.StdEncoding.EncodeToString(probe), base64.RawURLEncoding.EncodeToString(probe), string(probe)} {
		if _, ok := found.find([]byte(`{"x":"` + written + `"}`)); !ok {
			t.Fatalf("the search does not find a key written as %q", written)
		}
	}
	// Keys changed: the join, the leave and the 3-second changes.
	if material < 40 {
		t.Fatalf("the members held %d keys in all: the call did not change keys as it should", material)
	}

	for to, p := range map[string]*tap{"the curious one": forwarded, "the members": delivered} {
		p.mu.Lock()
		for _, blob := range p.blobs {
			if name, ok := found.find(blob); ok {
				t.Errorf("what the SFU forwarded to %s holds %s", to, name)
			}
		}
		p.mu.Unlock()
	}
	if forwarded.data == 0 || forwarded.media < 500 || delivered.data < 50 {
		t.Fatalf("recorded too little to judge: the curious one got %d data messages and %d media packets, the members %d key messages",
			forwarded.data, forwarded.media, delivered.data)
	}
	if t.Failed() {
		return
	}
	t.Logf("no key in %d data messages and %d media packets to the curious one, nor in %d key messages to the members (%d key materials looked for)",
		forwarded.data, forwarded.media, delivered.data, material)
}
