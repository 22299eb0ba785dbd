package keys

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// KeySink receives the media keys: the participant's own, to send with,
// and each other member's, to decrypt with. Package call's key providers
// are one. Its methods are called with the group's lock held: they must
// not call the group.
type KeySink interface {
	// SetOwnKey switches the participant's own frames to material at index.
	SetOwnKey(index uint8, material []byte)
	// SetRemoteKey is identity's key at index.
	SetRemoteKey(identity string, index uint8, material []byte)
	// ForgetRemote drops every key of identity: it is no member now.
	ForgetRemote(identity string)
}

// Timing says when keys change; zero fields take the defaults.
type Timing struct {
	// LeaveBatch is how long a sender waits after a leave for more
	// before it makes a new key.
	LeaveBatch time.Duration
	// SwitchDeadline is the longest from a leave to sending with a new
	// key: the switch comes earlier once every member acked it.
	SwitchDeadline time.Duration
	// RotateEvery is the longest a key is used.
	RotateEvery time.Duration
}

// The defaults of Timing.
const (
	DefaultLeaveBatch     = 250 * time.Millisecond
	DefaultSwitchDeadline = 4 * time.Second
	DefaultRotateEvery    = 15 * time.Minute
)

// Config makes a Group: one participant's part in one room.
type Config struct {
	Room     string
	Self     string // the participant's LiveKit identity
	Identity *Identity
	// Invites makes this participant the room's authority (a box): it
	// admits the holders of these invites and publishes the roster.
	Invites *InviteBook
	// Invite is what a member that is not the authority joins with.
	Invite *Invite
	// Send carries a message to the participants named (nil: everyone in
	// the room). It must not block for long nor call the group.
	Send func(to []string, msg []byte)
	Keys KeySink
	// OnStatus, when set, is told every change of Status (from the
	// goroutine that made it; it must not call the group).
	OnStatus func(Status)
	// OnMember, when set, is called once a member that the participant
	// newly sends keys to holds the key it sends with (it acked it): a
	// newcomer needs a keyframe, and one sent before would not decrypt.
	OnMember func(identity string)
	Timing
	Log *slog.Logger
}

// Status is what the screen and pages show of the group.
type Status struct {
	// Admitted: the participant is a member (the authority always is).
	Admitted bool
	// Members are the identities in the roster, the participant's own
	// too, sorted.
	Members []string
	// Verification is the members' verification string as bytes (five,
	// to be shown as emoji or words); nil when not admitted.
	Verification []byte
	// Outsiders are in the room without being members: they get no keys.
	Outsiders []string
	// Gen is the generation of the key the participant sends with.
	Gen uint32
}

// Stats counts the messages a group refused, by reason.
type Stats struct {
	Malformed, Forged, Stale, NotForUs, Refused int
}

// Group is one participant's side of the key exchange in one room. Its
// methods are safe for concurrent use.
type Group struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	closed bool
	self   member
	time   int64 // of this session's hello

	present map[string]bool // LiveKit identities in the room, not self

	// The authority's: the latest hello of each participant, the open
	// challenges, who was admitted with which invite, the roster's epoch.
	hellos     map[string]*member
	challenges map[string]challenge
	admitted   map[string]admission
	refused    map[string]string // identity: why, for the log once

	// A member's: the box's current session and its hello's time.
	box     *member
	boxTime int64

	roster      []member
	rosterEpoch uint64
	inRoster    bool

	// sendTo are the members the participant's keys go to: the roster's
	// members in the room, not self.
	sendTo map[string]member

	gen      uint32 // of the key sent with
	material []byte
	pending  *pendingKey
	// leaveAt is when the first leave of an unfinished rotation came.
	leaveAt                 time.Time
	batch, switchAt, rotate *time.Timer

	remote map[string]*remoteKeys
	// newcomers have not yet acked the key the participant sends with.
	newcomers map[string]bool

	outbox     []outgoing
	lastStatus *Status
	stats      Stats
}

type challenge struct {
	c     []byte
	nonce []byte // of the hello it answers
}

type admission struct {
	invite []byte
	sig    []byte
}

type pendingKey struct {
	gen      uint32
	material []byte
	acked    map[string]bool
}

