package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// hub is a room: it carries messages between groups as the SFU would,
// and can drop, record and change them.
type hub struct {
	mu      sync.Mutex
	members map[string]*peer
	queue   []delivery
	log     []delivery // everything sent, for replays
	tamper  func(d *delivery) bool
	// lose, when set, says whether a delivery is lost for one recipient
	// (a data channel not open yet).
	lose func(d delivery, to string) bool
}

type delivery struct {
	from string
	to   []string
	msg  []byte
}

type peer struct {
	id    string
	group *Group
	keys  *sink
}

// sink records the keys a group sets.
type sink struct {
	mu     sync.Mutex
	own    map[uint8][]byte
	cur    uint8
	remote map[string]map[uint8][]byte
	// seen is every key material ever given, for "could it decrypt" checks.
	seen [][]byte
}

func newSink() *sink { return &sink{own: map[uint8][]byte{}, remote: map[string]map[uint8][]byte{}} }

func (s *sink) SetOwnKey(index uint8, material []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.own[index], s.cur = slices.Clone(material), index
}

func (s *sink) SetRemoteKey(id string, index uint8, material []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remote[id] == nil {
		s.remote[id] = map[uint8][]byte{}
	}
	s.remote[id][index] = slices.Clone(material)
	s.seen = append(s.seen, slices.Clone(material))
}

func (s *sink) ForgetRemote(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.remote, id)
}

func (s *sink) current() (uint8, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, s.own[s.cur]
}

// holds reports whether a key of from at index equal to material is held.
func (s *sink) holds(from string, index uint8, material []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Equal(s.remote[from][index], material)
}

func (s *sink) everSeen(material []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.seen, func(b []byte) bool { return bytes.Equal(b, material) })
}

// canReach reports whether material was given to the sink, or follows
// from a key given by ratcheting (up to 20 times).
func (s *sink) canReach(material []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.seen {
		for range 21 {
			if bytes.Equal(k, material) {
				return true
			}
			k = ratchet(k)
		}
	}
	return false
}

func newHub() *hub { return &hub{members: map[string]*peer{}} }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const testRoom = "family"

func (h *hub) add(t *testing.T, id string, cfg Config) *peer {
	t.Helper()
	p := &peer{id: id, keys: newSink()}
	cfg.Room, cfg.Self, cfg.Keys, cfg.Log = testRoom, id, p.keys, quiet()
	if cfg.Identity == nil {
		var err error
		if cfg.Identity, err = NewIdentity(); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Send = func(to []string, msg []byte) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.queue = append(h.queue, delivery{from: id, to: to, msg: msg})
		h.log = append(h.log, delivery{from: id, to: to, msg: msg})
	}
	g, err := NewGroup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	p.group = g
	h.mu.Lock()
	var present []string
	for other, q := range h.members {
		present = append(present, other)
		defer q.group.ParticipantJoined(id)
	}
	h.members[id] = p
	h.mu.Unlock()
	g.Joined(present)
	return p
}

func (h *hub) leave(id string) {
	h.mu.Lock()
	p := h.members[id]
	delete(h.members, id)
	var rest []*peer
	for _, q := range h.members {
		rest = append(rest, q)
	}
	h.mu.Unlock()
	p.group.Close()
	for _, q := range rest {
		q.group.ParticipantLeft(id)
	}
}

// flush delivers until nothing is left to deliver.
func (h *hub) flush() {
	for {
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.mu.Unlock()
			return
		}
		d := h.queue[0]
		h.queue = h.queue[1:]
		tamper := h.tamper
		var to []*peer
		for id, p := range h.members {
			if id != d.from && (d.to == nil || slices.Contains(d.to, id)) && (h.lose == nil || !h.lose(d, id)) {
				to = append(to, p)
			}
		}
		h.mu.Unlock()
		if tamper != nil && !tamper(&d) {
			continue
		}
		for _, p := range to {
			p.group.Receive(d.from, d.msg)
		}
	}
}

// settle lets timers fire and messages flow for d of fake time.
func (h *hub) settle(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		h.flush()
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
	}
	h.flush()
}

