package call

// The box's line: a box with Options.Line stays in its own room
// (Options.Room) whenever it is not in a call, connected but sending
// nothing (its token grants no publishing), so that a call can reach it.
// Someone who comes into the line rings the box; answering grants the box
// publishing and publishes in place, declining or not answering tells the
// caller so. Calling out is joining another's line: the box sends from the
// start and waits there for the owner's answer.
//
// What the owner of a line tells its callers travels in reliable data
// messages on RingTopic, as JSON {"ring": STATE}: RingRinging,
// RingAnswered, RingDeclined, RingNoAnswer, RingNotAvailable, RingEnded.
// The guest page (web/guest) reads the same.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// RingTopic is the data topic of the line's messages.
const RingTopic = "callbox.ring"

// What a line's owner tells its callers, and what a caller's status says.
const (
	RingRinging      = "ringing"
	RingAnswered     = "answered"
	RingDeclined     = "declined"
	RingNoAnswer     = "no answer"
	RingNotAvailable = "not available"
	RingEnded        = "ended"
)

// LineAttribute is the participant attribute in which a box that calls
// out says which line is its own: the callee can name it from its
// contacts and call it back.
const LineAttribute = "callbox.line"

// DefaultRingFor is how long a call rings before it is "no answer".
const DefaultRingFor = 45 * time.Second

// DefaultAutoAnswerAfter is how long a call from a contact set to be
// answered by itself rings first: the countdown on the screen.
const DefaultAutoAnswerAfter = 10 * time.Second

// LineOptions make a session a line.
type LineOptions struct {
	// RingFor is how long a call rings unanswered (0: DefaultRingFor).
	RingFor time.Duration
	// Contacts name the callers who are contacts.
	Contacts []Contact
	// AutoAnswer are the lines of the contacts whose calls the box answers
	// by itself, after AutoAnswerAfter (0: DefaultAutoAnswerAfter) of
	// ringing with a countdown.
	AutoAnswer      []string
	AutoAnswerAfter time.Duration
	// DoNotDisturb: the box starts declining calls as not available
	// (Session.SetDoNotDisturb changes it).
	DoNotDisturb bool
}

// Contact is someone the box knows by their line.
type Contact struct {
	Name string
	Line string // their own room
}

// Caller is someone who rings the box.
type Caller struct {
	Identity string
	// Name is the caller's name as their participant says it (or their
	// identity); Contact the contact's name when they are one.
	Name, Contact string
	// Line is the caller's own line, to call back; "" for a guest.
	Line  string
	Since time.Time
}

// Shown is how the box names the caller: the contact's name first.
func (c Caller) Shown() string {
	if c.Contact != "" {
		return c.Contact
	}
	return c.Name
}

// MissedCall is a call that rang and was not answered.
type MissedCall struct {
	Caller
	At time.Time
	// Why: RingNoAnswer (nobody answered), RingNotAvailable (do not
	// disturb) or "gave up" (the caller left first).
	Why string
}

// missedKept is how many missed calls the box remembers.
const missedKept = 20

// line is the session's line: what it has told whom and the room it is
// in now.
type line struct {
	opts LineOptions
	log  *slog.Logger

	mu   sync.Mutex
	told map[string]string // a caller's participant session (SID): what it was told; it rings no more
	cur  *lineJoin         // the room the session is in; nil between joins
	last *lineJoin         // the room the session was in before, once left
	// early is what the owner of the line being joined said before the
	// join was looked after (joined): a decline can come that soon.
	early string
	// callBack is the line of a box this one called while it called this
	// one: its call is answered at once when it rings, until then.
	callBack      string
	callBackUntil time.Time
}

func newLine(opts LineOptions, log *slog.Logger) *line {
	if opts.RingFor <= 0 {
		opts.RingFor = DefaultRingFor
	}
	if opts.AutoAnswerAfter <= 0 {
		opts.AutoAnswerAfter = DefaultAutoAnswerAfter
	}
	return &line{opts: opts, log: log, told: map[string]string{}}
}

