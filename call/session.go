// Package call owns the group call: joining a LiveKit room, publishing the
// box's tracks, receiving the others', reconnecting, and the call state
// machine that the rest of the box watches. It takes coded frames from the
// pipeline and never touches devices.
package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/callbox/callbox/media"
)

// Options say which room to join, as whom, and what the box sends.
type Options struct {
	// URL is the call server; OtherURLs, for a cluster, its other
	// servers. The box joins through URL first, and when the server it
	// is on fails, through the next in turn (servers.go).
	URL       string
	OtherURLs []string
	Room      string
	Identity  string
	Name      string
	// Either a key and secret, from which each join makes a token...
	APIKey, APISecret string
	// ...or a token made elsewhere.
	Token string

	VideoCodec      media.Codec
	Width, Height   int
	MaxVideoBitrate int // bits per second
	// Encoder is asked for keyframes and bitrates; nil asks nothing.
	Encoder Encoder
	// AudioEncoder is told the loss receivers report of the sound, for
	// its forward error correction; nil tells nothing.
	AudioEncoder AudioEncoder
	// Simulcast, with two or three layers (largest first), publishes the
	// camera as simulcast: WriteVideoLayer sends each layer, and a layer's
	// keyframe requests and bitrate go to that layer of Encoder
	// (simulcast.go).
	Simulcast []VideoLayer
	// StartIdle makes Run wait for Join instead of joining Room at once.
	StartIdle bool
	// Line, when set, keeps the session in Room, its line, while no call
	// is wanted: reachable, sending nothing, ringing when someone comes
	// (line.go). It needs APIKey and APISecret: the box makes its tokens.
	Line *LineOptions
	// RoomKey, when set, end-to-end encrypts every frame sent and decrypts
	// every frame received with one shared key (e2ee.go); Group, when set,
	// with a key per member (e2ee_group.go). Neither: not encrypted.
	RoomKey *RoomKey
	Group   *GroupOptions
	// Remote, when it has handlers, receives the other participants (subscribe.go).
	Remote RemoteOptions

	Logger *slog.Logger
}

// Encoder is what the call asks of the box's video encoder: a keyframe
// when a receiver needs one, the bitrate the network carries. Layer i is
// Options.Simulcast[i] (largest first); without simulcast layer 0 is the
// one video track. The call calls these from its own goroutines at any
// time, also while nothing is being coded. pipeline.VideoSender is one.
type Encoder interface {
	ForceLayerKeyFrame(layer int)
	SetLayerBitrate(layer, bitsPerSecond int)
}

// AudioEncoder is what the call tells the box's sound encoder:
// pipeline.OpusEncoder is one. Called from the call's goroutines.
type AudioEncoder interface {
	SetPacketLoss(percent int)
}

// noEncoder is the Encoder of a session that sends no video of its own.
type noEncoder struct{}

func (noEncoder) ForceLayerKeyFrame(int)   {}
func (noEncoder) SetLayerBitrate(int, int) {}

// Session is the box's presence in one room. Run joins and stays joined;
// WriteVideo and WriteAudio send what the pipeline made.
type Session struct {
	opts   Options
	log    *slog.Logger
	state  stateMachine
	desire desire    // whether to be in a call, and in which room (control.go)
	remote remoteSet // the other participants (subscribe.go)
	line   *line     // the box's line (line.go); nil without one

	congestion *congestion // the video's bitrate from the network's (congestion.go)
	// keyframes sends the keyframes receivers ask for, at most so often,
	// with follow-ups (keyframe.go).
	keyframes keyframes

	mu    sync.Mutex
	video *lksdk.LocalTrack // nil while not in the call
	audio *lksdk.LocalTrack
	// The publications, to tell the others of a mute (control.go).
	videoPub, audioPub *lksdk.LocalTrackPublication
	// The simulcast layers' tracks, largest first; video is the first.
	layers []*lksdk.LocalTrack
	// contentTracks are the shared content's (content.go), largest first;
	// nil without a share.
	contentTracks []*lksdk.LocalTrack
	// reports are what the server's receiver reports said (stats.go).
	reports reportStats
	// group is this join's key exchange (e2ee_group.go), nil without one.
	group      *groupSession
	audioClock audioClock
	audioLoss  float64 // percent, smoothed from the server's reports

	// heard is when the call server last reported on the box's tracks
	// (RTCP, about once a second), sent when the box last sent a frame,
	// in Unix nanoseconds: the silence watch (reconnect.go) compares them.
	heard, sent atomic.Int64
	// framesSent counts the camera's pictures sent, sent...Bytes the
	// coded bytes of each kind (MediaStats).
	framesSent                     atomic.Uint64
	sentAudioBytes, sentVideoBytes atomic.Uint64
	// heldBefore are the keys the joins before this one held
	// (GroupOptions.RecordKeys).
	heldBefore [][]byte
	content    contentShare // the shared content (content.go)
	// server is the index in servers() of the call server the box joins
	// through (servers.go).
	server atomic.Int32
}

