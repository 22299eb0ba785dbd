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
	// RepairEvery is how often what a lost message left undone is sent
	// again (see repair).
	RepairEvery time.Duration
}

// The defaults of Timing.
const (
	DefaultLeaveBatch     = 250 * time.Millisecond
	DefaultSwitchDeadline = 4 * time.Second
	DefaultRotateEvery    = 15 * time.Minute
	DefaultRepairEvery    = 2 * time.Second
)

// Config makes a Group: one participant's part in one room.
type Config struct {
	Room     string
	Self     string // the participant's LiveKit identity
	Identity *Identity
	// Invites makes this participant a box: it admits the holders of
	// these invites, and is the room's authority (publishes the roster)
	// unless another box of the room leads (Boxes).
	Invites *InviteBook
	// Boxes (a box's) are the signing keys of the room's other boxes.
	// Among the boxes present that list each other, the one with the
	// lowest key leads; the others join it as members and vouch for the
	// members they admit.
	Boxes [][]byte
	// Invite is what a member that is not a box joins with.
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
	// Leader is the identity of the box whose roster counts ("" while
	// none is known); the participant's own when it leads.
	Leader string
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
	timers sync.WaitGroup // the runs of timers (later) under way
	joined bool           // Joined was called: there is a room to send to
	self   member
	time   int64 // of this session's hello

	present map[string]bool // LiveKit identities in the room, not self
	// came is when each participant present was first known to be here
	// (the room's list or event, or a message of theirs): a server's list
	// asked for before then cannot show them yet (Present).
	came map[string]time.Time

	// hellos are the latest hello of each participant present; newest is
	// the time of the newest hello of each box's signing key, so that an
	// older session's hello is refused.
	hellos map[string]*hello
	newest map[string]int64
	// myBox is the latest hello of the box a member's invite names, kept
	// while that box is away: its list of boxes says whom to follow.
	myBox *hello

	// A box's: the open challenges, who it admitted and how, and the last
	// vouch of each box admitted (while leading).
	challenges map[string]challenge
	admitted   map[string]admission
	refused    map[string]string // identity: why, for the log once
	vouchEpoch map[string]uint64

	// leading: this box is the authority and makes the roster.
	leading bool
	// lead is the authority's session whose roster is followed (nil
	// while leading or while none is known); rosters are the newest
	// roster of each box trusted, to follow when it comes to lead.
	lead    *member
	rosters map[string]*message
	// A box that follows: the challenge the leader admitted it with, and
	// what it last vouched.
	vouchC    []byte
	vouched   []member
	vouchSent uint64

	roster      []member
	rosterNonce []byte // of the session whose roster it is
	rosterEpoch uint64
	inRoster    bool

	// sendTo are the members the participant's keys go to: the roster's
	// members in the room, not self.
	sendTo map[string]member

	gen      uint32 // of the key sent with
	material []byte
	pending  *pendingKey
	// leaveAt is when the first leave of an unfinished rotation came.
	leaveAt                          time.Time
	batch, switchAt, rotate, repairs *time.Timer
	// unheard counts the hellos a box sent to a participant present whose
	// own hello it has not heard (see repair).
	unheard map[string]int
	// answered is when a box last answered a participant's hello.
	answered map[string]time.Time

	remote map[string]*remoteKeys
	// newcomers have not yet acked the key the participant sends with.
	newcomers map[string]bool

	outbox     []outgoing
	lastStatus *Status
	stats      Stats
}

// hello is what a participant's hello said.
type hello struct {
	member
	time  int64
	boxes [][]byte
}

type challenge struct {
	c     []byte
	nonce []byte // of the hello it answers
}