type room struct {
	*hub
	box     *peer
	book    *InviteBook
	boxKey  []byte
	invites map[string]Invite
}

// newRoom is a room with its box; box, when given, changes the box's
// config before it starts.
func newRoom(t *testing.T, box ...func(*Config)) *room {
	t.Helper()
	book, err := NewInviteBook(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	boxID, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	r := &room{hub: newHub(), book: book, boxKey: boxID.SigKey(), invites: map[string]Invite{}}
	cfg := Config{Identity: boxID, Invites: book}
	for _, change := range box {
		change(&cfg)
	}
	r.box = r.add(t, "box", cfg)
	return r
}

func (r *room) invite(t *testing.T, identity string, once bool) Invite {
	t.Helper()
	rec, err := r.book.Add(identity, "Guest", time.Hour, once)
	if err != nil {
		t.Fatal(err)
	}
	inv := Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: r.boxKey}
	r.invites[identity] = inv
	return inv
}

func (r *room) join(t *testing.T, identity string) *peer {
	t.Helper()
	inv, ok := r.invites[identity]
	if !ok {
		inv = r.invite(t, identity, false)
	}
	return r.add(t, identity, Config{Invite: &inv})
}

// holdsKeyOf reports whether receiver holds the key sender sends with now.
func holdsKeyOf(receiver, sender *peer) bool {
	index, material := sender.keys.current()
	return receiver.keys.holds(sender.id, index, material)
}

func TestMembersGetEachOthersKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		b := r.join(t, "bert")
		r.settle(time.Second)
		peers := []*peer{r.box, a, b}
		for _, s := range peers {
			for _, rcv := range peers {
				if s != rcv && !holdsKeyOf(rcv, s) {
					t.Errorf("%s does not hold the key %s sends with", rcv.id, s.id)
				}
			}
		}
		want := r.box.group.Status()
		if !want.Admitted || len(want.Verification) != VerificationSize || !slices.Equal(want.Members, []string{"anna", "bert", "box"}) {
			t.Fatalf("box status %+v", want)
		}
		for _, p := range peers[1:] {
			st := p.group.Status()
			if !st.Admitted || !bytes.Equal(st.Verification, want.Verification) || !slices.Equal(st.Members, want.Members) {
				t.Errorf("%s: %+v, box: %+v", p.id, st, want)
			}
		}
	})
}

func TestLeaverCannotReadWhatFollows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		b := r.join(t, "bert")
		r.settle(time.Second)
		before := r.box.group.Status().Verification
		left := time.Now()
		r.leave("bert")
		r.settle(DefaultSwitchDeadline + time.Second)
		for _, s := range []*peer{r.box, a} {
			if _, material := s.keys.current(); b.keys.canReach(material) {
				t.Errorf("the leaver holds the key %s sends with after the leave, or can ratchet to it", s.id)
			}
		}
		if !holdsKeyOf(a, r.box) || !holdsKeyOf(r.box, a) {
			t.Error("the ones who stayed do not hold each other's new keys")
		}
		after := r.box.group.Status()
		if bytes.Equal(after.Verification, before) || slices.Contains(after.Members, "bert") {
			t.Errorf("the verification string did not change with the leave: %+v", after)
		}
		if st := a.group.Status(); !bytes.Equal(st.Verification, after.Verification) {
			t.Errorf("anna's verification %x, the box's %x", st.Verification, after.Verification)
		}
		_ = left
	})
}

