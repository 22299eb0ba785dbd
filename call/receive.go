package call

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/callbox/callbox/media"
)

// Frame is one coded frame from another participant.
type Frame struct {
	From string // the sender's identity
	// Content: the frame is of what they share (a SCREEN_SHARE or
	// SCREEN_SHARE_AUDIO track), not of their camera or microphone.
	Content bool
	Codec   media.Codec
	Data    []byte // H.264 access unit (Annex-B), VP8 frame or Opus packet
	Arrived time.Time
	Seq     uint16 // RTP sequence number of an Opus packet, for reordering
	// Timestamp is the frame's RTP timestamp (48 kHz for Opus, 90 kHz
	// for video): where it belongs in the sender's stream.
	Timestamp uint32
	// Captured is when the frame was made, on the sender's wall clock, from
	// the track's RTCP sender reports; the zero time until the first
	// report. A participant's audio and video share that clock: lip sync
	// compares them.
	Captured time.Time
}

// Handlers receive what other participants send. They run on one goroutine
// per remote track and must not keep Data after they return.
type Handlers struct {
	Video func(Frame)
	Audio func(Frame)
	// Paused, when set and true, drops what arrives (a line's callers
	// before the answer); video starts again at a keyframe.
	Paused func() bool
}

func (h Handlers) paused() bool { return h.Paused != nil && h.Paused() }

// Watcher is a participant that receives and sends nothing.
type Watcher struct {
	keyframes  keyframeLimiter[string]
	room       *lksdk.Room
	receiving  *receiving
	decryption *roomDecryption // e2ee_decrypt.go
	group      *groupSession   // e2ee_group.go; nil without per-member keys
}

// receiving owns the goroutines that receive one room: each runs until
// stop, which waits for them, so that no handler runs once it returns. A
// track the SDK hands over after stop (its callbacks may come late) is not
// received: its connection is closed.
type receiving struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool           // guarded by mu
	wg      sync.WaitGroup // added to under mu, while not stopped
}

func newReceiving() *receiving {
	ctx, cancel := context.WithCancel(context.Background())
	return &receiving{ctx: ctx, cancel: cancel}
}

// start runs f on a goroutine of its own until stop; after stop it does
// nothing.
func (r *receiving) start(f func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.wg.Go(func() { f(r.ctx) })
	}
}

// stop ends the goroutines and waits for them. A track's goroutine ends
// when its ReadRTP fails: the room must be disconnected first.
func (r *receiving) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// Watch joins the room without sending and hands every remote participant's
// frames to h until Leave. Video starts, and restarts after loss, at a
// keyframe: the sender is asked for one (PLI) and frames before it are dropped.
// With opts.RoomKey, frames are decrypted first; those that do not decrypt
// are dropped and counted (DecryptStats), and a keyframe is asked for.
func Watch(opts Options, h Handlers) (*Watcher, error) {
	var keys mediaKeys
	var group *groupSession
	switch {
	case opts.RoomKey != nil:
		keys = opts.RoomKey
	case opts.Group != nil:
		if opts.Room == "" {
			return nil, errors.New("watch: per-member keys need the room's name")
		}
		log := opts.Logger
		if log == nil {
			log = slog.Default()
		}
		var err error
		if group, err = newGroupSession(opts.Group, opts.Room, opts.Identity, nil, log); err != nil {
			return nil, err
		}
		keys = group.keys
	}
	receiving := newReceiving()
	decryption := newRoomDecryption(keys, opts.Logger)
	callbacks := &lksdk.RoomCallback{}
	if group != nil {
		group.hook(callbacks)
	}
	callbacks.ParticipantCallback.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		receiving.start(func(ctx context.Context) { receiveTrack(ctx, track, pub, rp, h, decryption, nil) })
	}
	var room *lksdk.Room
	var err error
	if opts.Token != "" {
		room, err = lksdk.ConnectToRoomWithToken(opts.URL, opts.Token, callbacks, lksdk.WithAutoSubscribe(true))
	} else {
		room, err = lksdk.ConnectToRoom(opts.URL, lksdk.ConnectInfo{
			APIKey: opts.APIKey, APISecret: opts.APISecret, RoomName: opts.Room,
			ParticipantIdentity: opts.Identity, ParticipantName: opts.Name,
		}, callbacks, lksdk.WithAutoSubscribe(true))
	}
	if err != nil {
		receiving.stop()
		if group != nil {
			group.close()
		}
		return nil, explain(opts.URL, err)
	}
	decryption.setRoom(room)
	if group != nil {
		group.joined(room)
	}
	return &Watcher{room: room, receiving: receiving, decryption: decryption, group: group}, nil
}

// RequestKeyframe asks identity for a keyframe of their camera, at most
// every keyframeLimit: their video stopped decoding.
func (w *Watcher) RequestKeyframe(identity string) {
	if w.keyframes.allow(identity, time.Now()) {
		requestKeyframe(w.room, identity)
	}
}

// Sharing lists who shares content now: the others with a SCREEN_SHARE
// track published, as the call server last said.
func (w *Watcher) Sharing() []string {
	var sharing []string
	for _, rp := range w.room.GetRemoteParticipants() {
		for _, pub := range rp.TrackPublications() {
			if pub.Source() == livekit.TrackSource_SCREEN_SHARE {
				sharing = append(sharing, rp.Identity())
				break
			}
		}
	}
	return sharing
}