// lineJoin is one stay in a room, its own goroutine (run) looking after
// the ringing. Its fields are run's but for the requests, under line.mu.
type lineJoin struct {
	room    *lksdk.Room
	name    string
	own     bool // the box's own line
	sending bool // publishing: in a call or calling out
	since   time.Time

	ringing   []ringingCaller // in the own line, not sending
	heard     string          // in another's line: what its owner last said
	answered  bool            // in another's line: the owner answered
	hadOthers bool
	alone     time.Time          // when the last other left a call; zero while others are there
	removals  map[string]removal // by participant session (SID)
	lookedAt  time.Time          // calling out: when the own line was last looked into (calledBack)

	// Requests of the person (under line.mu), carried out by run.
	answer, decline bool

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// removal is a caller told to go, to be put out if still there at.
type removal struct {
	identity string
	at       time.Time
}

type ringingCaller struct {
	Caller
	sid string
}

// token is the join's token: in the line, subscribe-only and (without a
// key exchange, which needs to know who speaks) hidden; out of it, the
// box's own line named in its attributes.
func (s *Session) token(roomName string, publish bool) (string, error) {
	grant := &auth.VideoGrant{RoomJoin: true, Room: roomName}
	at := auth.NewAccessToken(s.opts.APIKey, s.opts.APISecret).
		SetIdentity(s.opts.Identity).SetName(s.opts.Name).SetValidFor(24 * time.Hour)
	if s.line != nil {
		if !publish {
			grant.SetCanPublish(false)
			grant.SetCanSubscribe(true)
			grant.SetCanPublishData(true)
			grant.Hidden = s.opts.Group == nil
		}
		at.SetAttributes(map[string]string{LineAttribute: s.opts.Room})
	}
	return at.SetVideoGrant(grant).ToJWT()
}

// hook adds the line's handling of its messages and of being put out to
// the room's callbacks, keeping those already set.
func (l *line) hook(s *Session, cb *lksdk.RoomCallback) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.early = "" // what was said in the last room is not this one's
	l.mu.Unlock()
	data, disconnected := cb.OnDataPacket, cb.OnDisconnectedWithReason
	cb.OnDataPacket = func(p lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, ok := p.(*lksdk.UserDataPacket); ok && u.Topic == RingTopic {
			l.heard(u.Payload)
			return
		}
		if data != nil {
			data(p, params)
		}
	}
	cb.OnDisconnectedWithReason = func(reason lksdk.DisconnectionReason) {
		if reason == lksdk.ParticipantRemoved || reason == lksdk.RoomClosed {
			// Put out of another's line: that call is over, not lost.
			l.mu.Lock()
			j := l.cur
			l.mu.Unlock()
			if j != nil && !j.own {
				l.finish(s, j, "")
			}
		}
		if disconnected != nil {
			disconnected(reason)
		}
	}
}

// ringMessage is what a line's owner sends its callers.
type ringMessage struct {
	Ring string `json:"ring"`
}