// New makes a session; nothing happens until Run.
func New(opts Options) *Session {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Encoder == nil {
		opts.Encoder = noEncoder{}
	}
	s := &Session{opts: opts, log: log}
	maxBitrates := []int{opts.MaxVideoBitrate}
	if len(opts.Simulcast) > 1 {
		maxBitrates = nil
		for _, l := range opts.Simulcast {
			maxBitrates = append(maxBitrates, l.MaxBitrate)
		}
	}
	s.congestion = newCongestion(maxBitrates, opts.Encoder.SetLayerBitrate)
	startInCall := !opts.StartIdle && opts.Line == nil
	s.desire.init(opts.Room, startInCall)
	s.state.status.CallWanted = startInCall
	if opts.Line != nil {
		s.line = newLine(*opts.Line, log)
		s.state.status.DoNotDisturb = opts.Line.DoNotDisturb
	}
	return s
}

// Status is the call's state now.
func (s *Session) Status() Status { return s.state.get() }

// Watch returns a channel with the current status and every change after it,
// and a function to stop watching.
func (s *Session) Watch() (<-chan Status, func()) { return s.state.watch() }

// The waits between join attempts that failed for another reason than an
// unreachable server (which is probed instead: reconnect.go).
const (
	firstRetry = time.Second
	lastRetry  = 30 * time.Second
)

// retransmitPackets is how many of each stream's last packets the box
// keeps to send again when the server asks (NACK): at 1.5 Mbit/s, about
// 3 s of video, where a request comes within a round trip (pion's default
// 1024 held about 7 s, 1 MB more of copies).
const retransmitPackets = 512

// Run joins the room and stays in it until ctx ends, then leaves cleanly.
// While the server cannot be reached it keeps trying, and joins as soon as
// the server answers again. A call that drops is joined afresh (see
// reconnect.go for how and why). Leave and Join (control.go) make it
// leave, and join again or elsewhere.
func (s *Session) Run(ctx context.Context) error {
	retry := firstRetry
	lastJoinErr := ""
	var lost time.Time // when the call in progress dropped; zero when joining anew
	// leftCleanly: the call dropped while the server still answered
	// (errMediaLost), so the leave reached it and no lost session stays.
	leftCleanly := false
	for {
		roomName, changed, ok := s.waitForCall(ctx)
		if !ok {
			return nil
		}
		wish, stopWish := cancelOnChange(ctx, changed)
		if lost.IsZero() {
			s.state.set(Status{State: Joining})
		} else {
			s.waitForServer(wish, lost) // reconnect.go
			if !leftCleanly {
				s.removeLostSession(wish, roomName) // reconnect.go
			}
		}
		dropped := make(chan error, 1)
		room, err := s.join(wish, roomName, dropped)
		if err != nil {
			if ctx.Err() != nil {
				stopWish()
				s.state.set(Status{State: Idle})
				return nil
			}
			if wishChanged(changed) {
				stopWish()
				lost = time.Time{}
				continue // hung up, or another room chosen, while joining
			}
			err = explain(s.serverURL(), err)
			if lost.IsZero() {
				s.state.set(Status{State: Failed, Err: err})
			} else {
				s.state.set(Status{State: Reconnecting, Err: err, Since: lost})
			}
			// Say it once; the same failure again is news only when debugging.
			level := slog.LevelError
			if err.Error() == lastJoinErr {
				level = slog.LevelDebug
			}
			lastJoinErr = err.Error()
			s.log.Log(ctx, level, "cannot join the call; trying again", "room", roomName, "err", err, "retry_in", retry)
			// The next try goes through the next server (servers.go);
			// the waits grow once every server has failed.
			round := s.nextServer()
			s.waitRetry(wish, retry, err) // reconnect.go
			stopWish()
			if ctx.Err() != nil {
				s.state.set(Status{State: Idle})
				return nil
			}
			if wishChanged(changed) {
				lost = time.Time{} // the next join is a new call, not the lost one
			}
			if round {
				retry = min(2*retry, lastRetry)
			}
			continue
		}
		retry, lastJoinErr = firstRetry, ""
		s.enterCall(room, roomName, !lost.IsZero())
		err = s.stay(wish, room, dropped) // reconnect.go
		stopWish()
		lost = s.droppedAt()
		s.leave(room)
		leftCleanly = errors.Is(err, errMediaLost)
		switch {
		case ctx.Err() != nil:
			s.state.set(Status{State: Idle})
			s.log.Info("left the call")
			return nil
		case wishChanged(changed):
			lost = time.Time{}
			s.log.Info("left the call", "room", roomName)
		default:
			err = explain(s.serverURL(), err)
			s.state.set(Status{State: Reconnecting, Err: err, Since: lost})
			s.log.Warn("lost the call; joining again as soon as the call server answers",
				"err", err, "silent_for", time.Since(lost).Round(100*time.Millisecond))
		}
	}
}