// Leave disconnects, and returns once no handler runs: a frame being
// handled at that moment still finishes first.
func (w *Watcher) Leave() {
	if w.group != nil {
		w.group.close() // first: its sends would wait for a publisher that is gone
	}
	w.room.Disconnect()
	w.receiving.stop()
}

// Encryption is what the watcher knows of the call's encryption: with
// per-member keys, the members and their verification string.
func (w *Watcher) Encryption() EncryptionStatus {
	switch {
	case w.group != nil:
		return groupEncryption(w.group.group.Status())
	case w.decryption.key != nil:
		return EncryptionStatus{Mode: EncryptionSharedKey}
	}
	return EncryptionStatus{Mode: EncryptionNone}
}

// HeldKeys is every key material the watcher held (GroupOptions.RecordKeys).
func (w *Watcher) HeldKeys() [][]byte {
	if w.group == nil {
		return nil
	}
	return w.group.keys.heldKeys()
}

// decryption may be nil: frames pass as they came; reception too: the
// packets are not counted.
func receiveTrack(ctx context.Context, track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant, h Handlers,
	decryption *roomDecryption, reception *receptionTotals) {
	mime := strings.ToLower(track.Codec().MimeType)
	counted := reception.open(track.Kind().String(), track.Codec().ClockRate)
	defer reception.close(counted)
	from := rp.Identity()
	clock := newSenderClock(track.Codec().ClockRate)
	content := false
	if pub != nil {
		pub.OnRTCP(clock.onRTCP) // the SDK reads the track's RTCP and hands it here
		content = isContent(pub.Source())
	}
	switch {
	case mime == strings.ToLower(webrtc.MimeTypeOpus) && h.Audio != nil:
		dec := decryption.forTrack(ctx, media.CodecOpus, from)
		for ctx.Err() == nil {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			counted.note(pkt.SequenceNumber, pkt.Timestamp, time.Now())
			if h.paused() {
				continue
			}
			data, ok := dec.open(pkt.Payload)
			if !ok {
				continue
			}
			h.Audio(Frame{From: from, Content: content, Codec: media.CodecOpus, Data: data, Arrived: time.Now(), Seq: pkt.SequenceNumber,
				Timestamp: pkt.Timestamp, Captured: clock.at(pkt.Timestamp)})
		}
	case mime == strings.ToLower(webrtc.MimeTypeH264) && h.Video != nil:
		receiveVideo(ctx, track, rp, clock, content, media.CodecH264, &codecs.H264Packet{}, h,
			decryption.forTrack(ctx, media.CodecH264, from), counted)
	case mime == strings.ToLower(webrtc.MimeTypeVP8) && h.Video != nil:
		receiveVideo(ctx, track, rp, clock, content, media.CodecVP8, &codecs.VP8Packet{}, h,
			decryption.forTrack(ctx, media.CodecVP8, from), counted)
	default:
		// Nobody wants it, but RTP must still be read or the SDK's buffers fill.
		_, _ = io.Copy(io.Discard, rtpReader{track})
	}
}

func receiveVideo(ctx context.Context, track *webrtc.TrackRemote, rp *lksdk.RemoteParticipant, clock *senderClock, content bool,
	codec media.Codec, depacketizer rtp.Depacketizer, h Handlers, dec *trackDecryption, counted *rtpReception) {
	builder := samplebuilder.New(512, depacketizer, track.Codec().ClockRate,
		samplebuilder.WithMaxTimeDelay(500*time.Millisecond))
	waitingForKeyframe := true
	askedAt := time.Time{}
	for ctx.Err() == nil {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		counted.note(pkt.SequenceNumber, pkt.Timestamp, time.Now())
		builder.Push(pkt)
		for sample := builder.Pop(); sample != nil; sample = builder.Pop() {
			if sample.PrevDroppedPackets > 0 {
				waitingForKeyframe = true
			}
			if h.paused() {
				waitingForKeyframe = true // what comes after the pause starts at a keyframe
				continue
			}
			data, ok := dec.open(sample.Data)
			if !ok {
				// What follows refers to the dropped frame: start again at a
				// keyframe, and ask for one now.
				waitingForKeyframe = true
				if time.Since(askedAt) > 500*time.Millisecond {
					rp.WritePLI(track.SSRC())
					askedAt = time.Now()
				}
				continue
			}
			sample.Data = data
			if waitingForKeyframe {
				if !media.IsKeyframe(codec, sample.Data) {
					if time.Since(askedAt) > 500*time.Millisecond {
						rp.WritePLI(track.SSRC())
						askedAt = time.Now()
					}
					continue
				}
				waitingForKeyframe = false
			}
			h.Video(Frame{From: rp.Identity(), Content: content, Codec: codec, Data: sample.Data, Arrived: time.Now(),
				Timestamp: sample.PacketTimestamp, Captured: clock.at(sample.PacketTimestamp)})
		}
	}
}

type rtpReader struct{ track *webrtc.TrackRemote }

func (r rtpReader) Read(b []byte) (int, error) {
	n, _, err := r.track.Read(b)
	if errors.Is(err, io.EOF) {
		return n, io.EOF
	}
	if err != nil {
		return n, fmt.Errorf("read rtp: %w", err)
	}
	return n, nil
}