// admission is how a box took a member in: with one of its invites, as
// another box of the room (box, after challenge c), or on the word of the
// box with signing key by (its vouch, or the roster it led with).
type admission struct {
	member
	invite []byte
	box    bool
	c      []byte
	by     []byte
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
		return nil, errors.New("keys: a group is either a box (invites) or a member (an invite)")
	case cfg.Invite != nil && (len(cfg.Invite.ID) != inviteIDSize || len(cfg.Invite.Secret) != secretSize || len(cfg.Invite.BoxKey) != sigKeySize):
		return nil, errors.New("keys: the invite is incomplete")
	case cfg.Invite != nil && len(cfg.Boxes) > 0:
		return nil, errors.New("keys: only a box lists the room's other boxes")
	case len(cfg.Boxes) > MaxBoxes:
		return nil, fmt.Errorf("keys: %d other boxes, at most %d", len(cfg.Boxes), MaxBoxes)
	}
	for _, b := range cfg.Boxes {
		if len(b) != sigKeySize {
			return nil, errors.New("keys: another box's key is not 32 bytes")
		}
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
	if cfg.RepairEvery == 0 {
		cfg.RepairEvery = DefaultRepairEvery
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	g := &Group{
		cfg: cfg, log: cfg.Log.With("part", "e2ee"),
		self:    member{ID: cfg.Self, Sig: cfg.Identity.SigKey(), KEM: cfg.Identity.kemKey(), Nonce: random(nonceSize)},
		time:    time.Now().UnixMilli(),
		present: map[string]bool{}, came: map[string]time.Time{}, hellos: map[string]*hello{}, newest: map[string]int64{}, challenges: map[string]challenge{},
		admitted: map[string]admission{}, refused: map[string]string{}, vouchEpoch: map[string]uint64{},
		rosters: map[string]*message{}, sendTo: map[string]member{},
		remote: map[string]*remoteKeys{}, newcomers: map[string]bool{}, unheard: map[string]int{}, answered: map[string]time.Time{},
		gen: 1, material: random(materialSize),
	}
	g.mu.Lock()
	cfg.Keys.SetOwnKey(g.index(g.gen), g.material)
	if g.isBox() {
		g.leading, g.inRoster = true, true
		g.publishRoster()
	}
	g.rotate = g.later(cfg.RotateEvery, g.periodicRotation)
	g.repairs = g.later(cfg.RepairEvery, g.repair)
	g.outbox = nil // nobody to send to before Joined
	g.mu.Unlock()
	return g, nil
}

// isBox: the participant admits members with its invites.
func (g *Group) isBox() bool { return g.cfg.Invites != nil }

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
	g.follow()
	g.refreshRoster()
	g.vouch()
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

// later runs f as do does after d, unless the group is closed by then; Close
// waits for a run that has begun.
func (g *Group) later(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return
		}
		g.timers.Add(1)
		g.mu.Unlock()
		defer g.timers.Done()
		g.do(f)
	})
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
				g.arrived(id)
			}
		}
		g.joined = true
		g.send(nil, g.hello())
		g.forgetAbsent()
		if g.leading {
			g.publishRoster()
		}
		g.membersChanged()
	})
}

// Present replaces who is in the room with the server's list as it was
// when asked for, which also catches leaves whose event never came. Those
// who came after asked stay: the list could not show them.
func (g *Group) Present(present []string, asked time.Time) {
	g.do(func() {
		now := map[string]bool{}
		for _, id := range present {
			if id != g.cfg.Self {
				now[id] = true
			}
		}
		for id := range g.present {
			if g.came[id].After(asked) {
				now[id] = true
			}
		}
		if maps.Equal(now, g.present) {
			return
		}
		for id := range now {
			if !g.present[id] {
				g.came[id] = time.Now()
			}
		}
		g.present = now
		g.forgetAbsent()
		g.membersChanged()
	})
}

// arrived marks a participant present, from now on.
func (g *Group) arrived(id string) {
	g.present[id] = true
	g.came[id] = time.Now()
}

// KeySession says which session of the key exchange a participant last
// said hello with ("" before its hello): another one is a new session of
// that identity, with new keys.
func (g *Group) KeySession(id string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h := g.hellos[id]; h != nil {
		return string(h.Nonce)
	}
	return ""
}