type remoteKeys struct {
	nonce []byte
	gen   uint32
}

type outgoing struct {
	to  []string
	msg []byte
}

// NewGroup starts the participant's side: its first key is made and set,
// and nothing is sent until Joined.
func NewGroup(cfg Config) (*Group, error) {
	switch {
	case cfg.Identity == nil || cfg.Keys == nil || cfg.Send == nil:
		return nil, errors.New("keys: a group needs an identity, a key sink and a way to send")
	case cfg.Room == "" || cfg.Self == "":
		return nil, errors.New("keys: a group needs the room and the participant's identity")
	case (cfg.Invites == nil) == (cfg.Invite == nil):
		return nil, errors.New("keys: a group is either the room's authority (invites) or a member (an invite)")
	case cfg.Invite != nil && (len(cfg.Invite.ID) != inviteIDSize || len(cfg.Invite.Secret) != secretSize || len(cfg.Invite.BoxKey) != sigKeySize):
		return nil, errors.New("keys: the invite is incomplete")
	}
	if cfg.LeaveBatch == 0 {
		cfg.LeaveBatch = DefaultLeaveBatch
	}
	if cfg.SwitchDeadline == 0 {
		cfg.SwitchDeadline = DefaultSwitchDeadline
	}
	if cfg.RotateEvery == 0 {
		cfg.RotateEvery = DefaultRotateEvery
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	g := &Group{
		cfg: cfg, log: cfg.Log.With("part", "e2ee"),
		self:    member{ID: cfg.Self, Sig: cfg.Identity.SigKey(), KEM: cfg.Identity.kemKey(), Nonce: random(nonceSize)},
		time:    time.Now().UnixMilli(),
		present: map[string]bool{}, hellos: map[string]*member{}, challenges: map[string]challenge{},
		admitted: map[string]admission{}, refused: map[string]string{}, sendTo: map[string]member{},
		remote: map[string]*remoteKeys{}, newcomers: map[string]bool{},
		gen: 1, material: random(materialSize),
	}
	g.mu.Lock()
	cfg.Keys.SetOwnKey(g.index(g.gen), g.material)
	if g.authority() {
		g.inRoster = true
		g.publishRoster()
	}
	g.rotate = time.AfterFunc(cfg.RotateEvery, func() { g.do(g.periodicRotation) })
	g.outbox = nil // nobody to send to before Joined
	g.mu.Unlock()
	return g, nil
}

func (g *Group) authority() bool { return g.cfg.Invites != nil }

func (g *Group) index(gen uint32) uint8 { return uint8(gen % keyRingSize) }

// keyRingSize is livekit-client's default keyringSize: key indexes wrap.
const keyRingSize = 16

// lookahead is how many ratchets of a sender's latest key a receiver
// holds, so that a sender switches on a join without waiting.
const lookahead = 3

// do runs f with the lock held, then sends what it queued and tells the
// status if it changed.
func (g *Group) do(f func()) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	f()
	out := g.outbox
	g.outbox = nil
	st := g.statusLocked()
	changed := g.lastStatus == nil || !statusEqual(*g.lastStatus, st)
	if changed {
		g.lastStatus = &st
	}
	g.mu.Unlock()
	for _, o := range out {
		g.cfg.Send(o.to, o.msg)
	}
	if changed && g.cfg.OnStatus != nil {
		g.cfg.OnStatus(st)
	}
}

func (g *Group) send(to []string, m *message) {
	g.outbox = append(g.outbox, outgoing{to: to, msg: m.encode()})
}

// Joined says the participant is in the room, with everyone else present
// (their LiveKit identities): it says hello. Called again after a
// reconnection, it says hello again.
func (g *Group) Joined(present []string) {
	g.do(func() {
		g.present = map[string]bool{}
		for _, id := range present {
			if id != g.cfg.Self {
				g.present[id] = true
			}
		}
		g.send(nil, g.hello())
		if g.authority() {
			g.dropAbsent()
			g.publishRoster()
		}
		g.membersChanged()
	})
}

