package call

// Per-member keys (the default): each member of the call encrypts with a
// key of its own, and package keys decides who the members are and when
// keys change. Here its messages travel in LiveKit data messages (reliable,
// topic keys.Topic, sent only to whom they concern), the room's events
// drive it, and the keys it hands out go to the frame encryptors and
// decryptors (e2ee_keyring.go).

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/callbox/callbox/call/keys"
)

// GroupOptions make a call's media keys per member.
type GroupOptions struct {
	Identity *keys.Identity
	// Invites makes the participant the room's authority (the box): it
	// admits the holders of these invites.
	Invites *keys.InviteBook
	// Boxes (a box's) are the signing keys of the room's other boxes
	// (call.boxes): boxes that list each other share one call.
	Boxes [][]byte
	// Invite is what a member that is not the box joins with.
	Invite *keys.Invite
	Timing keys.Timing
	// OnStatus is told every change of who the members are and of their
	// verification string. It must not block.
	OnStatus func(keys.Status)
	// RecordKeys keeps every key material the participant holds, for tests
	// that play a member who keeps everything (Watcher.HeldKeys).
	RecordKeys bool
	// OnMessage, when set, is handed every key-exchange message as the
	// server delivered it, for tests that look at what the SFU forwards.
	// It must not block.
	OnMessage func(from string, msg []byte)
}

// serverCheckEvery is how often the box compares its members with the
// server's list of participants: a leave whose event never came (a
// reconnection that lost it), or an identity that left and came straight
// back as a new session, is found within this. It must stay well under
// keys.DefaultSwitchDeadline: the one who left must not get the key that
// was current when it comes back.
const serverCheckEvery = time.Second

// groupSession is one join's key exchange. It owns a goroutine that hands
// the room's events to the group (the SDK calls its callbacks holding
// locks of its own, and the group sends from them), one that sends the
// group's messages (a send waits while the SDK connects its publisher,
// up to the join timeout, and the group must not) and, for the box, one
// that checks the server's list of participants.
type groupSession struct {
	keys   *groupKeys
	group  *keys.Group
	room   atomic.Pointer[lksdk.Room]
	log    *slog.Logger
	events eventQueue
	sends  eventQueue // the group's messages, in order
	// sessions is each identity's newest session that a list of the
	// room's participants showed (the SDK's, or the server's for the
	// box), and sdkSids and serverSids what each list showed at its last
	// look (identity: session id). All the event goroutine's.
	sessions            map[string]presence
	sdkSids, serverSids map[string]string
	ctx                 context.Context // ends with close
	cancel              context.CancelFunc
	wg                  sync.WaitGroup
	// onMessage is GroupOptions.OnMessage.
	onMessage func(from string, msg []byte)
}

func newGroupSession(opts *GroupOptions, roomName, self string, onMember func(string), log *slog.Logger) (*groupSession, error) {
	gs := &groupSession{keys: newGroupKeys(), log: log, onMessage: opts.OnMessage}
	gs.keys.record = opts.RecordKeys
	g, err := keys.NewGroup(keys.Config{
		Room: roomName, Self: self, Identity: opts.Identity, Invites: opts.Invites, Boxes: opts.Boxes, Invite: opts.Invite,
		Send: gs.send, Keys: gs.keys, OnStatus: opts.OnStatus, OnMember: onMember, Timing: opts.Timing, Log: log,
	})
	if err != nil {
		return nil, err
	}
	gs.group = g
	gs.ctx, gs.cancel = context.WithCancel(context.Background())
	gs.wg.Go(func() { gs.events.run(gs.ctx) })
	gs.wg.Go(func() { gs.sends.run(gs.ctx) })
	return gs, nil
}

// send carries a message of the group: reliable, to whom it names. It
// never blocks.
func (gs *groupSession) send(to []string, msg []byte) {
	gs.sends.push(func() { gs.publish(to, msg) })
}

func (gs *groupSession) publish(to []string, msg []byte) {
	room := gs.room.Load()
	if room == nil || gs.ctx.Err() != nil {
		return
	}
	opts := []lksdk.DataPublishOption{lksdk.WithDataPublishReliable(true), lksdk.WithDataPublishTopic(keys.Topic)}
	if to != nil {
		opts = append(opts, lksdk.WithDataPublishDestination(to))
	}
	if err := room.LocalParticipant.PublishDataPacket(lksdk.UserData(msg), opts...); err != nil {
		gs.log.Debug("a key message was not sent", "err", err)
	}
}