// ParticipantJoined and ParticipantLeft follow the room's events.
func (g *Group) ParticipantJoined(id string) {
	g.do(func() {
		if id != g.cfg.Self && !g.present[id] {
			g.arrived(id)
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
		g.forgetAbsent()
		g.membersChanged()
	})
}

// InvitesChanged makes a box drop members whose invite was revoked: the
// leader from its roster, another box from what it vouches for.
func (g *Group) InvitesChanged() {
	g.do(func() {
		if !g.isBox() {
			return
		}
		removed := false
		for id, a := range g.admitted {
			if a.invite != nil && g.cfg.Invites.revoked(a.invite) {
				g.log.Info("the member's invite was revoked: no more keys for it", "member", id, "invite", InviteName(a.invite))
				g.removeMember(id)
				g.refused[id] = ErrInviteRevoked.Error()
				removed = true
			}
		}
		if removed && g.leading {
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

// Close stops the timers and waits for a run of one under way; the group
// does nothing after. It must not be called from Config.Send or OnStatus.
func (g *Group) Close() {
	g.mu.Lock()
	g.closed = true
	for _, t := range []*time.Timer{g.batch, g.switchAt, g.rotate, g.repairs} {
		if t != nil {
			t.Stop()
		}
	}
	g.mu.Unlock()
	g.timers.Wait()
}

func (g *Group) statusLocked() Status {
	st := Status{Admitted: g.inRoster, Gen: g.gen}
	switch {
	case g.leading:
		st.Leader = g.self.ID
	case g.lead != nil:
		st.Leader = g.lead.ID
	}
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
	return a.Admitted == b.Admitted && a.Gen == b.Gen && a.Leader == b.Leader && slices.Equal(a.Members, b.Members) &&
		bytes.Equal(a.Verification, b.Verification) && slices.Equal(a.Outsiders, b.Outsiders)
}

func (g *Group) hello() *message {
	m := &message{T: typeHello, Room: g.cfg.Room, ID: g.self.ID, Sig: g.self.Sig, KEM: g.self.KEM, Nonce: g.self.Nonce, Time: g.time,
		Boxes: g.cfg.Boxes}
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
			g.arrived(from)
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
		case typeVouch:
			err = g.onVouch(from, m)
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
	h := &hello{member: member{ID: m.ID, Sig: m.Sig, KEM: m.KEM, Nonce: m.Nonce}, time: m.Time, boxes: m.Boxes}
	old := g.hellos[from]
	newSession := old == nil || !bytes.Equal(old.Nonce, h.Nonce) || !bytes.Equal(old.Sig, h.Sig)
	if newSession {
		if bytes.Equal(h.Sig, g.ownBox()) || hasKey(g.boxesTrusted(), h.Sig) { // a box's key lasts; a member's is new each call
			if t, seen := g.newest[string(h.Sig)]; seen && h.time < t {
				return fmt.Errorf("%w: a hello of an earlier session of a box", errStale)
			}
			g.newest[string(h.Sig)] = h.time
		}
		g.hellos[from] = h
		delete(g.rosters, from)
	}
	if !g.isBox() {
		if bytes.Equal(h.Sig, g.cfg.Invite.BoxKey) && (g.myBox == nil || !bytes.Equal(g.myBox.Nonce, h.Nonce)) {
			g.myBox = h
			g.log.Info("the box is here", "box", from)
			g.send([]string{from}, g.hello()) // so it challenges us
		} else if newSession && g.trusted(h) {
			g.send([]string{from}, g.hello()) // another box of the room: it may lead
		}
		return nil
	}
	// Every box knows every other (one may lead later). A member hears
	// the box back when it says hello again, so one that missed the box's
	// hello (lost, see repair) learns it and takes the challenge; at most
	// once in half a repair period, or a box this one does not list (it
	// answers hellos as this one does) would answer back forever.
	if newSession || !g.peerBox(h) && time.Since(g.answered[from]) >= g.cfg.RepairEvery/2 {
		g.answered[from] = time.Now()
		g.send([]string{from}, g.hello())
	}
	a, admitted := g.admitted[from]
	switch {
	case g.peerBox(h) && bytes.Compare(h.Sig, g.self.Sig) < 0:
		return nil // it leads (follow): this box says hello to it and answers its challenge
	case g.peerBox(h) && !(admitted && a.box && sameSession(a.member, h.member)):
		// Another box joins as a member with its vouch, even one that
		// is in the roster already (kept from the leader before).
	case g.rosterIndex(from) >= 0 && sameSession(g.roster[g.rosterIndex(from)], h.member):
		if g.leading {
			g.send([]string{from}, g.rosterMessage()) // it missed the roster
		}
		return nil
	case admitted && !a.box && sameSession(a.member, h.member):
		return nil // admitted already: the leader lists it once this box's vouch reaches it
	}
	if admitted && !sameSession(a.member, h.member) {
		g.removeMember(from) // a new session of that identity: prove again
		if g.leading {
			g.publishRoster()
		}
		g.membersChanged()
	}
	c, open := g.challenges[from]
	if !open || !bytes.Equal(c.nonce, h.Nonce) {
		c = challenge{c: random(nonceSize), nonce: h.Nonce}
		g.challenges[from] = c
	}
	g.send([]string{from}, &message{T: typeChallenge, To: from, ToNonce: h.Nonce, C: c.c})
	return nil
}

// onChallenge: a member answers its own box with its invite; a box that
// does not lead answers the leader with its vouch.
func (g *Group) onChallenge(from string, m *message) error {
	if m.To != g.self.ID || !bytes.Equal(m.ToNonce, g.self.Nonce) {
		return errNotForUs
	}
	if g.isBox() {
		if g.leading || g.lead == nil || from != g.lead.ID {
			return fmt.Errorf("%w: a challenge not from the box that leads", errNotForUs)
		}
		g.vouchC = slices.Clone(m.C)
		g.sendVouch()
		return nil
	}
	if g.myBox == nil || from != g.myBox.ID {
		return fmt.Errorf("%w: a challenge not from the box", errNotForUs)
	}
	inv := g.cfg.Invite
	mac := inviteMAC(inv.Secret, g.cfg.Room, &g.self, inv.ID, m.C)
	g.send([]string{from}, &message{T: typeJoin, Invite: inv.ID, C: m.C, MAC: mac})
	return nil
}

func (g *Group) onJoin(from string, m *message) error {
	if !g.isBox() {
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
	if !hmac.Equal(inviteMAC(secret, g.cfg.Room, &p.member, m.Invite, m.C), m.MAC) {
		g.refuse(from, "its proof of the invite does not check")
		return errForged
	}
	if err := g.cfg.Invites.used(m.Invite, p.Sig); err != nil {
		// Kept in memory: after a restart the invite would not know who used it.
		g.log.Warn("the invite's use was not saved", "invite", InviteName(m.Invite), "err", err)
	}
	g.removeMember(from)
	g.admitted[from] = admission{member: p.member, invite: slices.Clone(m.Invite)}
	delete(g.refused, from)
	g.log.Info("admitted a member", "member", from, "invite", InviteName(m.Invite))
	if g.leading {
		g.publishRoster()
	}
	g.membersChanged()
	return nil
}

func (g *Group) refuse(id, why string) {
	if g.refused[id] != why {
		g.log.Warn("a participant gets no keys", "participant", id, "why", why)
	}
	g.refused[id] = why
}

// onRoster keeps the newest roster of each box the participant trusts;
// follow applies the leader's.
func (g *Group) onRoster(from string, m *message) error {
	h := g.hellos[from]
	if h == nil || !g.trusted(h) {
		return fmt.Errorf("%w: a roster not from a box of the room", errNotForUs)
	}
	if m.Room != g.cfg.Room || !bytes.Equal(m.Nonce, h.Nonce) {
		return fmt.Errorf("%w: a roster of another room or session of the box", errStale)
	}
	if !verify(h.Sig, m.rosterTranscript(), m.S) {
		return errForged
	}
	if last := g.rosters[from]; last != nil && m.Epoch <= last.Epoch {
		return fmt.Errorf("%w: roster %d after %d", errStale, m.Epoch, last.Epoch)
	}
	g.rosters[from] = m
	return nil
}

// onVouch: the leader admits another box of the room (its vouch answers
// the leader's challenge) and the members that box admitted; a later vouch
// of the same session replaces its list.
func (g *Group) onVouch(from string, m *message) error {
	h := g.hellos[from]
	if !g.leading || h == nil || !g.peerBox(h) {
		return fmt.Errorf("%w: a vouch not from a box of the room, or to one that does not lead", errNotForUs)
	}
	if m.Room != g.cfg.Room || !bytes.Equal(m.Nonce, h.Nonce) || !bytes.Equal(m.ToNonce, g.self.Nonce) {
		return fmt.Errorf("%w: a vouch of another room or session", errStale)
	}
	if !verify(h.Sig, m.vouchTranscript(), m.S) {
		return errForged
	}
	a, ok := g.admitted[from]
	if !ok || !a.box || !bytes.Equal(a.Nonce, h.Nonce) {
		c := g.challenges[from]
		if c.c == nil || !bytes.Equal(c.c, m.C) || !bytes.Equal(c.nonce, h.Nonce) {
			return fmt.Errorf("%w: a vouch without an open challenge", errStale)
		}
		delete(g.challenges, from)
		g.removeMember(from)
		g.admitted[from] = admission{member: h.member, box: true, c: slices.Clone(m.C)}
		g.vouchEpoch[from] = 0
		g.log.Info("admitted another box of the room", "box", from)
	} else if !bytes.Equal(a.c, m.C) {
		return fmt.Errorf("%w: a vouch after another challenge", errStale)
	}
	if m.Epoch <= g.vouchEpoch[from] {
		return fmt.Errorf("%w: vouch %d after %d", errStale, m.Epoch, g.vouchEpoch[from])
	}
	g.vouchEpoch[from] = m.Epoch
	listed := map[string]member{}
	for _, e := range m.Members {
		if e.ID != g.self.ID && e.ID != from {
			listed[e.ID] = e
		}
	}
	for id, a := range g.admitted {
		if _, still := listed[id]; !still && bytes.Equal(a.by, h.Sig) {
			g.removeMember(id) // no longer vouched for: its invite was revoked
		}
	}
	for id, e := range listed {
		if a, ok := g.admitted[id]; ok && sameSession(a.member, e) {
			continue
		}
		g.removeMember(id)
		g.admitted[id] = admission{member: e, by: h.Sig}
	}
	g.publishRoster()
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

func sameSession(a, b member) bool {
	return a.ID == b.ID && bytes.Equal(a.Sig, b.Sig) && bytes.Equal(a.Nonce, b.Nonce)
}

// removeMember takes id out of what the box admitted; a one-use invite it
// came with is spent.
func (g *Group) removeMember(id string) {
	if a, ok := g.admitted[id]; ok {
		if a.invite != nil {
			if err := g.cfg.Invites.ended(a.invite, a.Sig); err != nil {
				// Kept in memory: after a restart the one-use invite would admit again.
				g.log.Warn("the spent invite was not saved", "invite", InviteName(a.invite), "err", err)
			}
		}
		delete(g.admitted, id)
	}
}

// forgetAbsent drops what the participant knew of whoever left the room;
// the leader publishes a roster without them.
func (g *Group) forgetAbsent() {
	for id := range g.hellos {
		if !g.present[id] {
			delete(g.hellos, id)
			delete(g.challenges, id)
			delete(g.refused, id)
			delete(g.rosters, id)
		}
	}
	dropped := false
	for id := range g.admitted {
		if !g.present[id] {
			g.log.Info("a member left", "member", id)
			g.removeMember(id)
			dropped = true
		}
	}
	if dropped && g.leading {
		g.publishRoster()
	}
	maps.DeleteFunc(g.unheard, func(id string, _ int) bool { return !g.present[id] })
	maps.DeleteFunc(g.came, func(id string, _ time.Time) bool { return !g.present[id] })
	maps.DeleteFunc(g.answered, func(id string, _ time.Time) bool { return !g.present[id] })
}

// refreshRoster: the leader's roster lists the members present, so one
// admitted before the server showed it present (on another box's vouch)
// is listed once it is.
func (g *Group) refreshRoster() {
	if g.leading && !slices.EqualFunc(g.rosterMembers(), g.roster, sameSession) {
		g.publishRoster()
		g.membersChanged()
	}
}

// publishRoster makes the leader's next roster, itself and every member it
// admitted that is present, and sends it to all.
func (g *Group) publishRoster() {
	g.roster, g.rosterNonce = g.rosterMembers(), g.self.Nonce
	g.rosterEpoch++
	g.send(nil, g.rosterMessage())
}

func (g *Group) rosterMembers() []member {
	roster := []member{g.self}
	for _, id := range slices.Sorted(maps.Keys(g.admitted)) {
		if g.present[id] {
			roster = append(roster, g.admitted[id].member)
		}
	}
	return roster
}

func (g *Group) rosterMessage() *message {
	m := &message{T: typeRoster, Room: g.cfg.Room, Nonce: g.self.Nonce, Epoch: g.rosterEpoch, Members: g.roster}
	m.S = g.cfg.Identity.signBytes(m.rosterTranscript())
	return m
}

// ownBox is the signing key of the participant's box: its own for a box,
// its invite's for a member.
func (g *Group) ownBox() []byte {
	if g.isBox() {
		return g.self.Sig
	}
	return g.cfg.Invite.BoxKey
}

// boxesTrusted are the other boxes the participant's box lists: a box's
// settings, or for a member what its box's signed hello said.
func (g *Group) boxesTrusted() [][]byte {
	if g.isBox() {
		return g.cfg.Boxes
	}
	if g.myBox == nil {
		return nil
	}
	return g.myBox.boxes
}

func hasKey(keys [][]byte, k []byte) bool {
	return slices.ContainsFunc(keys, func(b []byte) bool { return bytes.Equal(b, k) })
}

// peerBox: h is another box of the room that the participant's box lists
// and that lists the participant's box.
func (g *Group) peerBox(h *hello) bool {
	return hasKey(g.boxesTrusted(), h.Sig) && hasKey(h.boxes, g.ownBox())
}

// trusted: h is a box whose roster the participant may follow.
func (g *Group) trusted(h *hello) bool {
	return bytes.Equal(h.Sig, g.ownBox()) || g.peerBox(h)
}

// leader is the box whose roster counts: of the trusted boxes present, the
// one with the lowest signing key; nil when there is none.
func (g *Group) leader() *member {
	var best *member
	if g.isBox() {
		best = &g.self
	}
	for id, h := range g.hellos {
		if g.present[id] && g.trusted(h) && (best == nil || bytes.Compare(h.Sig, best.Sig) < 0) {
			best = &h.member
		}
	}
	return best
}

// follow takes the roster of the box that leads now: this box's own when
// it is the one (takeOver), else that box's newest.
func (g *Group) follow() {
	lead := g.leader()
	switch {
	case lead == nil:
		return // keep the roster there is until a box of the room is here
	case lead == &g.self:
		if !g.leading {
			g.takeOver()
		}
		return
	}
	if g.lead == nil || !sameSession(*g.lead, *lead) {
		if g.leading {
			g.log.Info("another box of the room leads: this one joins it", "leader", lead.ID)
			g.leading = false
		}
		l := *lead
		g.lead, g.vouchC, g.vouched = &l, nil, nil
		if g.isBox() {
			g.send([]string{lead.ID}, g.hello()) // so it challenges us
		}
	}
	r := g.rosters[lead.ID]
	if r == nil || bytes.Equal(r.Nonce, g.rosterNonce) && r.Epoch <= g.rosterEpoch {
		return
	}
	self, box := false, false
	for _, e := range r.Members {
		self = self || sameSession(e, g.self)
		box = box || bytes.Equal(e.Sig, g.ownBox())
	}
	switch {
	case self:
		if !g.inRoster {
			g.log.Info("admitted", "leader", lead.ID)
		}
		g.roster, g.rosterNonce, g.rosterEpoch, g.inRoster = r.Members, r.Nonce, r.Epoch, true
		g.membersChanged()
	case g.inRoster && (bytes.Equal(r.Nonce, g.rosterNonce) || box || !g.myBoxHere()):
		// The leader listed us before, or lists our box without us
		// (revoked), or our box is gone: no more keys.
		g.log.Warn("the box that leads no longer lists this participant: no more keys", "leader", lead.ID)
		g.roster, g.rosterNonce, g.rosterEpoch, g.inRoster = nil, r.Nonce, r.Epoch, false
		g.membersChanged()
	}
	// Otherwise it has not admitted us (or our box) yet: the roster there
	// is holds until it does.
}

// myBoxHere: a member's own box is in the room (a box always is).
func (g *Group) myBoxHere() bool {
	if g.isBox() {
		return true
	}
	return g.myBox != nil && g.present[g.myBox.ID] && g.hellos[g.myBox.ID] != nil &&
		bytes.Equal(g.hellos[g.myBox.ID].Nonce, g.myBox.Nonce)
}

// takeOver makes this box the leader: it keeps the members of the roster
// it followed (a box it trusts admitted them) and publishes its own.
func (g *Group) takeOver() {
	g.leading = true
	if g.lead != nil && g.inRoster {
		for _, e := range g.roster {
			if _, ok := g.admitted[e.ID]; !ok && e.ID != g.self.ID {
				g.admitted[e.ID] = admission{member: e, by: g.lead.Sig}
			}
		}
		g.log.Info("this box leads the room now", "after", g.lead.ID)
	}
	g.lead, g.vouchC, g.vouched = nil, nil, nil
	g.inRoster = true
	g.publishRoster()
	g.membersChanged()
}

// vouch tells the leader, when what a box that follows admitted changed.
func (g *Group) vouch() {
	if g.vouchC == nil || g.leading || g.lead == nil {
		return
	}
	if !slices.EqualFunc(g.vouchList(), g.vouched, func(a, b member) bool { return sameSession(a, b) }) {
		g.sendVouch()
	}
}

// vouchList is what a box that follows vouches for: the members it
// admitted that are present.
func (g *Group) vouchList() []member {
	var list []member
	for _, id := range slices.Sorted(maps.Keys(g.admitted)) {
		if a := g.admitted[id]; g.present[id] && !a.box {
			list = append(list, a.member)
		}
	}
	return list
}

func (g *Group) sendVouch() {
	g.vouched = g.vouchList()
	g.vouchSent++
	m := &message{T: typeVouch, Room: g.cfg.Room, Nonce: g.self.Nonce, ToNonce: g.lead.Nonce, C: g.vouchC,
		Epoch: g.vouchSent, Members: g.vouched}
	m.S = g.cfg.Identity.signBytes(m.vouchTranscript())
	g.send([]string{g.lead.ID}, m)
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
		g.switchAt = g.later(g.cfg.SwitchDeadline, g.switchNow)
	}
	if !leave || g.pending != nil {
		g.makePending() // a key already sent to one who left is no good
		return
	}
	if g.batch == nil {
		g.batch = g.later(g.cfg.LeaveBatch, func() {
			g.batch = nil
			if !g.leaveAt.IsZero() && g.pending == nil {
				g.makePending()
			}
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

// repair sends again what a lost message left undone. LiveKit drops a
// data message for a participant whose data channel is not open yet, so
// around a join a hello, a challenge, a roster, a vouch or a key can be
// lost; the exchange must not wait for a hello that never comes.
func (g *Group) repair() {
	defer g.repairs.Reset(g.cfg.RepairEvery)
	if !g.joined {
		return
	}
	if !g.inRoster {
		g.send(nil, g.hello()) // whoever missed it answers: its box with a challenge, the leader with its roster
	}
	if g.isBox() {
		// A participant present that never said hello may have missed
		// this box's: a box answers with its own. A few tries only: a
		// participant without end-to-end encryption never answers.
		for _, id := range slices.Sorted(maps.Keys(g.present)) {
			if g.hellos[id] == nil && g.unheard[id] < maxUnheardHellos {
				g.unheard[id]++
				g.send([]string{id}, g.hello())
			}
		}
	}
	if g.leading {
		// Another box of the room that follows but was not admitted may
		// have missed this box's hello: it leads by itself meanwhile.
		for _, id := range slices.Sorted(maps.Keys(g.hellos)) {
			h := g.hellos[id]
			if a, ok := g.admitted[id]; g.present[id] && g.peerBox(h) && !(ok && a.box && sameSession(a.member, h.member)) {
				g.send([]string{id}, g.hello())
			}
		}
	}
	if g.vouchC != nil && !g.leading && g.lead != nil && !g.leaderLists(g.vouched) {
		g.sendVouch() // the leader has not taken what this box vouched
	}
	switch {
	case g.pending != nil:
		for _, id := range slices.Sorted(maps.Keys(g.sendTo)) {
			if !g.pending.acked[id] {
				g.sendKey(g.sendTo[id], g.pending.gen, g.pending.material)
			}
		}
	case g.leaveAt.IsZero():
		// Not while a leave's new key is being made: the key in use
		// then was used before the newcomer came.
		for _, id := range slices.Sorted(maps.Keys(g.newcomers)) {
			if m, ok := g.sendTo[id]; ok {
				g.sendKey(m, g.gen, g.material)
			}
		}
	}
}

// maxUnheardHellos is how many hellos a box sends to a participant it has
// not heard from.
const maxUnheardHellos = 3

// leaderLists: the roster of the box that leads lists this box and the
// members it vouched for that are present.
func (g *Group) leaderLists(vouched []member) bool {
	r := g.rosters[g.lead.ID]
	if r == nil {
		return false
	}
	listed := func(m member) bool {
		return slices.ContainsFunc(r.Members, func(e member) bool { return sameSession(e, m) })
	}
	if !listed(g.self) {
		return false
	}
	for _, m := range vouched {
		if g.present[m.ID] && !listed(m) {
			return false
		}
	}
	return true
}