// enterCall says the box is in the call, in its line or calling (line.go),
// back after a dropout when back, and which way its sound and pictures go
// once that is known.
func (s *Session) enterCall(room *lksdk.Room, roomName string, back bool) {
	s.heard.Store(time.Now().UnixNano()) // the silence watch starts now
	s.state.update(func(st *Status) { st.Server = s.serverURL() })
	s.line.entered(s, room, roomName, s.sending(room), back)
	s.notePath(room)
}

func (s *Session) join(ctx context.Context, roomName string, dropped chan<- error) (*lksdk.Room, error) {
	drop := func(err error) {
		select {
		case dropped <- err:
		default: // one is enough: the call is left on the first
		}
	}
	var room *lksdk.Room
	callbacks := &lksdk.RoomCallback{
		OnDisconnectedWithReason: func(reason lksdk.DisconnectionReason) {
			drop(fmt.Errorf("disconnected: %s", reason))
		},
		// The SDK's own recovery (resume, then rejoin with waits of up to
		// 24 s between tries) is cut short: the box joins afresh itself
		// as soon as the server answers (reconnect.go). The room is closed
		// here, before the SDK's first try, which it starts when this
		// returns and which then finds the room closed: a try under way
		// would reach the server when the network comes back, and the
		// server, which resumes by identity, would hand it the box's new
		// session, cutting that one off.
		OnReconnecting: func() {
			room.Disconnect()
			drop(errInterrupted)
		},
	}
	if err := s.startGroup(roomName); err != nil { // e2ee_group.go
		return nil, err
	}
	_, publish, _ := s.desire.get() // else in the line: present, sending nothing
	remote := s.opts.Remote
	remote.Paused = s.line.paused
	s.remote.hook(callbacks, remote, s.mediaKeys(), s.log)
	s.hookGroup(callbacks)
	s.line.hook(s, callbacks)
	estimation, err := s.congestion.interceptors()
	if err != nil {
		return nil, fmt.Errorf("bandwidth estimation: %w", err)
	}
	// The SDK's own interceptors too: NACK answers and requests, RTCP
	// reports, transport-wide feedback on what the box receives.
	connect := []lksdk.ConnectOption{lksdk.WithInterceptors(estimation), lksdk.WithIncludeDefaultInterceptors(true),
		lksdk.WithRetransmitBufferSize(retransmitPackets)}
	room = lksdk.NewRoom(callbacks)
	s.remote.setRoom(room)
	relays := watchRelays(room) // path.go: what the server offers, should the media path fail
	token := s.opts.Token
	if token == "" {
		token, err = s.token(roomName, publish) // line.go
	}
	if err == nil {
		err = room.JoinWithContextAndToken(ctx, s.serverURL(), token, connect...)
	}
	offered, answered := relays.result()
	if err != nil {
		if answered && errors.Is(err, lksdk.ErrConnectionTimeout) {
			err = noMediaPath(ctx, s.serverURL(), offered, err)
		}
		s.leave(room) // what the half-made join started ends, its goroutines too
		return nil, err
	}
	s.remote.joined()
	s.groupJoined(room, roomName)
	if publish {
		if err := s.publish(room); err != nil {
			s.leave(room)
			return nil, err
		}
		s.tellPrivacy()
		s.keyframeWanted() // the first frame anyone sees must be decodable
	}
	return room, nil
}

// sending reports whether the session publishes in room.
func (s *Session) sending(*lksdk.Room) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audio != nil
}