// hook adds the group's handling to the room's callbacks, keeping those
// already set.
func (gs *groupSession) hook(cb *lksdk.RoomCallback) {
	data, connected, disconnected, reconnected := cb.OnDataPacket, cb.OnParticipantConnected, cb.OnParticipantDisconnected, cb.OnReconnected
	cb.OnDataPacket = func(p lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, ok := p.(*lksdk.UserDataPacket); ok && u.Topic == keys.Topic {
			payload, from := u.Payload, params.SenderIdentity
			if gs.onMessage != nil {
				gs.onMessage(from, payload)
			}
			gs.events.push(func() { gs.group.Receive(from, payload) })
			return
		}
		if data != nil {
			data(p, params)
		}
	}
	cb.OnParticipantConnected = func(rp *lksdk.RemoteParticipant) {
		gs.events.push(gs.comparePresence)
		if connected != nil {
			connected(rp)
		}
	}
	cb.OnParticipantDisconnected = func(rp *lksdk.RemoteParticipant) {
		gs.events.push(gs.comparePresence)
		if disconnected != nil {
			disconnected(rp)
		}
	}
	cb.OnReconnected = func() {
		gs.events.push(gs.announce) // the others may have missed us
		if reconnected != nil {
			reconnected()
		}
	}
}

// joined starts the exchange once the room is joined, and the look at
// who is in the room every presenceEvery.
func (gs *groupSession) joined(room *lksdk.Room) {
	gs.room.Store(room)
	gs.events.push(gs.announce)
	gs.every(presenceEvery, func() { gs.events.push(gs.comparePresence) })
}

// every runs f every interval on a goroutine of the session until close.
func (gs *groupSession) every(interval time.Duration, f func()) {
	gs.wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-gs.ctx.Done():
				return
			case <-tick.C:
				f()
			}
		}
	})
}

// presenceEvery is how often the room's participants are compared with
// before: the SDK says nothing when an identity comes back as a new
// participant (a new SID) before its old self was seen to leave, and that
// is a leave and a join.
const presenceEvery = 500 * time.Millisecond

// present is who is in the room now, by identity, with their session ids.
func (gs *groupSession) present() map[string]string {
	now := map[string]string{}
	if room := gs.room.Load(); room != nil {
		for _, rp := range room.GetRemoteParticipants() {
			now[rp.Identity()] = rp.SID()
		}
	}
	return now
}

func (gs *groupSession) announce() {
	gs.sdkSids = gs.present()
	gs.sessions = map[string]presence{}
	for id, sid := range gs.sdkSids {
		gs.sessions[id] = presence{sid: sid}
	}
	// A new session of this participant's (joined again after losing the
	// call server): the server's list from before is of another room's
	// session, against which everyone would look as having come back.
	gs.serverSids = nil
	gs.group.Joined(slices.Collect(maps.Keys(gs.sdkSids)))
}

// presence is an identity's session: its id ("": no list showed it yet,
// though it said hello) and the key session it said hello with, as far
// as known.
type presence struct{ sid, keySession string }

// comparePresence tells the group who left and who came since the last
// look at the SDK's list of participants. It runs on the event goroutine.
func (gs *groupSession) comparePresence() { gs.sdkSaw(gs.present()) }

// sdkSaw gives the group what the SDK's list of participants shows now.
// It runs on the event goroutine.
func (gs *groupSession) sdkSaw(now map[string]string) {
	gs.lookAt(gs.sdkSids, now, true)
	gs.sdkSids = now
}

// lookAt tells the group what changed in a list of the room's
// participants (identity: session id) since the list's last look (was).
// A session id that no list showed before is a join, and a leave of the
// identity's session before it (the SDK may never tell that leave), unless
// the identity said hello with a new key session since that session was
// last seen: that key session is the new session's (a page that joins
// again says hello at once, often before a list shows it), which the group
// took for a new member then and may have admitted, and a leave would drop
// it. The same holds for an identity gone from the list; one gone after
// saying such a hello leaves when it is still gone at the next look.
// A list that lags behind the other (the SDK's, often by a second) tells
// nothing new. With leaves false (the server's list: the group is given
// it whole, see serverSaw), an identity missing from it is not taken for
// gone here. It runs on the event goroutine.
func (gs *groupSession) lookAt(was, now map[string]string, leaves bool) {
	ids := map[string]bool{}
	for _, m := range []map[string]string{was, now} {
		for id := range m {
			ids[id] = true
		}
	}
	if leaves {
		for id := range gs.sessions {
			ids[id] = true
		}
	}
	for id := range ids {
		before, after := was[id], now[id]
		cur, known := gs.sessions[id]
		keySession := gs.group.KeySession(id)
		switch {
		case after != "" && known && (after == cur.sid || cur.sid == ""):
			// The newest session (or the one that said hello before
			// a list showed it): what it says hello with is its own.
			if cur.sid == "" {
				gs.group.ParticipantJoined(id)
			}
			gs.sessions[id] = presence{sid: after, keySession: keySession}
		case after != "" && after == before:
			// This list lags behind the other.
		case after != "":
			if known && keySession == cur.keySession {
				gs.log.Debug("a participant's session ended: a new one came", "participant", id)
				gs.group.ParticipantLeft(id)
			}
			gs.group.ParticipantJoined(id)
			gs.sessions[id] = presence{sid: after, keySession: gs.group.KeySession(id)}
		case !leaves || !known || before != cur.sid:
			// Not a leave this list tells, or of no session known, or
			// of one that a newer session followed already.
		case keySession != cur.keySession:
			gs.sessions[id] = presence{keySession: keySession}
		default:
			gs.log.Debug("a participant's session ended", "participant", id)
			gs.group.ParticipantLeft(id)
			delete(gs.sessions, id)
		}
	}
}