// heard takes a message of the line's owner (in another's line).
func (l *line) heard(payload []byte) {
	var m ringMessage
	if json.Unmarshal(payload, &m) != nil {
		return
	}
	switch m.Ring {
	case RingRinging, RingAnswered, RingDeclined, RingNoAnswer, RingNotAvailable, RingEnded:
	default:
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch j := l.cur; {
	case j == nil:
		l.early = m.Ring
	case !j.own:
		j.heardNow(m.Ring)
	}
}

// heardNow is run's heard, set from the message's goroutine. line.mu is held.
func (j *lineJoin) heardNow(state string) {
	j.heard = state
	j.poke()
}

func (j *lineJoin) poke() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// newJoin is the stay in the room the session has just joined. A session
// back after a dropout (back) is still in the call or still calling it
// was in before: what had happened there carries over.
func (l *line) newJoin(s *Session, room *lksdk.Room, roomName string, sending, back bool) *lineJoin {
	j := &lineJoin{room: room, name: roomName, own: roomName == s.opts.Room, sending: sending, since: time.Now(),
		removals: map[string]removal{}, kick: make(chan struct{}, 1), done: make(chan struct{})}
	l.mu.Lock()
	defer l.mu.Unlock()
	if last := l.last; back && last != nil && last.name == roomName && last.sending == sending {
		j.since, j.answered, j.hadOthers = last.since, last.answered, last.hadOthers
	}
	return j
}

// start starts looking after the room of j.
func (l *line) start(s *Session, j *lineJoin) {
	ctx, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	l.cur, j.cancel = j, cancel
	if !j.own {
		j.heard, l.early = l.early, ""
	}
	l.mu.Unlock()
	go func() {
		defer close(j.done)
		l.run(ctx, s, j)
	}()
}

// left stops looking after the room the session leaves, and waits for it.
func (l *line) left() {
	if l == nil {
		return
	}
	l.mu.Lock()
	j := l.cur
	l.cur = nil
	l.mu.Unlock()
	if j != nil {
		j.cancel()
		<-j.done
		l.mu.Lock()
		l.last = j // its goroutine has ended: its fields are read here alone
		l.mu.Unlock()
	}
}

// entered is the status of a session that has just joined roomName, back
// after a dropout when back: in the call, in the line, or calling. Then
// the line starts looking after the room.
func (l *line) entered(s *Session, room *lksdk.Room, roomName string, sending, back bool) {
	var j *lineJoin
	if l != nil {
		j = l.newJoin(s, room, roomName, sending, back)
	}
	again := ""
	if back {
		again = "back "
	}
	switch {
	case j == nil || sending && (j.own || j.answered):
		callee := ""
		if j != nil && !j.own {
			callee = roomName
		}
		s.state.update(func(st *Status) {
			*st = inCall(*st, callee)
			st.Back = back
		})
		s.log.Info(again+"in the call", "room", roomName, "identity", s.opts.Identity, "server", s.serverURL())
	case !sending:
		s.state.update(func(st *Status) {
			st.State, st.Err, st.Line, st.Callers, st.Callee, st.Heard = Idle, nil, true, nil, "", ""
			st.Since, st.Back = time.Now(), false
		})
		s.log.Info(again+"in the line, waiting for calls", "room", roomName)
	default:
		s.state.update(func(st *Status) {
			st.State, st.Err, st.Line, st.Callers, st.Callee, st.Heard = Calling, nil, false, nil, roomName, ""
			st.Since, st.Back = time.Now(), false
			st.Outcome = Outcome{}
		})
		s.log.Info(again+"calling", "line", roomName)
	}
	if j != nil {
		l.start(s, j)
	}
}

// inCall is st in a call, since now; callee is the line it is in when
// another's.
func inCall(st Status, callee string) Status {
	st.State, st.Err, st.Line, st.Callers, st.Callee, st.Heard = InCall, nil, false, nil, callee, ""
	st.CallWanted, st.AutoAnswerIn, st.LastCallAt = true, 0, time.Now()
	st.Since, st.Back = st.LastCallAt, false
	return st
}

// run looks after the room until ctx ends: the callers of the box's own
// line, or the answer of the line it calls.
func (l *line) run(ctx context.Context, s *Session, j *lineJoin) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		switch {
		case j.own && !j.sending:
			l.lookAfterCallers(ctx, s, j)
		case j.own:
			l.lookAfterCall(s, j)
		default:
			l.lookAfterCallOut(ctx, s, j)
		}
		l.removeTold(ctx, s, j)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-j.kick:
		}
	}
}