// publish sends the microphone first and then the camera: after a
// reconnection the sound comes back without waiting for the pictures'
// publication and first keyframe. Each is sent from the moment it is
// published.
func (s *Session) publish(room *lksdk.Room) error {
	s.keyframes.start()
	audioOpts, audioEncryption, err := publishOptions(s.mediaKeys(), media.CodecOpus)
	if err != nil {
		return fmt.Errorf("audio track: %w", err)
	}
	audioOpts = append(audioOpts, lksdk.WithRTCPHandler(s.onAudioRTCP))
	audio, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1",
	}, audioOpts...)
	if err != nil {
		return fmt.Errorf("audio track: %w", err)
	}
	audioPub, err := room.LocalParticipant.PublishTrack(audio, &lksdk.TrackPublicationOptions{
		Name: "microphone", Source: livekit.TrackSource_MICROPHONE, Encryption: audioEncryption,
	})
	if err != nil {
		return fmt.Errorf("publish audio: %w", err)
	}
	s.mu.Lock()
	s.audio, s.audioPub = audio, audioPub
	s.mu.Unlock()

	var video *lksdk.LocalTrack
	var layers []*lksdk.LocalTrack
	var videoPub *lksdk.LocalTrackPublication
	if len(s.opts.Simulcast) > 1 {
		layers, videoPub, err = s.publishSimulcastVideo(room) // simulcast.go
		if err != nil {
			return err
		}
		video = layers[0]
	} else if video, videoPub, err = s.publishVideo(room); err != nil {
		return err
	}
	s.mu.Lock()
	s.video, s.videoPub, s.layers = video, videoPub, layers
	s.mu.Unlock()
	if s.opts.RoomKey != nil {
		s.log.Info("sending with the shared room key", "fingerprint", s.opts.RoomKey.Fingerprint())
	}
	s.contentJoined(room) // content.go
	return nil
}

func (s *Session) publishVideo(room *lksdk.Room) (*lksdk.LocalTrack, *lksdk.LocalTrackPublication, error) {
	videoOpts, videoEncryption, err := publishOptions(s.mediaKeys(), s.opts.VideoCodec)
	if err != nil {
		return nil, nil, fmt.Errorf("video track: %w", err)
	}
	video, err := lksdk.NewLocalSampleTrack(videoCapability(s.opts.VideoCodec),
		append(videoOpts, lksdk.WithRTCPHandler(func(p rtcp.Packet) { s.onVideoRTCP(0, p) }))...)
	if err != nil {
		return nil, nil, fmt.Errorf("video track: %w", err)
	}
	videoPub, err := room.LocalParticipant.PublishTrack(video, &lksdk.TrackPublicationOptions{
		Name: "camera", Source: livekit.TrackSource_CAMERA,
		VideoWidth: s.opts.Width, VideoHeight: s.opts.Height, Encryption: videoEncryption,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("publish video: %w", err)
	}
	return video, videoPub, nil
}

// videoCapability is what the box offers to send for each codec.
func videoCapability(c media.Codec) webrtc.RTPCodecCapability {
	if c == media.CodecVP8 {
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	}
	return webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		// Constrained baseline, level 3.1: what x264's baseline profile makes.
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}
}

// onVideoRTCP takes what receivers say about a video layer (0 without
// simulcast): a keyframe request makes that layer's encoder send one, at
// most every keyframeLimit and with follow-ups after a quiet while
// (keyframe.go); the server's REMB caps the bitrate and its receiver
// reports' loss moves it (congestion.go). Any report says the server
// hears the box (reconnect.go).
func (s *Session) onVideoRTCP(layer int, p rtcp.Packet) {
	s.heardFromServer()
	switch p := p.(type) {
	case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
		s.keyframes.request(s.opts.Encoder, layer)
	case *rtcp.ReceiverEstimatedMaximumBitrate:
		s.congestion.onREMB(int(p.Bitrate))
	case *rtcp.ReceiverReport:
		if layer != 0 { // the largest's loss is the network's, the others' too
			return
		}
		s.mu.Lock()
		track := s.video
		s.mu.Unlock()
		for _, r := range p.Reports {
			if track != nil && r.SSRC == uint32(track.SSRC()) { // not its retransmissions'
				s.congestion.onLoss(r.FractionLost)
				s.noteReport(r, time.Now()) // stats.go
			}
		}
	}
}