// checkServer gives the group the server's list of participants every
// serverCheckEvery, until close.
func (gs *groupSession) checkServer(url, apiKey, apiSecret, roomName string) {
	client := lksdk.NewRoomServiceClient(url, apiKey, apiSecret)
	gs.every(serverCheckEvery, func() {
		asked := time.Now()
		askCtx, done := context.WithTimeout(gs.ctx, 3*time.Second)
		res, err := client.ListParticipants(askCtx, &livekit.ListParticipantsRequest{Room: roomName})
		done()
		if err != nil {
			gs.log.Debug("cannot ask the server who is in the room", "err", err)
			return
		}
		now := map[string]string{}
		for _, p := range res.Participants {
			now[p.Identity] = p.Sid
		}
		gs.events.push(func() { gs.serverSaw(now, asked) })
	})
}

// serverSaw gives the group the server's list of participants: an
// identity whose session changed since the last look left and came back
// (lookAt), though the SDK may never say so: when a participant leaves
// and its identity joins again at once, the SDK takes the old session's
// DISCONNECTED for the new one and lists neither. It runs on the event
// goroutine.
func (gs *groupSession) serverSaw(now map[string]string, asked time.Time) {
	gs.lookAt(gs.serverSids, now, false)
	gs.serverSids = now
	gs.group.Present(slices.Collect(maps.Keys(now)), asked)
}

// close ends the exchange and waits for its goroutines.
func (gs *groupSession) close() {
	gs.cancel()
	gs.wg.Wait()
	gs.group.Close()
}

// eventQueue runs functions in order on one goroutine; push never blocks.
type eventQueue struct {
	mu     sync.Mutex
	queue  []func()
	signal chan struct{}
	once   sync.Once
}

func (q *eventQueue) init() { q.once.Do(func() { q.signal = make(chan struct{}, 1) }) }

func (q *eventQueue) push(f func()) {
	q.init()
	q.mu.Lock()
	q.queue = append(q.queue, f)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *eventQueue) run(ctx context.Context) {
	q.init()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.signal:
		}
		for {
			q.mu.Lock()
			if len(q.queue) == 0 {
				q.mu.Unlock()
				break
			}
			f := q.queue[0]
			q.queue = q.queue[1:]
			q.mu.Unlock()
			f()
		}
	}
}

// EncryptionMode is how a call's media is encrypted.
type EncryptionMode string

const (
	// EncryptionMembers: end-to-end, each member with a key of its own.
	EncryptionMembers EncryptionMode = "end-to-end encrypted"
	// EncryptionSharedKey: end-to-end with one passphrase everyone holds.
	EncryptionSharedKey EncryptionMode = "shared-key encryption"
	// EncryptionNone: NOT end-to-end encrypted.
	EncryptionNone EncryptionMode = "NOT end-to-end encrypted"
)

// EncryptionStatus is what the screen and pages say about encryption.
type EncryptionStatus struct {
	Mode EncryptionMode
	// Verification is what people compare, as emoji, and Words the same in
	// words: the members' verification string, or with a shared key the
	// key's fingerprint. Empty when there is none (yet).
	Verification, Words string
	// Members and Outsiders (per-member keys only): who has keys, and who
	// is in the room without them.
	Members, Outsiders []string
	// Leader is the box that admits the members (several boxes in one
	// room: the one that leads).
	Leader string
}

// String is the status line's text: "end-to-end encrypted, check: …".
func (e EncryptionStatus) String() string {
	switch {
	case e.Mode == EncryptionNone:
		return string(e.Mode)
	case e.Words == "":
		return string(e.Mode) + ", waiting for the members' keys"
	case e.Mode == EncryptionSharedKey:
		return string(e.Mode) + ", key " + e.Words
	}
	return string(e.Mode) + ", check " + e.Words // who has no keys: on their tiles
}