// Present replaces who is in the room (the server's list, which also
// catches leaves whose event never came).
func (g *Group) Present(present []string) {
	g.do(func() {
		now := map[string]bool{}
		for _, id := range present {
			if id != g.cfg.Self {
				now[id] = true
			}
		}
		if maps.Equal(now, g.present) {
			return
		}
		g.present = now
		if g.authority() && g.dropAbsent() {
			g.publishRoster()
		}
		g.membersChanged()
	})
}

// ParticipantJoined and ParticipantLeft follow the room's events.
func (g *Group) ParticipantJoined(id string) {
	g.do(func() {
		if id != g.cfg.Self && !g.present[id] {
			g.present[id] = true
			g.membersChanged()
		}
	})
}

func (g *Group) ParticipantLeft(id string) {
	g.do(func() {
		if !g.present[id] {
			return
		}
		delete(g.present, id)
		if g.authority() && g.dropAbsent() {
			g.publishRoster()
		}
		g.membersChanged()
	})
}

// InvitesChanged makes the authority drop members whose invite was revoked.
func (g *Group) InvitesChanged() {
	g.do(func() {
		if !g.authority() {
			return
		}
		removed := false
		for id, a := range g.admitted {
			if g.cfg.Invites.revoked(a.invite) {
				g.log.Info("the member's invite was revoked: no more keys for it", "member", id, "invite", InviteName(a.invite))
				g.removeMember(id)
				g.refused[id] = ErrInviteRevoked.Error()
				removed = true
			}
		}
		if removed {
			g.publishRoster()
			g.membersChanged()
		}
	})
}

// Status is the group now.
func (g *Group) Status() Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.statusLocked()
}

// Stats counts the refused messages.
func (g *Group) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// Close stops the timers; the group does nothing after.
func (g *Group) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for _, t := range []*time.Timer{g.batch, g.switchAt, g.rotate} {
		if t != nil {
			t.Stop()
		}
	}
}

func (g *Group) statusLocked() Status {
	st := Status{Admitted: g.inRoster, Gen: g.gen}
	var sigs [][]byte
	inRoster := map[string]bool{}
	if g.inRoster {
		for _, m := range g.roster {
			st.Members = append(st.Members, m.ID)
			sigs = append(sigs, m.Sig)
			inRoster[m.ID] = true
		}
		slices.Sort(st.Members)
		st.Verification = verification(g.cfg.Room, sigs)
	}
	for id := range g.present {
		if !inRoster[id] {
			st.Outsiders = append(st.Outsiders, id)
		}
	}
	slices.Sort(st.Outsiders)
	return st
}

func statusEqual(a, b Status) bool {
	return a.Admitted == b.Admitted && a.Gen == b.Gen && slices.Equal(a.Members, b.Members) &&
		bytes.Equal(a.Verification, b.Verification) && slices.Equal(a.Outsiders, b.Outsiders)
}

func (g *Group) hello() *message {
	m := &message{T: typeHello, Room: g.cfg.Room, ID: g.self.ID, Sig: g.self.Sig, KEM: g.self.KEM, Nonce: g.self.Nonce, Time: g.time}
	m.S = g.cfg.Identity.signBytes(m.helloTranscript())
	return m
}

// Receive handles one message from the participant from (the LiveKit
// identity the server says sent it). Bad messages are dropped, counted and
// logged at debug level, never with their bytes.
func (g *Group) Receive(from string, data []byte) {
	g.do(func() {
		m, err := parse(data)
		if err != nil {
			g.stats.Malformed++
			g.log.Debug("dropped a key message", "from", from, "err", err)
			return
		}
		if from == g.cfg.Self {
			return
		}
		// A message the server relays from a participant shows it is in
		// the room, often before the server's list says so; a leave is
		// still told as it comes (and the box checks the server's list).
		if !g.present[from] {
			g.present[from] = true
			defer g.membersChanged()
		}
		switch m.T {
		case typeHello:
			err = g.onHello(from, m)
		case typeChallenge:
			err = g.onChallenge(from, m)
		case typeJoin:
			err = g.onJoin(from, m)
		case typeRoster:
			err = g.onRoster(from, m)
		case typeKey:
			err = g.onKey(from, m)
		case typeAck:
			err = g.onAck(from, m)
		}
		if err != nil {
			switch {
			case errors.Is(err, errForged):
				g.stats.Forged++
			case errors.Is(err, errStale):
				g.stats.Stale++
			case errors.Is(err, errNotForUs):
				g.stats.NotForUs++
			default:
				g.stats.Refused++
			}
			g.log.Debug("dropped a key message", "from", from, "type", m.T, "err", err)
		}
	})
}

