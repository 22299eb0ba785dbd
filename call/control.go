package call

import (
	"context"
	"sync"
)

// desire is what the person wants of the session: to be in a call or not,
// and in which room. Run follows it; Join and Leave change it.
type desire struct {
	mu      sync.Mutex
	inCall  bool
	room    string
	changed chan struct{} // closed and replaced on every change
}

func (d *desire) init(room string, inCall bool) {
	d.room, d.inCall, d.changed = room, inCall, make(chan struct{})
}

func (d *desire) get() (room string, inCall bool, changed <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.room, d.inCall, d.changed
}

func (d *desire) set(room string, inCall bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !inCall {
		room = d.room // leaving does not forget which room was last wanted
	}
	if d.room == room && d.inCall == inCall {
		return
	}
	d.room, d.inCall = room, inCall
	close(d.changed)
	d.changed = make(chan struct{})
}

// answerHere makes the call wanted in room, the one the session is in,
// without telling Run to leave it: the line answers in place (line.go).
// Should the call drop, Run gets back into room.
func (d *desire) answerHere(room string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.room, d.inCall = room, true
}

// Join makes Run join room (leaving another first), now if Run is waiting.
// With a token given in Options the room is the token's, whatever room says.
func (s *Session) Join(room string) {
	s.state.update(func(st *Status) { st.CallWanted = true })
	s.desire.set(room, true)
}

// Leave makes Run leave the call and wait for the next Join; with a line,
// Run goes back to it.
func (s *Session) Leave() {
	s.line.hangUp(s) // line.go: tell the others the call ended, when it was the box's
	s.state.update(func(st *Status) { st.CallWanted = false })
	s.desire.set("", false)
}

// Wanted says whether the session is in a call or trying to be, and which room.
func (s *Session) Wanted() (room string, inCall bool) {
	room, inCall, _ = s.desire.get()
	return room, inCall
}

// waitForCall waits, idle, until a call is wanted, and returns its room and
// a channel closed when that wish changes. ok is false when ctx ended. A
// session with a line never waits: without a call it is in its line.
func (s *Session) waitForCall(ctx context.Context) (room string, changed <-chan struct{}, ok bool) {
	for {
		room, inCall, changed := s.desire.get()
		if inCall {
			return room, changed, true
		}
		if s.line != nil {
			return s.opts.Room, changed, true
		}
		if s.state.get().State != Idle {
			s.state.set(Status{State: Idle})
		}
		select {
		case <-ctx.Done():
			return "", nil, false
		case <-changed:
		}
	}
}

// wishChanged reports whether changed has been closed.
func wishChanged(changed <-chan struct{}) bool {
	select {
	case <-changed:
		return true
	default:
		return false
	}
}

// cancelOnChange is ctx, also cancelled when changed is closed. Its stop
// cancels it and returns once the goroutine that watches changed has ended.
func cancelOnChange(ctx context.Context, changed <-chan struct{}) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-changed:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		cancel()
		<-watched
	}
}

// SetMuted mutes or unmutes the microphone. The same status field that the
// mute LED shows is what WriteAudio checks, so the light cannot lie; the
// others in the call are told too, so their screens show it.
func (s *Session) SetMuted(muted bool) {
	s.state.update(func(st *Status) { st.Muted = muted })
	s.tellPrivacy()
}

// SetCameraOff stops (or starts again) sending pictures, and tells the others.
func (s *Session) SetCameraOff(off bool) {
	s.state.update(func(st *Status) { st.CameraOff = off })
	s.tellPrivacy()
	if !off {
		s.keyframeWanted() // the first picture after the pause must be decodable
	}
}

// tellPrivacy tells the room of the current mute and camera choices.
func (s *Session) tellPrivacy() {
	st := s.state.get()
	s.mu.Lock()
	videoPub, audioPub := s.videoPub, s.audioPub
	s.mu.Unlock()
	if audioPub != nil {
		audioPub.SetMuted(st.Muted)
	}
	if videoPub != nil {
		videoPub.SetMuted(st.CameraOff)
	}
}