// onAudioRTCP passes the loss the server reports of the box's sound to
// the encoder, which puts that much more of each packet into the next
// one's FEC. Any report says the server hears the box.
func (s *Session) onAudioRTCP(p rtcp.Packet) {
	s.heardFromServer() // reconnect.go
	rr, ok := p.(*rtcp.ReceiverReport)
	if !ok || s.opts.AudioEncoder == nil {
		return
	}
	for _, r := range rr.Reports {
		// Up at once, down slowly: a second without loss in a lossy
		// network should not leave the next loss without FEC.
		s.mu.Lock()
		s.audioLoss = max(float64(r.FractionLost)*100/256, 0.8*s.audioLoss)
		loss := int(math.Ceil(s.audioLoss))
		s.mu.Unlock()
		s.opts.AudioEncoder.SetPacketLoss(loss)
	}
}

// keyframeWanted asks every layer for a keyframe: on joining, after a
// reconnection, when the camera comes back on.
func (s *Session) keyframeWanted() {
	for layer := range max(1, len(s.opts.Simulcast)) {
		s.opts.Encoder.ForceLayerKeyFrame(layer)
	}
}

func (s *Session) leave(room *lksdk.Room) {
	s.line.left() // line.go
	s.keyframes.stop()
	s.contentLeft()
	s.mu.Lock()
	s.video, s.audio, s.videoPub, s.audioPub, s.layers = nil, nil, nil, nil, nil
	s.mu.Unlock()
	s.stopGroup() // first: its sends would wait for a publisher that is gone
	room.Disconnect()
	s.remote.stop()
}

// WriteVideo sends one coded picture; outside a call, or while the camera
// is off (SetCameraOff), it is dropped.
func (s *Session) WriteVideo(f media.EncodedFrame) error {
	if s.state.get().CameraOff {
		return nil
	}
	s.mu.Lock()
	track := s.video
	s.mu.Unlock()
	return s.writeVideoSample(track, f)
}

// WriteAudio sends one coded block of sound; outside a call, or while the
// microphone is muted (SetMuted), it is dropped.
func (s *Session) WriteAudio(f media.EncodedFrame) error {
	if s.state.get().Muted {
		return nil
	}
	s.mu.Lock()
	track := s.audio
	if track != s.audioClock.track {
		s.audioClock = audioClock{track: track}
	}
	at := s.audioClock.sent + f.Silence
	s.audioClock.sent = at + f.Duration
	s.mu.Unlock()
	if track == nil || len(f.Data) == 0 {
		return nil
	}
	s.noteSent() // reconnect.go
	s.sentAudioBytes.Add(uint64(len(f.Data)))
	// The sound's own clock, not the time of writing (which jitters), and
	// moved on over the silence not sent (DTX) without skipping sequence
	// numbers, which receivers would take for loss.
	return track.WriteSample(pionmedia.Sample{Data: f.Data, Duration: f.Duration, Timestamp: audioEpoch.Add(at)}, nil)
}

// audioClock is how much sound the audio track has carried, sent or left
// out as silence: the RTP timestamp of the next packet.
type audioClock struct {
	track *lksdk.LocalTrack
	sent  time.Duration
}

// audioEpoch is where every audio track's clock starts, for the SDK's
// sample timestamps.
var audioEpoch = time.Unix(1<<30, 0)

// writeVideoSample is writeSample for the largest layer, whose pictures
// MediaStats counts.
func (s *Session) writeVideoSample(track *lksdk.LocalTrack, f media.EncodedFrame) error {
	if track != nil && len(f.Data) > 0 {
		s.framesSent.Add(1)
	}
	return s.writeSample(track, f)
}

// writeSample sends one coded picture on track, when there is one.
func (s *Session) writeSample(track *lksdk.LocalTrack, f media.EncodedFrame) error {
	if track == nil || len(f.Data) == 0 {
		return nil
	}
	s.noteSent() // reconnect.go
	s.sentVideoBytes.Add(uint64(len(f.Data)))
	return track.WriteSample(pionmedia.Sample{Data: f.Data, Duration: f.Duration}, nil)
}

// explain turns what the network stack says into what a person can act on.
func explain(url string, err error) error {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, new(*noMediaPathError)):
		return err // says it all already
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("the call server at %s refuses connections (is it running?): %w", url, err)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("the call server's name in %s cannot be resolved (check the server's address and the network): %w", url, err)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return fmt.Errorf("the call server at %s cannot be reached (check the network): %w", url, err)
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "timeout"):
		return fmt.Errorf("the call server at %s does not answer in time: %w", url, err)
	case strings.Contains(err.Error(), "401"), strings.Contains(err.Error(), "unauthorized"):
		return fmt.Errorf("the call server at %s refused the box's credentials (check the API key and secret, or the token): %w", url, err)
	}
	return err
}