// TestSwitchAfterAcks: the new key is used as soon as every member has
// it, well before the deadline; a member that never acks holds the switch
// back until the deadline and no longer.
func TestSwitchAfterAcks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		r.join(t, "bert")
		r.join(t, "carl")
		r.settle(time.Second)
		gen := r.box.group.Status().Gen
		start := time.Now()
		r.leave("carl")
		for r.box.group.Status().Gen == gen && time.Since(start) < DefaultSwitchDeadline {
			r.settle(10 * time.Millisecond)
		}
		if took := time.Since(start); took > DefaultLeaveBatch+100*time.Millisecond {
			t.Errorf("switched %v after the leave, want about %v (the batch)", took, DefaultLeaveBatch)
		}
		// anna stops acking.
		r.tamper = func(d *delivery) bool { return !(d.from == "anna" && bytes.Contains(d.msg, []byte(`"t":"ack"`))) }
		gen = r.box.group.Status().Gen
		start = time.Now()
		r.leave("bert")
		for r.box.group.Status().Gen == gen && time.Since(start) < 2*DefaultSwitchDeadline {
			r.settle(10 * time.Millisecond)
		}
		if took := time.Since(start); took < DefaultSwitchDeadline-50*time.Millisecond || took > DefaultSwitchDeadline+100*time.Millisecond {
			t.Errorf("switched %v after the leave without anna's ack, want the deadline %v", took, DefaultSwitchDeadline)
		}
		if !holdsKeyOf(a, r.box) {
			t.Error("anna does not hold the box's key after the switch")
		}
	})
}

func TestLeavesAreBatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		for _, id := range []string{"anna", "bert", "carl", "dora"} {
			r.join(t, id)
		}
		r.settle(time.Second)
		gen := r.box.group.Status().Gen
		r.leave("bert")
		time.Sleep(100 * time.Millisecond)
		r.leave("carl")
		r.settle(DefaultSwitchDeadline)
		if got := r.box.group.Status().Gen; got != gen+1 {
			t.Errorf("two leaves 100 ms apart made %d new keys, want 1", got-gen)
		}
	})
}

func TestNewcomerCannotReadWhatCameBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		r.settle(time.Second)
		var earlier [][]byte
		for _, p := range []*peer{r.box, a} {
			_, m := p.keys.current()
			earlier = append(earlier, m)
		}
		c := r.join(t, "carl")
		r.settle(time.Second)
		for _, p := range []*peer{r.box, a} {
			if !holdsKeyOf(c, p) {
				t.Errorf("the newcomer does not hold %s's key", p.id)
			}
		}
		for _, m := range earlier {
			if c.keys.everSeen(m) {
				t.Error("the newcomer was given a key used before it came")
			}
		}
		// The others switched at once, with keys they already held.
		if !holdsKeyOf(a, r.box) || !holdsKeyOf(r.box, a) {
			t.Error("the others do not hold each other's keys after the join")
		}
	})
}

func TestOutsidersGetNoKeys(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, r *room) Config
	}{
		{"no invite", func(t *testing.T, r *room) Config {
			return Config{Invite: &Invite{ID: random(inviteIDSize), Secret: random(secretSize), BoxKey: r.boxKey}}
		}},
		{"wrong secret", func(t *testing.T, r *room) Config {
			inv := r.invite(t, "eve", false)
			inv.Secret = random(secretSize)
			return Config{Invite: &inv}
		}},
		{"another's invite", func(t *testing.T, r *room) Config {
			inv := r.invite(t, "anna", false)
			return Config{Invite: &inv}
		}},
		{"revoked", func(t *testing.T, r *room) Config {
			inv := r.invite(t, "eve", false)
			if _, err := r.book.Revoke(inv.ID); err != nil {
				t.Fatal(err)
			}
			return Config{Invite: &inv}
		}},
		{"expired", func(t *testing.T, r *room) Config {
			rec, err := r.book.Add("eve", "Eve", time.Minute, false)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Minute)
			return Config{Invite: &Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: r.boxKey}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRoom(t)
				a := r.join(t, "anna")
				r.settle(time.Second)
				eve := r.add(t, "eve", tt.setup(t, r))
				r.settle(time.Second)
				if st := eve.group.Status(); st.Admitted || st.Verification != nil {
					t.Errorf("eve: %+v", st)
				}
				if len(eve.keys.seen) != 0 {
					t.Errorf("eve holds %d keys", len(eve.keys.seen))
				}
				if st := r.box.group.Status(); !slices.Equal(st.Outsiders, []string{"eve"}) || slices.Contains(st.Members, "eve") {
					t.Errorf("box: %+v, want eve an outsider", st)
				}
				if !holdsKeyOf(a, r.box) {
					t.Error("anna lost the box's key")
				}
			})
		})
	}
}