// Why messages are dropped.
var (
	errForged   = errors.New("its signature or proof does not check (forged, or changed on the way)")
	errStale    = errors.New("it is older than what the participant has (replayed)")
	errNotForUs = errors.New("it is for another participant or session")
)

func (g *Group) onHello(from string, m *message) error {
	if m.ID != from || m.Room != g.cfg.Room {
		return fmt.Errorf("%w: a hello for %q in room %q", errNotForUs, m.ID, m.Room)
	}
	if !verify(m.Sig, m.helloTranscript(), m.S) {
		return errForged
	}
	p := &member{ID: m.ID, Sig: m.Sig, KEM: m.KEM, Nonce: m.Nonce}
	if g.authority() {
		if i := g.rosterIndex(from); i >= 0 {
			e := g.roster[i]
			if bytes.Equal(e.Sig, p.Sig) && bytes.Equal(e.Nonce, p.Nonce) {
				g.send([]string{from}, g.rosterMessage()) // it missed the roster
				return nil
			}
			g.removeMember(from) // a new session of that identity: prove again
			g.publishRoster()
			g.membersChanged()
		}
		g.hellos[from] = p
		c, open := g.challenges[from]
		if !open || !bytes.Equal(c.nonce, p.Nonce) {
			c = challenge{c: random(nonceSize), nonce: p.Nonce}
			g.challenges[from] = c
		}
		g.send([]string{from}, g.hello())
		g.send([]string{from}, &message{T: typeChallenge, To: from, ToNonce: p.Nonce, C: c.c})
		return nil
	}
	if !bytes.Equal(m.Sig, g.cfg.Invite.BoxKey) {
		return nil // a member needs only the box's hello; the roster has the rest
	}
	if g.box != nil && bytes.Equal(g.box.Nonce, p.Nonce) {
		return nil
	}
	if g.box != nil && m.Time <= g.boxTime {
		return fmt.Errorf("%w: a hello of an earlier session of the box", errStale)
	}
	g.box, g.boxTime = p, m.Time
	g.log.Info("the box is here", "box", from)
	if g.inRoster || g.roster != nil {
		g.roster, g.rosterEpoch, g.inRoster = nil, 0, false // the new session admits anew
		g.membersChanged()
	}
	g.send([]string{from}, g.hello()) // so it challenges us
	return nil
}

func (g *Group) onChallenge(from string, m *message) error {
	if g.authority() || g.box == nil || from != g.box.ID {
		return fmt.Errorf("%w: a challenge not from the box", errNotForUs)
	}
	if m.To != g.self.ID || !bytes.Equal(m.ToNonce, g.self.Nonce) {
		return errNotForUs
	}
	inv := g.cfg.Invite
	mac := inviteMAC(inv.Secret, g.cfg.Room, &g.self, inv.ID, m.C)
	g.send([]string{from}, &message{T: typeJoin, Invite: inv.ID, C: m.C, MAC: mac})
	return nil
}

func (g *Group) onJoin(from string, m *message) error {
	if !g.authority() {
		return errNotForUs
	}
	p, c := g.hellos[from], g.challenges[from]
	if p == nil || c.c == nil || !bytes.Equal(c.c, m.C) || !bytes.Equal(c.nonce, p.Nonce) {
		return fmt.Errorf("%w: a join without an open challenge", errStale)
	}
	delete(g.challenges, from) // used up, whatever follows
	secret, err := g.cfg.Invites.secret(m.Invite, from, p.Sig)
	if err != nil {
		g.refuse(from, err.Error())
		return fmt.Errorf("refused: %w", err)
	}
	if !hmac.Equal(inviteMAC(secret, g.cfg.Room, p, m.Invite, m.C), m.MAC) {
		g.refuse(from, "its proof of the invite does not check")
		return errForged
	}
	g.cfg.Invites.used(m.Invite, p.Sig)
	g.removeMember(from)
	g.roster = append(g.roster, *p)
	g.admitted[from] = admission{invite: slices.Clone(m.Invite), sig: p.Sig}
	delete(g.refused, from)
	g.log.Info("admitted a member", "member", from, "invite", InviteName(m.Invite))
	g.publishRoster()
	g.membersChanged()
	return nil
}