// callers are those in the own line who ring it: everyone there, or with
// a key exchange, those it admitted (its members): the others are in the
// room without a reason the box knows, and get no keys.
func (l *line) callers(s *Session, j *lineJoin) []ringingCaller {
	var members []string
	if s.opts.Group != nil {
		s.mu.Lock()
		gs := s.group
		s.mu.Unlock()
		if gs == nil {
			return nil
		}
		members = gs.group.Status().Members
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ringingCaller
	for _, rp := range j.room.GetRemoteParticipants() {
		if _, done := l.told[rp.SID()]; done {
			continue
		}
		if s.opts.Group != nil && !slices.Contains(members, rp.Identity()) {
			continue
		}
		c := Caller{Identity: rp.Identity(), Name: rp.Name(), Line: rp.Attributes()[LineAttribute]}
		if c.Name == "" {
			c.Name = c.Identity
		}
		for _, contact := range l.opts.Contacts {
			if c.Line != "" && contact.Line == c.Line {
				c.Contact = contact.Name
			}
		}
		out = append(out, ringingCaller{Caller: c, sid: rp.SID()})
	}
	return out
}

// lookAfterCallers rings for whoever calls the own line, and answers,
// declines or gives up as the person asks or the time says.
func (l *line) lookAfterCallers(ctx context.Context, s *Session, j *lineJoin) {
	now := time.Now()
	present := l.callers(s, j)
	// Who rang and is gone gave up; who is new rings.
	var still []ringingCaller
	for _, c := range j.ringing {
		if slices.ContainsFunc(present, func(p ringingCaller) bool { return p.sid == c.sid }) {
			still = append(still, c)
		}
	}
	if len(j.ringing) > 0 && len(still) == 0 {
		l.miss(s, j.ringing[0].Caller, now, "gave up")
		s.log.Info("the caller gave up", "caller", j.ringing[0].Shown())
	}
	doNotDisturb := s.state.get().DoNotDisturb
	for _, p := range present {
		if slices.ContainsFunc(still, func(c ringingCaller) bool { return c.sid == p.sid }) {
			continue
		}
		p.Since = now
		if doNotDisturb {
			s.log.Info("not available: do not disturb", "caller", p.Shown(), "identity", p.Identity)
			l.miss(s, p.Caller, now, RingNotAvailable)
			l.tell(j, []ringingCaller{p}, RingNotAvailable, now)
			continue
		}
		still = append(still, p)
		s.log.Info("ringing", "caller", p.Shown(), "identity", p.Identity, "line", p.Line)
		l.send(j, []string{p.Identity}, RingRinging)
	}
	j.ringing = still

	l.mu.Lock()
	answer, decline := j.answer, j.decline
	j.answer, j.decline = false, false
	calledBack := len(j.ringing) > 0 && j.ringing[0].Line != "" && j.ringing[0].Line == l.callBack && now.Before(l.callBackUntil)
	l.mu.Unlock()
	autoAnswerIn := 0 // whole seconds of the countdown; 0: none
	if len(j.ringing) > 0 && j.ringing[0].Line != "" && slices.Contains(l.opts.AutoAnswer, j.ringing[0].Line) {
		left := l.opts.AutoAnswerAfter - now.Sub(j.ringing[0].Since)
		autoAnswerIn = int((left + time.Second - 1) / time.Second)
		if left <= 0 {
			s.log.Info("answering by itself", "caller", j.ringing[0].Shown())
			answer, autoAnswerIn = true, 0
		}
	}
	if calledBack {
		s.log.Info("answering the box this one called", "caller", j.ringing[0].Shown())
		answer = true
	}
	switch {
	case len(j.ringing) == 0:
	case decline:
		s.log.Info("declined", "caller", j.ringing[0].Shown())
		l.tellRinging(j, RingDeclined, now)
	case answer:
		if err := l.answerInPlace(ctx, s, j); err != nil {
			s.log.Error("cannot answer the call", "err", err)
			break
		}
		return
	case now.Sub(j.ringing[0].Since) >= l.opts.RingFor:
		s.log.Info("no answer", "caller", j.ringing[0].Shown(), "rang_for", l.opts.RingFor)
		l.miss(s, j.ringing[0].Caller, now, RingNoAnswer)
		l.tellRinging(j, RingNoAnswer, now)
	}
	callers := make([]Caller, len(j.ringing))
	for i, c := range j.ringing {
		callers[i] = c.Caller
	}
	s.state.update(func(st *Status) {
		if len(callers) > 0 {
			st.State = Ringing
		} else if st.State == Ringing {
			st.State = Idle
		}
		st.Callers, st.AutoAnswerIn = callers, autoAnswerIn
	})
}

// tellRinging tells every caller that rings state; the call stops ringing.
func (l *line) tellRinging(j *lineJoin, state string, now time.Time) {
	l.tell(j, j.ringing, state, now)
	j.ringing = nil
}

// tell tells callers state: they ring no more, and unless they are
// answered, they are put out if they stay.
func (l *line) tell(j *lineJoin, callers []ringingCaller, state string, now time.Time) {
	var ids []string
	l.mu.Lock()
	for _, c := range callers {
		ids = append(ids, c.Identity)
		l.told[c.sid] = state
		j.removals[c.sid] = removal{identity: c.Identity, at: now.Add(removeAfter)}
	}
	l.mu.Unlock()
	l.send(j, ids, state)
}

// removeAfter is how long a caller told to go has before the box asks the
// server to put it out of the line: a box or page leaves by itself.
const removeAfter = 3 * time.Second

// removeTold puts out of the own line those told to go who are still there.
func (l *line) removeTold(ctx context.Context, s *Session, j *lineJoin) {
	now := time.Now()
	for sid, r := range j.removals {
		if now.Before(r.at) {
			continue
		}
		delete(j.removals, sid)
		id := r.identity
		if rp := j.room.GetParticipantByIdentity(id); rp == nil || rp.SID() != sid {
			continue // gone, or back as someone new: that one rings
		}
		askCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if err := s.removeFrom(askCtx, j.name, id); err != nil {
			s.log.Debug("a caller told to go stays in the line", "identity", id, "err", err)
		}
		cancel()
	}
}

// answerInPlace answers the ringing call where the box is: the server is
// asked to let the box publish (and to show it, if hidden), then it
// publishes and tells the callers.
func (l *line) answerInPlace(ctx context.Context, s *Session, j *lineJoin) error {
	// The camera and microphone open now, while the box is made a publisher.
	s.state.update(func(st *Status) { st.CallWanted = true })
	s.desire.answerHere(j.name)
	askCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	client := lksdk.NewRoomServiceClient(s.serverURL(), s.opts.APIKey, s.opts.APISecret)
	_, err := client.UpdateParticipant(askCtx, &livekit.UpdateParticipantRequest{
		Room: j.name, Identity: s.opts.Identity,
		Permission: &livekit.ParticipantPermission{CanSubscribe: true, CanPublish: true, CanPublishData: true},
	})
	if err == nil {
		err = s.publish(j.room)
	}
	if err != nil {
		s.desire.set("", false) // join the line afresh: nothing half-published stays
		s.state.update(func(st *Status) { st.CallWanted = false })
		return fmt.Errorf("answer: %w", explain(s.serverURL(), err))
	}
	s.tellPrivacy()
	s.keyframeWanted()
	first := j.ringing[0]
	l.tellRinging(j, RingAnswered, time.Now())
	l.mu.Lock()
	j.removals = map[string]removal{} // answered: they stay
	j.sending, j.hadOthers = true, true
	l.mu.Unlock()
	l.mu.Lock()
	l.callBack = ""
	l.mu.Unlock()
	s.state.update(func(st *Status) { *st = inCall(*st, "") })
	s.log.Info("answered; in the call", "caller", first.Shown(), "room", j.name)
	return nil
}

// lookAfterCall ends a call in the own line once everyone else has left.
func (l *line) lookAfterCall(s *Session, j *lineJoin) {
	if l.alone(j) {
		s.log.Info("everyone else left; back to the line")
		l.goHome(s)
	}
}

// alone reports whether, after others were there, none has been for a
// second.
func (l *line) alone(j *lineJoin) bool {
	if len(j.room.GetRemoteParticipants()) > 0 {
		j.hadOthers, j.alone = true, time.Time{}
		return false
	}
	if !j.hadOthers {
		return false
	}
	if j.alone.IsZero() {
		j.alone = time.Now()
	}
	return time.Since(j.alone) >= time.Second
}

// lookAfterCallOut waits in another's line for its owner's answer.
func (l *line) lookAfterCallOut(ctx context.Context, s *Session, j *lineJoin) {
	l.mu.Lock()
	heard := j.heard
	l.mu.Unlock()
	if !j.answered {
		switch {
		case heard == RingDeclined, heard == RingNoAnswer, heard == RingNotAvailable:
			s.log.Info("the call was not answered", "line", j.name, "answer", heard)
			l.finish(s, j, heard)
			return
		case heard == RingEnded:
			l.finish(s, j, "")
			return
		case heard == RingAnswered || l.someoneSends(j):
			j.answered, j.hadOthers = true, true
			s.state.update(func(st *Status) { *st = inCall(*st, j.name) })
			s.log.Info("answered; in the call", "line", j.name)
			return
		case time.Since(j.since) >= l.opts.RingFor+5*time.Second:
			s.log.Info("nobody answered", "line", j.name)
			l.finish(s, j, RingNoAnswer)
			return
		case l.calledBack(ctx, s, j):
			// Both boxes call each other: the one whose line sorts first
			// goes home and answers the other there, so one call is made.
			s.log.Info("the box called calls this one too: answering it in this box's line", "line", j.name)
			l.mu.Lock()
			l.callBack, l.callBackUntil = j.name, time.Now().Add(callBackFor)
			l.mu.Unlock()
			l.goHome(s)
			return
		}
		s.state.update(func(st *Status) { st.Heard = heard })
		return
	}
	if heard == RingEnded || l.alone(j) {
		s.log.Info("the call ended", "line", j.name)
		l.finish(s, j, "")
	}
}

// callBackFor is how long a box that went home to answer a box calling it
// waits for that call to ring before it is an ordinary call again.
const callBackFor = 15 * time.Second

// calledBack reports, at most once a second, whether the box called (the
// owner of j's line) calls this box too, and this box's line sorts first:
// its call is then in this box's line, where this box goes to answer it.
func (l *line) calledBack(ctx context.Context, s *Session, j *lineJoin) bool {
	if s.opts.Room >= j.name || time.Since(j.lookedAt) < time.Second {
		return false
	}
	j.lookedAt = time.Now()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	client := lksdk.NewRoomServiceClient(s.serverURL(), s.opts.APIKey, s.opts.APISecret)
	resp, err := client.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: s.opts.Room})
	if err != nil {
		s.log.Debug("cannot look into the box's own line", "room", s.opts.Room, "err", explain(s.serverURL(), err))
		return false
	}
	for _, p := range resp.Participants {
		if p.Attributes[LineAttribute] == j.name {
			return true
		}
	}
	return false
}