// VerificationEmoji writes a verification string as emoji.
func VerificationEmoji(b []byte) string {
	var out []string
	for _, v := range b {
		out = append(out, EmojiTable[v])
	}
	return strings.Join(out, " ")
}

// Encryption says how the session's media is encrypted and what people
// compare.
func (s *Session) Encryption() EncryptionStatus {
	switch {
	case s.opts.RoomKey != nil:
		return EncryptionStatus{Mode: EncryptionSharedKey, Verification: s.opts.RoomKey.Fingerprint(), Words: s.opts.RoomKey.FingerprintWords()}
	case s.opts.Group == nil:
		return EncryptionStatus{Mode: EncryptionNone}
	}
	s.mu.Lock()
	gs := s.group
	s.mu.Unlock()
	st := EncryptionStatus{Mode: EncryptionMembers}
	if gs == nil {
		return st
	}
	return groupEncryption(gs.group.Status())
}

func groupEncryption(g keys.Status) EncryptionStatus {
	st := EncryptionStatus{Mode: EncryptionMembers, Members: g.Members, Outsiders: g.Outsiders, Leader: g.Leader}
	if g.Verification != nil {
		st.Verification = VerificationEmoji(g.Verification)
		st.Words = FingerprintWords(st.Verification)
	}
	return st
}

// InvitesChanged tells the call that invites were revoked: members who
// came with them get no more keys, and the others change keys.
func (s *Session) InvitesChanged() {
	s.mu.Lock()
	gs := s.group
	s.mu.Unlock()
	if gs != nil {
		gs.group.InvitesChanged()
	}
}

// RemoveParticipant asks the call server to put identity out of the room
// (the box's API key and secret are needed).
func (s *Session) RemoveParticipant(ctx context.Context, identity string) error {
	if s.opts.APIKey == "" || s.opts.APISecret == "" {
		return fmt.Errorf("the box has no API key and secret to ask the call server to remove %s", identity)
	}
	room, _, _ := s.desire.get()
	if room == "" && s.line != nil {
		room = s.opts.Room // in its line
	}
	return s.removeFrom(ctx, room, identity)
}

// removeFrom asks the call server to put identity out of room.
func (s *Session) removeFrom(ctx context.Context, room, identity string) error {
	client := lksdk.NewRoomServiceClient(s.serverURL(), s.opts.APIKey, s.opts.APISecret)
	_, err := client.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	if err != nil {
		return fmt.Errorf("remove %s from the room: %w", identity, explain(s.serverURL(), err))
	}
	return nil
}

// mediaKeys is where this join's frame keys come from; nil: none.
func (s *Session) mediaKeys() mediaKeys {
	if s.opts.RoomKey != nil {
		return s.opts.RoomKey
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.group == nil {
		return nil
	}
	return s.group.keys
}

// startGroup makes this join's key exchange, when the call has one.
func (s *Session) startGroup(roomName string) error {
	s.stopGroup() // a join that failed half-way
	if s.opts.Group == nil {
		return nil
	}
	// A newcomer's first picture must be one it can decode: a keyframe.
	gs, err := newGroupSession(s.opts.Group, roomName, s.opts.Identity, func(string) { s.keyframeWanted() }, s.log)
	if err != nil {
		return fmt.Errorf("end-to-end encryption: %w", err)
	}
	s.mu.Lock()
	s.group = gs
	s.mu.Unlock()
	return nil
}

func (s *Session) hookGroup(cb *lksdk.RoomCallback) {
	s.mu.Lock()
	gs := s.group
	s.mu.Unlock()
	if gs != nil {
		gs.hook(cb)
	}
}

// groupJoined starts the exchange in the joined room; the box (with an API
// key and secret) also checks the server's list of participants.
func (s *Session) groupJoined(room *lksdk.Room, roomName string) {
	s.mu.Lock()
	gs := s.group
	s.mu.Unlock()
	if gs == nil {
		return
	}
	if s.opts.Group.Invites != nil && s.opts.APIKey != "" && s.opts.APISecret != "" {
		gs.checkServer(s.serverURL(), s.opts.APIKey, s.opts.APISecret, roomName)
	}
	gs.joined(room)
}

func (s *Session) stopGroup() {
	s.mu.Lock()
	gs := s.group
	s.group = nil
	s.mu.Unlock()
	if gs != nil {
		gs.close()
		s.mu.Lock()
		s.heldBefore = append(s.heldBefore, gs.keys.heldKeys()...)
		s.mu.Unlock()
	}
}

// HeldKeys is every key material the session held in all its joins, also
// after it left (GroupOptions.RecordKeys): for tests that play a member
// who keeps everything.
func (s *Session) HeldKeys() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := slices.Clone(s.heldBefore)
	if s.group != nil {
		held = append(held, s.group.keys.heldKeys()...)
	}
	return held
}