func (g *Group) refuse(id, why string) {
	if g.refused[id] != why {
		g.log.Warn("a participant gets no keys", "participant", id, "why", why)
	}
	g.refused[id] = why
}

func (g *Group) onRoster(from string, m *message) error {
	if g.authority() || g.box == nil || from != g.box.ID {
		return fmt.Errorf("%w: a roster not from the box", errNotForUs)
	}
	if m.Room != g.cfg.Room || !bytes.Equal(m.Nonce, g.box.Nonce) {
		return fmt.Errorf("%w: a roster of another room or session of the box", errStale)
	}
	if !verify(g.cfg.Invite.BoxKey, m.rosterTranscript(), m.S) {
		return errForged
	}
	if m.Epoch <= g.rosterEpoch {
		return fmt.Errorf("%w: roster %d after %d", errStale, m.Epoch, g.rosterEpoch)
	}
	self := false
	for _, e := range m.Members {
		if e.ID == g.self.ID && bytes.Equal(e.Sig, g.self.Sig) && bytes.Equal(e.Nonce, g.self.Nonce) {
			self = true
		}
	}
	if !self {
		if g.inRoster {
			g.log.Warn("the box no longer lists this participant: no more keys")
			g.roster, g.inRoster = nil, false
			g.rosterEpoch = m.Epoch
			g.membersChanged()
		}
		return nil // not admitted yet: an old roster, or one before ours
	}
	if !g.inRoster {
		g.log.Info("admitted by the box", "box", from)
	}
	g.roster, g.rosterEpoch, g.inRoster = m.Members, m.Epoch, true
	g.membersChanged()
	return nil
}

func (g *Group) onKey(from string, m *message) error {
	if m.From != from || m.To != g.self.ID || !bytes.Equal(m.ToNonce, g.self.Nonce) {
		return errNotForUs
	}
	sender := g.rosterMember(from)
	if !g.inRoster || sender == nil {
		return fmt.Errorf("%w: a key from a participant that is not a member", errNotForUs)
	}
	if !bytes.Equal(sender.Nonce, m.FromNonce) {
		return fmt.Errorf("%w: a key of another session of the sender", errStale)
	}
	if m.Index != g.index(m.Gen) {
		return fmt.Errorf("%w: index %d for gen %d", errForged, m.Index, m.Gen)
	}
	aad := keyAAD(g.cfg.Room, sender, &g.self, m.Index, m.Gen)
	if !verify(sender.Sig, keyTranscript(aad, m.Enc, m.CT), m.S) {
		return errForged
	}
	r := g.remote[from]
	if r != nil && bytes.Equal(r.nonce, m.FromNonce) && m.Gen < r.gen {
		return fmt.Errorf("%w: key %d after %d", errStale, m.Gen, r.gen)
	}
	material, err := g.cfg.Identity.openKey(m.Enc, aad, m.CT)
	if err != nil {
		return errForged
	}
	if r == nil || !bytes.Equal(r.nonce, m.FromNonce) || m.Gen > r.gen {
		g.remote[from] = &remoteKeys{nonce: slices.Clone(m.FromNonce), gen: m.Gen}
		g.cfg.Keys.SetRemoteKey(from, m.Index, material)
		next := material
		for k := uint32(1); k <= lookahead; k++ {
			next = ratchet(next)
			g.cfg.Keys.SetRemoteKey(from, g.index(m.Gen+k), next)
		}
	}
	ack := &message{T: typeAck, From: g.self.ID, FromNonce: g.self.Nonce, To: from, ToNonce: m.FromNonce, Index: m.Index, Gen: m.Gen}
	ack.S = g.cfg.Identity.signBytes(ack.ackTranscript(g.cfg.Room))
	g.send([]string{from}, ack)
	return nil
}

