package call

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// Member is another participant in the call, as the box shows them.
type Member struct {
	Identity   string
	Name       string
	AudioMuted bool
	// VideoCodec is their camera's codec as WebRTC names it ("H264",
	// "VP8", "AV1"...), "" when they publish no camera.
	VideoCodec string
	// ContentCodec is the codec of what they share (their SCREEN_SHARE
	// track), "" when they share nothing.
	ContentCodec string
}

// isContent says whether a track is shared content rather than a camera
// or microphone.
func isContent(source livekit.TrackSource) bool {
	return source == livekit.TrackSource_SCREEN_SHARE || source == livekit.TrackSource_SCREEN_SHARE_AUDIO
}

// videoCodec is a video publication's codec as WebRTC names it.
func videoCodec(pub lksdk.TrackPublication) string {
	return strings.ToUpper(strings.TrimPrefix(strings.ToLower(pub.MimeType()), "video/"))
}

// RemoteOptions say what the box does with the other participants: their
// frames go to Handlers (one goroutine per track), and who is there and
// who speaks is told on every change.
type RemoteOptions struct {
	Handlers
	// OnMembers is told everyone else, in the order they joined.
	OnMembers func([]Member)
	// OnSpeakers is told the active speakers' identities, loudest first.
	OnSpeakers func([]string)
}

// remoteSet tracks the other participants of the room the session is in.
type remoteSet struct {
	mu         sync.Mutex
	room       *lksdk.Room
	order      []string        // identities by when first seen: the join order
	decryption *roomDecryption // e2ee_decrypt.go
	receiving  *receiving      // this room's goroutines (receive.go); nil when none
	onMembers  func([]Member)
	refresh    func()                  // asks for onMembers to be called with the list of now
	keyframes  keyframeLimiter[string] // the box's requests, per participant
	// reception counts the packets received of every track, over the
	// session's joins (reception.go).
	reception receptionTotals
}

// hook adds the receive side's callbacks, if opts wants anything; frames
// flow until stop (the room is left), which waits for the goroutines that
// hand them over. The join's own context is no lifetime for them: it ends
// when the join completes.
func (r *remoteSet) hook(cb *lksdk.RoomCallback, opts RemoteOptions, key mediaKeys, log *slog.Logger) {
	if opts.Video == nil && opts.Audio == nil && opts.OnMembers == nil && opts.OnSpeakers == nil {
		return
	}
	if opts.OnMembers == nil {
		opts.OnMembers = func([]Member) {}
	}
	r.stop() // a join's left over that stop did not end; none normally
	receiving := newReceiving()
	decryption := newRoomDecryption(key, log)
	r.mu.Lock()
	r.decryption, r.receiving, r.onMembers = decryption, receiving, opts.OnMembers
	r.mu.Unlock()
	if opts.OnSpeakers == nil {
		opts.OnSpeakers = func([]string) {}
	}
	// The SDK calls some callbacks while holding its own locks, so the
	// member list is read on a goroutine of its own, never inside them.
	kick := make(chan struct{}, 1)
	changed := func() {
		select {
		case kick <- struct{}{}:
		default: // a refresh is due anyway
		}
	}
	r.mu.Lock()
	r.refresh = changed
	r.mu.Unlock()
	receiving.start(func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
				opts.OnMembers(r.members())
			}
		}
	})
	cb.OnParticipantConnected = func(*lksdk.RemoteParticipant) { changed() }
	cb.OnParticipantDisconnected = func(*lksdk.RemoteParticipant) { changed() }
	cb.OnTrackPublished = func(*lksdk.RemoteTrackPublication, *lksdk.RemoteParticipant) { changed() }
	cb.OnTrackUnpublished = func(*lksdk.RemoteTrackPublication, *lksdk.RemoteParticipant) { changed() }
	cb.OnTrackMuted = func(lksdk.TrackPublication, lksdk.Participant) { changed() }
	cb.OnTrackUnmuted = func(lksdk.TrackPublication, lksdk.Participant) { changed() }
	cb.OnTrackUnsubscribed = func(*webrtc.TrackRemote, *lksdk.RemoteTrackPublication, *lksdk.RemoteParticipant) { changed() }
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		changed()
		receiving.start(func(ctx context.Context) { receiveTrack(ctx, track, pub, rp, opts.Handlers, decryption, &r.reception) })
	}
	cb.OnActiveSpeakersChanged = func(ps []lksdk.Participant) {
		var ids []string
		for _, p := range ps {
			if _, remote := p.(*lksdk.RemoteParticipant); remote {
				ids = append(ids, p.Identity())
			}
		}
		opts.OnSpeakers(ids)
	}
}

