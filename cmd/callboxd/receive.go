package main

// The receive side: the others on the screen and in the speaker.
//
//	call (remote frames) ─► compose.Screen (decode, layout, draw) ─► display
//	                    └─► pipeline.Mixer (jitter, Opus, mix) ─► speaker ─► echo reference

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
	"github.com/callbox/callbox/pipeline/compose"
)

// receiver is the receive side of the daemon.
type receiver struct {
	cfg     config.Config
	log     *slog.Logger
	beats   *heartbeat // what the screen and the speaker beat while they run (heartbeat.go)
	session *call.Session
	mixer   *pipeline.Mixer
	echo    *pipeline.EchoCanceller // nil without echo cancellation
	// decoders opens each participant's video decoder, hardware or
	// software (video.decoder), and knows which each runs on.
	decoders *pipeline.VideoDecoders
	screen   atomic.Pointer[compose.Screen]
	// What arrived from the others, for the metrics (metrics.go):
	// pictures, and the coded bytes of pictures and sound.
	picturesGot, videoBytesGot, audioBytesGot atomic.Uint64
	// sizes are the sizes of the others' camera pictures.
	sizes receivedSizes

	mu      sync.Mutex // guards what a new screen is told
	members []compose.Member
	// lastMembers is the call's last list, to show again when who has
	// keys changes (keysChanged).
	lastMembers []call.Member
	speaker     string
	status      string
	content     string        // what the content share did last (content.go)
	card        *compose.Card // an invite's QR code (screen.go)
	cardUntil   time.Time
	cardFor     string // the identity the card's invite admits: once a member, the card goes
	// callCard is the ringing call, the call out, or how it ended (ring.go):
	// shown over an invite's card.
	callCard      *compose.Card
	callCardUntil time.Time
	sounds        map[string]bool // the box's own sounds playing (ring.go)
	// meetings is the meeting room's calendar (meetings.go), nil without
	// one; meetingCard what the idle screen shows of it.
	meetings    *meetingRoom
	meetingCard *compose.Card

	// For tests: onDrawn sees every frame drawn; openSink opens the speaker.
	onDrawn  func(*display.Frame, compose.Layout)
	openSink func(ctx context.Context) (audio.Sink, error)
}

func newReceiver(cfg config.Config, log *slog.Logger) *receiver {
	rx := &receiver{cfg: cfg, log: log,
		mixer: pipeline.NewMixer(func() (media.AudioDecoder, error) { return pipeline.NewOpusDecoder() },
			time.Duration(cfg.Speaker.JitterMs)*time.Millisecond),
		decoders: pipeline.NewVideoDecoders(pipeline.VideoDecodersOptions{Mode: cfg.Video.Decoder, Software: softwareDecoder, Logger: log}),
	}
	if cfg.Speaker.EchoCancellation && cfg.Audio.Microphone != config.MicrophoneTone && cfg.Speaker.Device != config.SpeakerNone {
		ec, err := pipeline.NewEchoCanceller(pipeline.EchoOptions{NoiseSuppression: true, AGC: true})
		if err != nil {
			log.Error("echo cancellation does not work; the microphone is sent as it is", "err", err)
		} else {
			rx.echo = ec
		}
	}
	return rx
}

// remote is what the call does with the other participants.
func (rx *receiver) remote() call.RemoteOptions {
	return call.RemoteOptions{
		Handlers: call.Handlers{
			Video: func(f call.Frame) {
				rx.picturesGot.Add(1)
				rx.videoBytesGot.Add(uint64(len(f.Data)))
				if !f.Content {
					rx.sizes.note(f.From, f.Codec, f.Data)
				}
				if s := rx.screen.Load(); s != nil {
					s.VideoAt(senderKey(f), f.Codec, f.Data, f.Captured)
				}
			},
			Audio: func(f call.Frame) {
				rx.audioBytesGot.Add(uint64(len(f.Data)))
				if err := rx.mixer.Push(senderKey(f), pipeline.JitterPacket{Seq: f.Seq, Data: f.Data,
					Timestamp: f.Timestamp, Arrived: f.Arrived, Captured: f.Captured}); err != nil {
					rx.log.Debug("sound dropped", "err", err)
				}
			},
		},
		OnMembers:  rx.setMembers,
		OnSpeakers: rx.setSpeakers,
	}
}

// receivedSizes are the sizes of the others' camera pictures as their
// keyframes' headers say (media.PictureSize), by identity, of those in
// the call now: what the call server sends the box of each (a simulcast
// layer), whether or not a screen shows it.
type receivedSizes struct {
	mu sync.Mutex
	of map[string]image.Point // guarded by mu
}

// note keeps the size of from's picture when frame says it (a keyframe).
func (s *receivedSizes) note(from string, codec media.Codec, frame []byte) {
	w, h, ok := media.PictureSize(codec, frame)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.of == nil {
		s.of = map[string]image.Point{}
	}
	s.of[from] = image.Pt(w, h)
}