func (g *Group) onAck(from string, m *message) error {
	if m.From != from || m.To != g.self.ID || !bytes.Equal(m.ToNonce, g.self.Nonce) {
		return errNotForUs
	}
	sender := g.rosterMember(from)
	if sender == nil || !bytes.Equal(sender.Nonce, m.FromNonce) {
		return fmt.Errorf("%w: an ack from a participant that is not a member", errNotForUs)
	}
	if !verify(sender.Sig, m.ackTranscript(g.cfg.Room), m.S) {
		return errForged
	}
	if m.Gen == g.gen && g.newcomers[from] {
		delete(g.newcomers, from)
		g.memberHasKey(from)
	}
	if g.pending == nil || m.Gen != g.pending.gen {
		return nil // an ack of a key already in use
	}
	g.pending.acked[from] = true
	g.switchIfAcked()
	return nil
}

func (g *Group) rosterIndex(id string) int {
	return slices.IndexFunc(g.roster, func(m member) bool { return m.ID == id })
}

func (g *Group) rosterMember(id string) *member {
	if i := g.rosterIndex(id); i >= 0 && id != g.self.ID {
		return &g.roster[i]
	}
	return nil
}

// removeMember takes id out of the authority's roster; a one-use invite
// it came with is spent.
func (g *Group) removeMember(id string) {
	if i := g.rosterIndex(id); i >= 0 && id != g.self.ID {
		g.roster = slices.Delete(g.roster, i, i+1)
	}
	if a, ok := g.admitted[id]; ok {
		g.cfg.Invites.ended(a.invite, a.sig)
		delete(g.admitted, id)
	}
}

// dropAbsent removes from the authority's roster whoever left the room,
// and reports whether anyone did.
func (g *Group) dropAbsent() bool {
	dropped := false
	for _, m := range slices.Clone(g.roster) {
		if m.ID != g.self.ID && !g.present[m.ID] {
			g.log.Info("a member left", "member", m.ID)
			g.removeMember(m.ID)
			dropped = true
		}
	}
	for id := range g.hellos {
		if !g.present[id] {
			delete(g.hellos, id)
			delete(g.challenges, id)
			delete(g.refused, id)
		}
	}
	return dropped
}

// publishRoster makes the authority's next roster and sends it to all.
func (g *Group) publishRoster() {
	if i := g.rosterIndex(g.self.ID); i < 0 {
		g.roster = append([]member{g.self}, g.roster...)
	}
	g.rosterEpoch++
	g.send(nil, g.rosterMessage())
}

func (g *Group) rosterMessage() *message {
	m := &message{T: typeRoster, Room: g.cfg.Room, Nonce: g.self.Nonce, Epoch: g.rosterEpoch, Members: g.roster}
	m.S = g.cfg.Identity.signBytes(m.rosterTranscript())
	return m
}

// membersChanged compares whom the keys go to with before: a newcomer
// makes the sender ratchet, a leaver makes it rotate.
func (g *Group) membersChanged() {
	now := map[string]member{}
	if g.inRoster {
		for _, m := range g.roster {
			if m.ID != g.self.ID && g.present[m.ID] {
				now[m.ID] = m
			}
		}
	}
	var added, removed []string
	for id, m := range now {
		if old, ok := g.sendTo[id]; !ok || !bytes.Equal(old.Nonce, m.Nonce) || !bytes.Equal(old.Sig, m.Sig) {
			added = append(added, id)
		}
	}
	for id, old := range g.sendTo {
		if m, ok := now[id]; !ok || !bytes.Equal(old.Nonce, m.Nonce) || !bytes.Equal(old.Sig, m.Sig) {
			removed = append(removed, id)
		}
	}
	g.sendTo = now
	for _, id := range removed {
		if _, still := now[id]; !still {
			delete(g.remote, id)
			g.cfg.Keys.ForgetRemote(id)
		}
	}
	slices.Sort(added)
	switch {
	case len(removed) > 0:
		g.log.Info("members left: a new key follows", "left", removed)
		g.startRotation(true)
		g.sendPendingTo(added)
	case len(added) > 0 && (g.pending != nil || !g.leaveAt.IsZero()):
		g.sendPendingTo(added) // the key being made is the first they get
	case len(added) > 0:
		g.gen++
		g.material = ratchet(g.material)
		g.cfg.Keys.SetOwnKey(g.index(g.gen), g.material)
		for _, id := range slices.Sorted(maps.Keys(now)) {
			g.sendKey(now[id], g.gen, g.material)
		}
	}
	for _, id := range removed {
		delete(g.newcomers, id)
	}
	for _, id := range added {
		g.newcomers[id] = true
	}
}