// someoneSends reports whether anyone in the room publishes a track: a
// room without a ringing owner (a group's room) answers by being there.
func (l *line) someoneSends(j *lineJoin) bool {
	for _, rp := range j.room.GetRemoteParticipants() {
		if len(rp.TrackPublications()) > 0 {
			return true
		}
	}
	return false
}

// finish ends a call out with outcome ("" when it was a call that ended)
// and goes back to the own line.
func (l *line) finish(s *Session, j *lineJoin, outcome string) {
	if outcome != "" {
		s.state.update(func(st *Status) { st.Outcome = Outcome{Callee: j.name, State: outcome, At: time.Now()} })
	}
	l.goHome(s)
}

// goHome leaves the room for the box's own line.
func (l *line) goHome(s *Session) {
	s.state.update(func(st *Status) { st.CallWanted = false })
	s.desire.set("", false)
}

// hangUp, when the box hangs up a call in its own line, tells the others
// it ended; they are not let ring again.
func (l *line) hangUp(s *Session) {
	if l == nil {
		return
	}
	l.mu.Lock()
	j := l.cur
	if j == nil || !j.own || !j.sending {
		l.mu.Unlock()
		return
	}
	var ids []string
	for _, rp := range j.room.GetRemoteParticipants() {
		ids = append(ids, rp.Identity())
		l.told[rp.SID()] = RingEnded
	}
	l.mu.Unlock()
	l.send(j, ids, RingEnded)
}