// forget drops the size of one who left.
func (s *receivedSizes) forget(identity string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.of, identity)
}

// extremes are the largest and the smallest picture received (by
// area) of those here; ok is false before any.
func (s *receivedSizes) extremes(here map[string]bool) (largest, smallest image.Point, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	area := func(p image.Point) int { return p.X * p.Y }
	for who, size := range s.of {
		if !here[who] {
			continue // left (a picture may come after the list said so)
		}
		if !ok || area(size) > area(largest) {
			largest = size
		}
		if !ok || area(size) < area(smallest) {
			smallest = size
		}
		ok = true
	}
	return largest, smallest, ok
}

// pictureSizes are the largest and the smallest of the others' camera
// pictures received, of those in the call now.
func (rx *receiver) pictureSizes() (largest, smallest image.Point, ok bool) {
	here := map[string]bool{}
	rx.mu.Lock()
	for _, m := range rx.members {
		here[m.Identity] = true
	}
	rx.mu.Unlock()
	return rx.sizes.extremes(here)
}

// senderKey is who a frame is from as the screen and the mixer know them:
// a participant's shared content (its video and its sound) is apart from
// their camera and microphone, so that each keeps its own decoder and
// lip sync pairs the content's video with the content's sound.
func senderKey(f call.Frame) string {
	if f.Content {
		return compose.ContentKey(f.From)
	}
	return f.From
}

func (rx *receiver) setMembers(ms []call.Member) {
	var outsiders []string
	if rx.session != nil {
		enc := rx.session.Encryption()
		outsiders = enc.Outsiders
		rx.mu.Lock()
		arrived := rx.cardFor != "" && slices.Contains(enc.Members, rx.cardFor)
		rx.mu.Unlock()
		if arrived { // the guest scanned the code: the call is what to see now
			rx.showCard(nil, time.Time{}, "")
		}
	}
	members := make([]compose.Member, len(ms))
	here := map[string]bool{}
	for i, m := range ms {
		// Identity stays as it came: it is the key the call and the mixer know them by.
		members[i] = compose.Member{Identity: m.Identity, Name: shownName(m), Muted: m.AudioMuted,
			VideoCodec: m.VideoCodec, ContentCodec: m.ContentCodec}
		if slices.Contains(outsiders, m.Identity) {
			members[i].Name += noKeysMark
		}
		here[m.Identity] = true
	}
	rx.mu.Lock()
	rx.lastMembers = ms
	before := map[string]compose.Member{}
	for _, old := range rx.members {
		before[old.Identity] = old
		if !here[old.Identity] {
			rx.sizes.forget(old.Identity)
			rx.mixer.Remove(old.Identity)
			rx.mixer.Remove(compose.ContentKey(old.Identity))
			rx.log.Info("a participant left", "participant", shownIdentity(old.Identity))
		}
	}
	for _, m := range members {
		old, was := before[m.Identity]
		if !was {
			rx.log.Info("a participant joined", "participant", shownIdentity(m.Identity), "name", m.Name, "video", m.VideoCodec)
		}
		switch {
		case m.ContentCodec != "" && old.ContentCodec == "":
			rx.log.Info("a participant shares their screen", "participant", shownIdentity(m.Identity), "video", m.ContentCodec)
		case m.ContentCodec == "" && old.ContentCodec != "":
			rx.mixer.Remove(compose.ContentKey(m.Identity))
			rx.log.Info("a participant stopped sharing their screen", "participant", shownIdentity(m.Identity))
		}
	}
	rx.members = members
	rx.mu.Unlock()
	if s := rx.screen.Load(); s != nil {
		s.SetMembers(members)
	}
	rx.updateStatus()
}

// showOtherShare shows the other of several shares large on the screen,
// and says what it did.
func (rx *receiver) showOtherShare() string {
	s := rx.screen.Load()
	if s == nil {
		return "nothing: the box shows no screen"
	}
	who, ok := s.ShowOtherShare()
	if !ok {
		return "nothing: fewer than two share their screen"
	}
	return "showing the screen of " + shownIdentity(who)
}

// shown is how many of identity's pictures the screen has shown (0
// without a screen).
func (rx *receiver) shown(identity string) int {
	if screen := rx.screen.Load(); screen != nil {
		return screen.Shown(identity)
	}
	return 0
}

func (rx *receiver) setSpeakers(ids []string) {
	speaker := ""
	if len(ids) > 0 {
		speaker = ids[0]
	}
	rx.mu.Lock()
	rx.speaker = speaker
	rx.mu.Unlock()
	if s := rx.screen.Load(); s != nil {
		s.SetSpeaker(speaker)
	}
}