func (g *Group) memberHasKey(id string) {
	if g.cfg.OnMember != nil {
		g.cfg.OnMember(id)
	}
}

func (g *Group) sendPendingTo(ids []string) {
	if g.pending == nil {
		return // it goes to everyone when it is made
	}
	for _, id := range ids {
		g.sendKey(g.sendTo[id], g.pending.gen, g.pending.material)
	}
}

func (g *Group) sendKey(to member, gen uint32, material []byte) {
	index := g.index(gen)
	aad := keyAAD(g.cfg.Room, &g.self, &to, index, gen)
	enc, ct, err := sealKey(to.KEM, aad, material)
	if err != nil {
		g.log.Warn("cannot seal a key for a member", "member", to.ID, "err", err)
		return
	}
	m := &message{T: typeKey, From: g.self.ID, FromNonce: g.self.Nonce, To: to.ID, ToNonce: to.Nonce, Index: index, Gen: gen, Enc: enc, CT: ct}
	m.S = g.cfg.Identity.signBytes(keyTranscript(aad, enc, ct))
	g.send([]string{to.ID}, m)
}

// startRotation begins a change to a new random key: after LeaveBatch
// for a leave (more may follow), at once for the periodic change.
func (g *Group) startRotation(leave bool) {
	if g.leaveAt.IsZero() {
		g.leaveAt = time.Now()
		g.switchAt = time.AfterFunc(g.cfg.SwitchDeadline, func() { g.do(g.switchNow) })
	}
	if !leave || g.pending != nil {
		g.makePending() // a key already sent to one who left is no good
		return
	}
	if g.batch == nil {
		g.batch = time.AfterFunc(g.cfg.LeaveBatch, func() {
			g.do(func() {
				g.batch = nil
				if !g.leaveAt.IsZero() && g.pending == nil {
					g.makePending()
				}
			})
		})
	}
}

func (g *Group) makePending() {
	gen := g.gen + 1
	if g.pending != nil {
		gen = g.pending.gen + 1
	}
	g.pending = &pendingKey{gen: gen, material: random(materialSize), acked: map[string]bool{}}
	for _, id := range slices.Sorted(maps.Keys(g.sendTo)) {
		g.sendKey(g.sendTo[id], g.pending.gen, g.pending.material)
	}
	g.switchIfAcked()
}

func (g *Group) switchIfAcked() {
	if g.pending == nil {
		return
	}
	for id := range g.sendTo {
		if !g.pending.acked[id] {
			return
		}
	}
	g.switchNow()
}

// switchNow sends with the pending key from now on.
func (g *Group) switchNow() {
	if g.pending == nil {
		if !g.leaveAt.IsZero() && g.batch == nil {
			g.makePending() // the deadline came before the key: make it now
		}
		if g.pending == nil {
			return
		}
	}
	g.gen, g.material = g.pending.gen, g.pending.material
	for id := range g.newcomers {
		if g.pending.acked[id] {
			delete(g.newcomers, id)
			g.memberHasKey(id)
		}
	}
	g.pending = nil
	g.cfg.Keys.SetOwnKey(g.index(g.gen), g.material)
	g.log.Info("sending with a new key", "gen", g.gen, "after_ms", time.Since(g.leaveAt).Milliseconds())
	g.leaveAt = time.Time{}
	if g.switchAt != nil {
		g.switchAt.Stop()
		g.switchAt = nil
	}
	if g.batch != nil {
		g.batch.Stop()
		g.batch = nil
	}
	g.rotate.Reset(g.cfg.RotateEvery)
}

func (g *Group) periodicRotation() {
	g.log.Info("the key is due for a change")
	g.startRotation(false)
	g.rotate.Reset(g.cfg.RotateEvery)
}