// miss remembers a missed call in the status, the newest first.
func (l *line) miss(s *Session, c Caller, at time.Time, why string) {
	s.state.update(func(st *Status) {
		st.Missed = slices.Insert(slices.Clone(st.Missed), 0, MissedCall{Caller: c, At: at, Why: why})
		if len(st.Missed) > missedKept {
			st.Missed = st.Missed[:missedKept]
		}
	})
}

// send tells the participants named state.
func (l *line) send(j *lineJoin, to []string, state string) {
	if len(to) == 0 {
		return
	}
	msg, _ := json.Marshal(ringMessage{Ring: state})
	err := j.room.LocalParticipant.PublishDataPacket(lksdk.UserData(msg), lksdk.WithDataPublishReliable(true),
		lksdk.WithDataPublishTopic(RingTopic), lksdk.WithDataPublishDestination(to))
	if err != nil {
		l.log.Warn("a caller was not told", "state", state, "err", err)
	}
}

// ErrNotRinging is Answer's and Decline's answer when nothing rings.
var ErrNotRinging = errors.New("no call is ringing")

// SetDoNotDisturb makes the box decline every call as not available
// (listing it as missed), or ring again.
func (s *Session) SetDoNotDisturb(on bool) {
	s.state.update(func(st *Status) { st.DoNotDisturb = on })
}

// Answer answers the call that rings the box's line.
func (s *Session) Answer() error { return s.line.request(func(j *lineJoin) { j.answer = true }) }

// Decline declines the call that rings the box's line: the caller is told.
func (s *Session) Decline() error { return s.line.request(func(j *lineJoin) { j.decline = true }) }

// request asks the line's goroutine to answer or decline.
func (l *line) request(set func(*lineJoin)) error {
	if l == nil {
		return ErrNotRinging
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	j := l.cur
	if j == nil || !j.own || j.sending {
		return ErrNotRinging
	}
	set(j)
	j.poke()
	return nil
}

// paused reports whether the box is in its line without a call: what the
// callers send is not played or shown (and with a key exchange, nothing
// of theirs is sent to them either: the box publishes nothing).
func (l *line) paused() bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur == nil || l.cur.own && !l.cur.sending
}