// run keeps the screen and the speaker going until ctx ends.
func (rx *receiver) run(ctx context.Context, d *daemon) {
	var wg sync.WaitGroup
	if rx.cfg.Display.Output != config.DisplayNone {
		wg.Go(func() { d.keepGoing(ctx, "display "+rx.cfg.Display.Output, rx.show) })
	}
	if rx.cfg.Speaker.Device != config.SpeakerNone {
		wg.Go(func() { d.keepGoing(ctx, "speaker "+rx.cfg.Speaker.Device, rx.play) })
	}
	wg.Go(func() { rx.followState(ctx) })
	wg.Wait()
}

// close frees the mixer and the echo canceller, once the call has ended
// and run has returned: nothing hands them sound after.
func (rx *receiver) close() {
	rx.mixer.Close()
	if rx.echo != nil {
		rx.echo.Close()
	}
}

// show opens the display and draws the call on it.
func (rx *receiver) show(ctx context.Context) error {
	dc := rx.cfg.Display
	r, err := display.Open(display.Options{Output: dc.Output, Width: dc.Width, Height: dc.Height})
	if err != nil {
		return err
	}
	defer r.Close()
	moving := rx.beats.join("display " + dc.Output)
	defer moving.leave()
	screen := compose.NewScreen(r, compose.ScreenOptions{
		FPS:        dc.FPS,
		NewDecoder: rx.decoders.Open,
		OnTileSizes: func(sizes map[string]image.Point) {
			for id, size := range sizes {
				rx.session.SetVideoSize(id, size.X, size.Y)
			}
		},
		// Lip sync: each picture waits until the sound captured with it is
		// heard. Both capture times come from the sender's RTCP sender
		// reports; the mixer knows when each sound was played.
		ShowAt:    rx.mixer.ShowAt,
		OnDamaged: func(key string) { rx.session.RequestKeyframe(compose.KeyOwner(key)) },
		OnDrawn: func(f *display.Frame, l compose.Layout) {
			moving.beat()
			if rx.onDrawn != nil {
				rx.onDrawn(f, l)
			}
		},
		Logger: rx.log,
	})
	defer screen.Close()
	rx.mu.Lock()
	screen.SetMembers(rx.members)
	screen.SetSpeaker(rx.speaker)
	screen.SetStatus(rx.statusLine())
	screen.ShowCard(rx.shownCard())
	rx.mu.Unlock()
	rx.screen.Store(screen)
	defer rx.screen.Store(nil)
	size := r.Size()
	rx.log.Info("showing the call", "display", dc.Output, "size", fmt.Sprintf("%dx%d", size.X, size.Y))
	return screen.Run(ctx)
}

// decoderOf says which decoder identity's camera is decoded by, for the
// status page: "" before their first picture.
func (rx *receiver) decoderOf(identity string) string {
	return rx.decoders.Choice(identity).String()
}

// softwareDecoder opens libavcodec's decoder of c.
func softwareDecoder(c media.Codec) (media.VideoDecoder, error) {
	d, err := avcodec.NewVideoDecoder(string(c))
	if err != nil {
		return nil, err // not a nil *VideoDecoder in a non-nil interface
	}
	return d, nil
}

// play mixes everyone's sound into the speaker.
func (rx *receiver) play(ctx context.Context) error {
	open := rx.openSink
	if open == nil {
		open = func(ctx context.Context) (audio.Sink, error) { return openSpeaker(ctx, rx.cfg, rx.log) }
	}
	sink, err := open(ctx)
	if err != nil {
		return err
	}
	if _, file := sink.(*audio.FileSink); !file {
		// A sound card holds about two periods after a write returns.
		rx.mixer.OutputDelay = 2 * time.Duration(rx.cfg.Audio.PeriodMs) * time.Millisecond
	}
	defer sink.Close()
	rx.log.Info("playing the call's sound", "speaker", rx.cfg.Speaker.Device)
	moving := rx.beats.join("speaker " + rx.cfg.Speaker.Device)
	defer moving.leave()
	return pipeline.Play(ctx, rx.mixer, sink, audio.SampleRate/100, func(block []int16) {
		moving.beat()
		if rx.echo != nil {
			rx.echo.Playback(block)
		}
	})
}

func openSpeaker(ctx context.Context, cfg config.Config, log *slog.Logger) (audio.Sink, error) {
	if path, ok := strings.CutPrefix(cfg.Speaker.Device, "file:"); ok {
		return audio.NewFileSink(path)
	}
	return audio.OpenPlayback(ctx, audio.PlaybackOptions{
		Device: cfg.Speaker.Device, Period: time.Duration(cfg.Audio.PeriodMs) * time.Millisecond, Logger: log,
	})
}