// TestRevokedMemberIsCutOff: revoking an admitted member's invite takes it
// out of the roster, and the others change keys.
func TestRevokedMemberIsCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		e := r.join(t, "eve")
		r.settle(time.Second)
		if !holdsKeyOf(e, r.box) {
			t.Fatal("eve was not admitted")
		}
		if _, err := r.book.Revoke(r.invites["eve"].ID); err != nil {
			t.Fatal(err)
		}
		r.box.group.InvitesChanged()
		r.settle(DefaultSwitchDeadline + time.Second)
		for _, s := range []*peer{r.box, a} {
			if _, m := s.keys.current(); e.keys.everSeen(m) {
				t.Errorf("eve holds %s's key after the revocation", s.id)
			}
		}
		if st := e.group.Status(); st.Admitted {
			t.Errorf("eve still thinks she is a member: %+v", st)
		}
	})
}

// TestReplaysGiveNothing: a participant that left comes back without its
// invite (its group gone) and replays every message it ever sent; what
// the others send to its identity is recorded. Nobody admits it and no key
// is sealed to it. Its invite is a time-limited one, still valid: only the
// challenge's freshness stops the replayed join.
func TestReplaysGiveNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		r.join(t, "anna")
		r.join(t, "eve")
		r.settle(time.Second)
		r.leave("eve")
		r.settle(DefaultSwitchDeadline + time.Second)

		r.mu.Lock()
		old := slices.Clone(r.log)
		r.log = nil
		for _, d := range old {
			if d.from == "eve" {
				r.queue = append(r.queue, d)
			}
		}
		r.mu.Unlock()
		for _, q := range []*peer{r.box, r.members["anna"]} {
			q.group.ParticipantJoined("eve")
		}
		r.settle(time.Second)
		r.mu.Lock()
		for _, d := range r.log {
			if d.to != nil && slices.Contains(d.to, "eve") && bytes.Contains(d.msg, []byte(`"t":"key"`)) {
				t.Errorf("%s sealed a key to eve after her replays", d.from)
			}
		}
		r.mu.Unlock()
		if st := r.box.group.Status(); slices.Contains(st.Members, "eve") || !slices.Contains(st.Outsiders, "eve") {
			t.Errorf("the box's view after the replays: %+v", st)
		}
		if s := r.box.group.Stats(); s.Stale == 0 {
			t.Errorf("the box saw no stale messages: %+v", s)
		}
	})
}

// TestForgedKeyMessages: a key message changed on the way, or signed by
// another member, is dropped and counted.
func TestForgedKeyMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		r.settle(time.Second)
		var keyMsgs []delivery
		r.mu.Lock()
		for _, d := range r.log {
			if d.from == "box" && bytes.Contains(d.msg, []byte(`"t":"key"`)) {
				keyMsgs = append(keyMsgs, d)
			}
		}
		r.mu.Unlock()
		if len(keyMsgs) == 0 {
			t.Fatal("no key message")
		}
		var m message
		if err := json.Unmarshal(keyMsgs[len(keyMsgs)-1].msg, &m); err != nil {
			t.Fatal(err)
		}
		before := a.group.Stats()
		for _, change := range []func(m *message){
			func(m *message) { m.CT[0] ^= 1 },
			func(m *message) { m.Enc[0] ^= 1 },
			func(m *message) { m.Gen += 16 },
			func(m *message) { m.S[0] ^= 1 },
		} {
			c := m
			c.CT, c.Enc, c.S = slices.Clone(m.CT), slices.Clone(m.Enc), slices.Clone(m.S)
			change(&c)
			a.group.Receive("box", c.encode())
		}
		if got := a.group.Stats().Forged - before.Forged; got != 4 {
			t.Errorf("%d of 4 forged key messages counted as forged: %+v", got, a.group.Stats())
		}
		if !holdsKeyOf(a, r.box) {
			t.Error("anna lost the box's key")
		}
	})
}

func TestPeriodicRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		r.settle(time.Second)
		gen := r.box.group.Status().Gen
		r.settle(DefaultRotateEvery + time.Second)
		if got := r.box.group.Status().Gen; got <= gen {
			t.Errorf("no new key after %v", DefaultRotateEvery)
		}
		if !holdsKeyOf(a, r.box) || !holdsKeyOf(r.box, a) {
			t.Error("keys not delivered")
		}
	})
}

// TestBoxRestart: the box comes back with a new session and the same
// identity; the members prove their invites again and keys flow again.
func TestBoxRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		a := r.join(t, "anna")
		b := r.join(t, "bert")
		r.settle(time.Second)
		boxID := r.box.group.cfg.Identity
		r.leave("box")
		r.settle(time.Second)
		time.Sleep(time.Millisecond) // a later session
		r.box = r.add(t, "box", Config{Identity: boxID, Invites: r.book})
		r.settle(DefaultSwitchDeadline)
		for _, p := range []*peer{a, b} {
			if !holdsKeyOf(p, r.box) || !holdsKeyOf(r.box, p) {
				t.Errorf("%s and the restarted box do not hold each other's keys", p.id)
			}
		}
		if !holdsKeyOf(a, b) || !holdsKeyOf(b, a) {
			t.Error("anna and bert lost each other's keys")
		}
	})
}

func TestIdentityAndInvitesPersist(t *testing.T) {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseIdentity(data)
	if err != nil || !bytes.Equal(back.SigKey(), id.SigKey()) || !bytes.Equal(back.kemKey(), id.kemKey()) {
		t.Fatalf("identity after a round trip: %v, %v", back, err)
	}
	if _, err := ParseIdentity([]byte(`{"version":1,"ed25519_seed":"c2VjcmV0"}`)); err == nil || bytes.Contains([]byte(err.Error()), []byte("c2VjcmV0")) {
		t.Errorf("a broken identity file: %v", err)
	}
	var saved []byte
	book, _ := NewInviteBook(nil, func(b []byte) error { saved = b; return nil })
	rec, err := book.Add("guest-1", "Anna", time.Hour, true)
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewInviteBook(saved, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := again.secret(rec.ID, "guest-1", id.SigKey()); err != nil || !bytes.Equal(s, rec.Secret) {
		t.Fatalf("the saved book does not admit its invite: %v", err)
	}
	for _, info := range again.List() {
		if bytes.Contains([]byte(info.Name+info.Guest+info.State), []byte(EncodeBytes(rec.Secret))) {
			t.Error("List shows a secret")
		}
	}
	// A use or a spent one-use invite that cannot be saved is an error
	// (the group logs it), not forgotten.
	failing := errors.New("disk full")
	broken, _ := NewInviteBook(saved, func([]byte) error { return failing })
	if err := broken.used(rec.ID, id.SigKey()); !errors.Is(err, failing) {
		t.Errorf("used with a failing save: %v, want its error", err)
	}
	if err := broken.ended(rec.ID, id.SigKey()); !errors.Is(err, failing) {
		t.Errorf("ended with a failing save: %v, want its error", err)
	}
	if _, err := book.Add("x", "X", MaxInviteLife+time.Hour, false); err == nil {
		t.Error("an invite for longer than the most was made")
	}
}

// TestKeyframeOnceTheNewcomerHoldsTheKey: the box is told of a newcomer
// (to send a keyframe) once, and only when the newcomer holds its key.
func TestKeyframeOnceTheNewcomerHoldsTheKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var told []string
		var carl *peer
		var r *room
		r = newRoom(t, func(c *Config) {
			c.OnMember = func(id string) {
				told = append(told, id)
				if id == "carl" && !holdsKeyOf(carl, r.box) {
					t.Error("told of carl before carl holds the box's key")
				}
			}
		})
		r.join(t, "anna")
		r.settle(time.Second)
		told = nil
		carl = r.join(t, "carl")
		r.settle(time.Second)
		if !slices.Equal(told, []string{"carl"}) {
			t.Errorf("the box was told of %v, want carl once", told)
		}
	})
}