func (r *remoteSet) setRoom(room *lksdk.Room) {
	r.mu.Lock()
	r.room, r.order = room, nil
	r.mu.Unlock()
}

// stop ends receiving from the room left (Disconnect first: a track's
// goroutine ends when its connection closes), waits until no handler
// runs, and then tells that nobody is there.
func (r *remoteSet) stop() {
	r.mu.Lock()
	receiving, onMembers := r.receiving, r.onMembers
	r.receiving, r.room = nil, nil
	r.mu.Unlock()
	if receiving != nil {
		receiving.stop()
		onMembers(nil)
	}
}

// joined lets decryption start, now that the join brought the SFU's
// trailer, and tells who is there: those already in the room when the box
// joined come with the join, not through OnParticipantConnected.
func (r *remoteSet) joined() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decryption != nil && r.room != nil {
		r.decryption.setRoom(r.room)
		r.decryption = nil // once per join
	}
	if r.refresh != nil {
		r.refresh()
	}
}

// members lists the remote participants in join order.
func (r *remoteSet) members() []Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.room == nil {
		return nil
	}
	var out []Member
	for _, rp := range r.room.GetRemoteParticipants() {
		m := Member{Identity: rp.Identity(), Name: rp.Name()}
		for _, pub := range rp.TrackPublications() {
			switch pub.Source() {
			case livekit.TrackSource_CAMERA:
				m.VideoCodec = videoCodec(pub)
			case livekit.TrackSource_SCREEN_SHARE:
				m.ContentCodec = videoCodec(pub)
			case livekit.TrackSource_MICROPHONE:
				m.AudioMuted = pub.IsMuted()
			}
		}
		if m.VideoCodec == "" { // a camera not marked as one still counts
			for _, pub := range rp.TrackPublications() {
				if pub.Kind() == lksdk.TrackKindVideo && !isContent(pub.Source()) {
					m.VideoCodec = videoCodec(pub)
				}
			}
		}
		if !slices.Contains(r.order, m.Identity) {
			r.order = append(r.order, m.Identity)
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Member) int {
		return slices.Index(r.order, a.Identity) - slices.Index(r.order, b.Identity)
	})
	return out
}

// RequestKeyframe asks identity for a keyframe of their camera (a PLI,
// through the server), at most every keyframeLimit: their video stopped
// decoding on the box's screen (compose.ScreenOptions.OnDamaged).
func (s *Session) RequestKeyframe(identity string) {
	s.remote.mu.Lock()
	room := s.remote.room
	s.remote.mu.Unlock()
	if room != nil && s.remote.keyframes.allow(identity, time.Now()) {
		requestKeyframe(room, identity)
	}
}

// requestKeyframe sends a PLI for every video track of identity in room.
func requestKeyframe(room *lksdk.Room, identity string) {
	rp := room.GetParticipantByIdentity(identity)
	if rp == nil {
		return
	}
	for _, pub := range rp.TrackPublications() {
		remote, ok := pub.(*lksdk.RemoteTrackPublication)
		if ok && pub.Kind() == lksdk.TrackKindVideo && remote.TrackRemote() != nil {
			rp.WritePLI(remote.TrackRemote().SSRC())
		}
	}
}

// SetVideoSize asks the call server to send identity's camera in the
// layer that best fits width x height pixels on the screen, so that nine
// small tiles do not pull nine full-size streams; a size of zero (no tile
// for them) pauses their camera at the server: nothing is sent, nothing
// decoded. What they share is left at its best: its tile size says
// nothing of it.
func (s *Session) SetVideoSize(identity string, width, height int) {
	s.remote.mu.Lock()
	room := s.remote.room
	s.remote.mu.Unlock()
	if room == nil || width < 0 || height < 0 {
		return
	}
	rp := room.GetParticipantByIdentity(identity)
	if rp == nil {
		return
	}
	for _, pub := range rp.TrackPublications() {
		remote, ok := pub.(*lksdk.RemoteTrackPublication)
		if !ok || pub.Kind() != lksdk.TrackKindVideo || isContent(pub.Source()) {
			continue
		}
		if width == 0 || height == 0 {
			remote.SetEnabled(false)
			continue
		}
		remote.SetEnabled(true)
		remote.SetVideoDimensions(uint32(width), uint32(height))
		_ = remote.SetVideoQuality(qualityFor(width, height))
	}
}

// qualityFor is the simulcast layer for a tile of this size: LiveKit's
// layers are about 180p, 360p and 720p.
func qualityFor(width, height int) livekit.VideoQuality {
	switch side := max(width, height*16/9); {
	case side <= 400:
		return livekit.VideoQuality_LOW
	case side <= 800:
		return livekit.VideoQuality_MEDIUM
	}
	return livekit.VideoQuality_HIGH
}