// followState writes the call's state on the status line, again every
// second: "the network dropped 12 s ago" counts, and "back in the call"
// turns into "in the call".
func (rx *receiver) followState(ctx context.Context) {
	states, stop := rx.session.Watch()
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var st call.Status
	for {
		select {
		case <-ctx.Done():
			return
		case st = <-states:
			rx.mu.Lock()
			rx.callCard, rx.callCardUntil = callCard(rx.cfg, st) // ring.go
			if rx.sounds == nil {
				rx.sounds = map[string]bool{}
			}
			soundsFor(rx.mixer, st, rx.sounds)
			rx.mu.Unlock()
			rx.updateCard()
		case <-tick.C:
		}
		text := callStatusText(rx.cfg, st, time.Now()) // ring.go
		rx.mu.Lock()
		changed := text != rx.status
		rx.status = text
		meetingsChanged := rx.followMeetings(st)
		rx.mu.Unlock()
		if changed {
			rx.updateStatus()
		}
		if meetingsChanged {
			rx.updateCard()
		}
	}
}

func (rx *receiver) updateStatus() {
	rx.mu.Lock()
	text := rx.statusLine()
	rx.mu.Unlock()
	if s := rx.screen.Load(); s != nil {
		s.SetStatus(text)
	}
}

// statusLine is the call's state, room, the others and whether (and with
// which key) it is end-to-end encrypted. rx.mu is held.
func (rx *receiver) statusLine() string {
	text := rx.status
	if rx.cfg.Call.Room != "" {
		text += ", room " + rx.cfg.Call.Room
	}
	if n := len(rx.members); n > 0 {
		text += fmt.Sprintf(", %d others", n)
	}
	if rx.session != nil {
		text += "; " + encryptionStatus(rx.session) // screen.go
	}
	if rx.content != "" {
		text += "; " + rx.content
	}
	return text
}

// setContentLine shows what the content share did last on the status
// line ("" shows nothing).
func (rx *receiver) setContentLine(text string) {
	rx.mu.Lock()
	rx.content = text
	rx.mu.Unlock()
	rx.updateStatus()
}

// showCard shows card over the call until until (screen.go), or until
// the guest with identity for is a member.
func (rx *receiver) showCard(card *compose.Card, until time.Time, guest string) {
	rx.mu.Lock()
	rx.card, rx.cardUntil, rx.cardFor = card, until, guest
	rx.mu.Unlock()
	rx.updateCard()
}

// shownCard is the card on the screen: the call's, else an invite's,
// else the meetings' while the box is in none. rx.mu is held.
func (rx *receiver) shownCard() (*compose.Card, time.Time) {
	if rx.callCard != nil && (rx.callCardUntil.IsZero() || time.Now().Before(rx.callCardUntil)) {
		return rx.callCard, rx.callCardUntil
	}
	if rx.card == nil && rx.meetingCard != nil {
		return rx.meetingCard, time.Time{}
	}
	return rx.card, rx.cardUntil
}

// followMeetings puts the meetings' card on the idle screen, made again
// each second; nothing while the box is in a call. rx.mu is held.
func (rx *receiver) followMeetings(st call.Status) (changed bool) {
	if rx.meetings == nil {
		return false
	}
	var card *compose.Card
	if _, inCall := rx.session.Wanted(); !inCall && st.State != call.Ringing && st.State != call.Calling {
		card = rx.meetings.card(time.Now())
	}
	if sameCard(card, rx.meetingCard) {
		return false
	}
	rx.meetingCard = card
	return true
}

func sameCard(a, b *compose.Card) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Title == b.Title && a.QR == b.QR && a.Headline == b.Headline && slices.Equal(a.Lines, b.Lines)
}

func (rx *receiver) updateCard() {
	rx.mu.Lock()
	card, until := rx.shownCard()
	rx.mu.Unlock()
	if s := rx.screen.Load(); s != nil {
		s.ShowCard(card, until)
	}
}

// selfView shows what the camera sends in the self-view tile.
func (rx *receiver) selfView(src camera.Source) camera.Source {
	if !rx.cfg.Display.SelfView || rx.cfg.Display.Output == config.DisplayNone {
		return src
	}
	return pipeline.SelfView(src, func(pic *image.YCbCr) {
		if screen := rx.screen.Load(); screen != nil {
			screen.ShowSelf(pic)
		}
	})
}

// cleanMicrophone removes the speaker's sound from a real microphone.
func (rx *receiver) cleanMicrophone(src audio.Source) audio.Source {
	if rx.echo == nil {
		return src
	}
	return pipeline.NewCleanSource(src, rx.echo)
}

// noKeysMark follows the name of one in the room whom the box admitted
// to no keys (no invite, or a revoked one).
const noKeysMark = " (no invite, no keys)"

// keysChanged shows the members again when who has keys changed.
func (rx *receiver) keysChanged() {
	rx.mu.Lock()
	ms := rx.lastMembers
	rx.mu.Unlock()
	rx.setMembers(ms)
}
