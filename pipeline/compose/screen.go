package compose

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/media"
)

// Member is a remote participant as the call sees it.
type Member struct {
	Identity string
	Name     string
	Muted    bool // microphone muted
	// VideoCodec is the codec of the participant's camera track ("H264",
	// "VP8", or what else they send); "" when they send no video.
	VideoCodec string
	// ContentCodec is the codec of the participant's screen share; "" when
	// they share nothing. Its frames come to VideoAt as ContentKey(Identity).
	ContentCodec string
}

// ContentKey is the key a participant's shared content (screen share)
// goes to VideoAt under, beside their camera's under their identity.
func ContentKey(identity string) string { return identity + contentSuffix }

// KeyOwner is the identity whose video key is (a camera's or ContentKey's).
func KeyOwner(key string) string { return strings.TrimSuffix(key, contentSuffix) }

const contentSuffix = "/screen"

// ScreenOptions configure a Screen.
type ScreenOptions struct {
	FPS int // frames presented per second; default 30
	// NewDecoder opens a decoder for key's video (an identity, or
	// ContentKey of one) in codec, software or hardware.
	NewDecoder func(key string, codec media.Codec) (media.VideoDecoder, error)
	// OnTileSizes is told the size each remote participant's picture is
	// drawn at, whenever that changes, so the call can ask for the layer
	// that fits; a participant without a tile (more than MaxTiles) has
	// size zero: their video can be paused. It runs on the render
	// goroutine and must not block.
	OnTileSizes func(map[string]image.Point)
	// OnDrawn sees every composed frame just before it is presented (for
	// measurements); it must not keep f.
	OnDrawn func(f *display.Frame, l Layout)
	// ShowAt says when a picture identity captured at captured (their
	// clock; see VideoAt) should be on the screen to be in step with their
	// sound; false shows it at once. Nil: every picture at once.
	ShowAt func(identity string, captured time.Time) (time.Time, bool)
	// OnDamaged is told when a participant's video stops decoding: the
	// call asks them for a keyframe. It must not block; it is told again
	// for every frame until one decodes, and limits its asking itself.
	OnDamaged func(identity string)
	Logger    *slog.Logger
}

// Screen is the call on the screen: it decodes each remote participant's
// video, keeps their newest picture, and presents a composed frame at a
// steady rate. Its setters and Video are safe from any goroutine.
type Screen struct {
	r    display.Renderer
	opts ScreenOptions
	log  *slog.Logger
	comp Compositor
	// freezes counts the pictures that stopped on a frame that did not
	// decode, each until its keyframe (Freezes).
	freezes atomic.Int64

	mu      sync.Mutex
	members []Member
	sharing []string                // identities sharing content, the one shown large last
	remote  map[string]*remoteVideo // by identity, and ContentKey(identity)
	speaker string
	status  string
	self    *image.YCbCr
	sizes   map[string]image.Point // last told to OnTileSizes
	card    *Card
	cardEnd time.Time             // zero: until replaced
	capture []chan *display.Frame // Capture's waiters for the next frame
	closed  bool                  // Close was called: no more decoders
}

// remoteVideo is one participant's decoder and newest picture.
type remoteVideo struct {
	decodeMu sync.Mutex // one Decode at a time; not held while drawing
	codec    media.Codec
	dec      media.VideoDecoder
	failed   bool // the last frame could not be decoded
	gone     bool // left or the screen closed: its decoder is closed for good
	// needKeyframe: what comes before the next keyframe would decode
	// into a damaged picture (a frame did not decode, or the stream
	// started elsewhere); the last good picture stays until then.
	needKeyframe bool

	// Under Screen.mu:
	picture *image.YCbCr
	shownAt time.Time // when picture arrived
	shown   int       // pictures made the tile's picture, since it came
	problem string    // why there is no picture
	errors  int
	waiting []duePicture // decoded, held for lip sync, in order
	spare   []*image.YCbCr
}

// duePicture is a decoded picture held until its time: due, from when it
// was captured on the sender's clock.
type duePicture struct {
	due, captured time.Time
	pic           *image.YCbCr
}

// Pictures are held for lip sync at most this long, and at most this many:
// a clock gone wrong must not freeze the tile.
const (
	maxHold    = time.Second
	maxWaiting = 32
)

// A picture older than this is replaced by the placeholder: the sender
// stopped or paused their camera.
const staleAfter = 3 * time.Second

// NewScreen makes a screen on r; nothing is shown until Run.
func NewScreen(r display.Renderer, opts ScreenOptions) *Screen {
	if opts.FPS <= 0 {
		opts.FPS = 30
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Screen{r: r, opts: opts, log: opts.Logger, remote: map[string]*remoteVideo{}}
}

// SetMembers says who else is in the call, in join order. Those gone lose
// their tile and decoder, and so does content no longer shared. The
// latest to start sharing is shown large.
func (s *Screen) SetMembers(ms []Member) {
	s.mu.Lock()
	s.members = slices.Clone(ms)
	keep := map[string]bool{}
	for _, m := range ms {
		keep[m.Identity] = true
		if m.ContentCodec != "" {
			keep[ContentKey(m.Identity)] = true
			if !slices.Contains(s.sharing, m.Identity) {
				s.sharing = append(s.sharing, m.Identity)
			}
		}
	}
	s.sharing = slices.DeleteFunc(s.sharing, func(id string) bool { return !keep[ContentKey(id)] })
	var gone []*remoteVideo
	for id, rv := range s.remote {
		if !keep[id] {
			gone = append(gone, rv)
			delete(s.remote, id)
		}
	}
	s.mu.Unlock()
	for _, rv := range gone {
		rv.decodeMu.Lock()
		if rv.dec != nil {
			rv.dec.Close()
			rv.dec = nil
		}
		rv.gone = true
		rv.decodeMu.Unlock()
	}
}

// ShowOtherShare shows the next of several shares large, in the order
// they started, and says whose it is; false when fewer than two share.
// A share that starts later is shown large again.
func (s *Screen) ShowOtherShare() (identity string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.sharing)
	if n < 2 {
		return "", false
	}
	s.sharing = append([]string{s.sharing[n-1]}, s.sharing[:n-1]...)
	return s.sharing[n-1], true
}

// SetSpeaker says who speaks now ("" for nobody).
func (s *Screen) SetSpeaker(identity string) {
	s.mu.Lock()
	s.speaker = identity
	s.mu.Unlock()
}

// SetStatus sets the status line.
func (s *Screen) SetStatus(text string) {
	s.mu.Lock()
	s.status = text
	s.mu.Unlock()
}

// ShowSelf shows pic (copied) as the self view; nil hides it.
func (s *Screen) ShowSelf(pic *image.YCbCr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pic == nil {
		s.self = nil
		return
	}
	s.self = copyPicture(s.self, pic)
}

// ShowCard shows card over the call until until (the zero time: until the
// next ShowCard); nil takes the card away.
func (s *Screen) ShowCard(card *Card, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.card, s.cardEnd = card, until
}

// Capture is a copy of the next frame presented, for screenshots; it
// works on every display, not only offscreen ones.
func (s *Screen) Capture(ctx context.Context) (*display.Frame, error) {
	got := make(chan *display.Frame, 1)
	s.mu.Lock()
	s.capture = append(s.capture, got)
	s.mu.Unlock()
	select {
	case f := <-got:
		return f, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("screenshot: no picture was drawn: %w", ctx.Err())
	}
}

// video is identity's tile state, new if need be; nil once the screen is
// closed.
func (s *Screen) video(identity string) *remoteVideo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	rv := s.remote[identity]
	if rv == nil {
		rv = &remoteVideo{problem: "waiting for video", needKeyframe: true}
		s.remote[identity] = rv
	}
	return rv
}

// Freezes counts the times a participant's picture stopped on a frame
// that did not decode, to stay until the next keyframe: the box's
// metrics.
func (s *Screen) Freezes() int64 { return s.freezes.Load() }

// Video decodes one coded frame from identity. After a frame that cannot
// be decoded the tile keeps the last good picture (a placeholder if there
// was none) and frames are skipped until a keyframe, which decodes whole:
// a damaged picture is never shown.
func (s *Screen) Video(identity string, codec media.Codec, data []byte) {
	s.VideoAt(identity, codec, data, time.Time{})
}

// VideoAt is Video for a frame captured at captured on the sender's clock
// (zero: unknown); with ScreenOptions.ShowAt the picture waits for its
// sound.
func (s *Screen) VideoAt(identity string, codec media.Codec, data []byte, captured time.Time) {
	rv := s.video(identity)
	if rv == nil {
		return
	}
	rv.decodeMu.Lock()
	defer rv.decodeMu.Unlock()
	if rv.gone { // left (or the screen closed) since video: a decoder made now would never be closed
		return
	}
	if rv.dec == nil || rv.codec != codec {
		if rv.dec != nil {
			rv.dec.Close()
			rv.dec = nil
		}
		rv.codec = codec
		dec, err := s.opts.NewDecoder(identity, codec)
		if err != nil {
			s.setProblem(identity, rv, fmt.Sprintf("cannot show %s video", codec), err)
			return
		}
		rv.dec = dec
		rv.needKeyframe = true
	}
	if rv.needKeyframe && !media.IsKeyframe(codec, data) {
		if rv.failed && s.opts.OnDamaged != nil {
			s.opts.OnDamaged(identity)
		}
		return
	}
	pic, err := rv.dec.Decode(data)
	if err != nil {
		if !rv.needKeyframe {
			s.freezes.Add(1) // the picture stops here, until a keyframe
		}
		rv.needKeyframe = true
		s.setProblem(identity, rv, "damaged video, waiting for a new picture", err)
		if s.opts.OnDamaged != nil {
			s.opts.OnDamaged(identity)
		}
		return
	}
	rv.needKeyframe = false
	if pic == nil {
		return
	}
	due, hold := time.Time{}, false
	if s.opts.ShowAt != nil && !captured.IsZero() {
		due, hold = s.opts.ShowAt(identity, captured)
		hold = hold && time.Until(due) > 0 && time.Until(due) < maxHold
	}
	s.mu.Lock()
	if s.remote[identity] == rv { // not left meanwhile
		if hold {
			rv.hold(due, captured, pic)
		} else {
			rv.waiting = rv.waiting[:0] // this one is newer than any held
			rv.show(pic, time.Now())
		}
		rv.problem = ""
	}
	s.mu.Unlock()
	rv.failed = false
}

// hold keeps a copy of pic until due; under Screen.mu.
func (rv *remoteVideo) hold(due, captured time.Time, pic *image.YCbCr) {
	if len(rv.waiting) == maxWaiting { // show the oldest early rather than drop it
		rv.show(rv.waiting[0].pic, time.Now())
		rv.spare = append(rv.spare, rv.waiting[0].pic)
		rv.waiting = append(rv.waiting[:0], rv.waiting[1:]...)
	}
	var buf *image.YCbCr
	if n := len(rv.spare); n > 0 {
		buf, rv.spare = rv.spare[n-1], rv.spare[:n-1]
	}
	rv.waiting = append(rv.waiting, duePicture{due, captured, copyPicture(buf, pic)})
}

// show makes pic (copied) the tile's picture; under Screen.mu.
func (rv *remoteVideo) show(pic *image.YCbCr, now time.Time) {
	rv.picture = copyPicture(rv.picture, pic)
	rv.shownAt = now
	rv.shown++
}

// Shown is how many pictures of identity's camera the screen has shown
// since it came (decoded and made its tile's picture; a frame that did
// not decode is not one): pictures per second over a while is the frame
// rate people see.
func (s *Screen) Shown(identity string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rv := s.remote[identity]; rv != nil {
		return rv.shown
	}
	return 0
}

// reschedule asks showAt again when each held picture is due: the sound's
// delay moves (the jitter buffer grows at once when the network's jitter
// does), and a picture must follow the sound it goes with as it plays, not
// as it was going to when the picture was decoded. Under Screen.mu.
func (rv *remoteVideo) reschedule(identity string, showAt func(string, time.Time) (time.Time, bool)) {
	for i, w := range rv.waiting {
		if due, ok := showAt(identity, w.captured); ok && time.Until(due) < maxHold {
			rv.waiting[i].due = due
		}
	}
}

// release shows the newest held picture that is due by now; under Screen.mu.
func (rv *remoteVideo) release(now time.Time) {
	n := 0
	for n < len(rv.waiting) && !rv.waiting[n].due.After(now) {
		n++
	}
	if n == 0 {
		return
	}
	rv.show(rv.waiting[n-1].pic, now)
	for _, w := range rv.waiting[:n] {
		rv.spare = append(rv.spare, w.pic)
	}
	rv.waiting = append(rv.waiting[:0], rv.waiting[n:]...)
}

// setProblem shows problem where there is no picture to keep; the first error of a
// run is logged.
func (s *Screen) setProblem(identity string, rv *remoteVideo, problem string, err error) {
	if !rv.failed {
		s.log.Warn("cannot show a participant's video", "participant", identity, "err", err)
	}
	rv.failed = true
	s.mu.Lock()
	rv.problem = problem
	rv.errors++
	s.mu.Unlock()
}

// Run presents frames until ctx ends or the display fails.
func (s *Screen) Run(ctx context.Context) error {
	defer s.comp.Close()
	tick := time.NewTicker(time.Second / time.Duration(s.opts.FPS))
	defer tick.Stop()
	for {
		if err := s.DrawOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// DrawOnce composes and presents one frame.
func (s *Screen) DrawOnce(ctx context.Context) error {
	frame := s.r.BackBuffer()
	s.mu.Lock()
	scene := s.sceneLocked(time.Now())
	l := s.comp.Draw(frame, scene)
	sizes := map[string]image.Point{}
	for _, m := range s.members {
		sizes[m.Identity] = image.Point{} // no tile, unless one follows
	}
	for _, t := range l.Tiles {
		for _, p := range scene.Participants {
			if p.Identity == t.Identity && p.Picture != nil {
				sizes[t.Identity] = Fit(p.Picture.Rect.Size(), t.Rect).Size()
			} else if p.Identity == t.Identity {
				sizes[t.Identity] = t.Rect.Size()
			}
		}
	}
	changed := !maps.Equal(sizes, s.sizes)
	s.sizes = sizes
	waiters := s.capture
	s.capture = nil
	s.mu.Unlock()
	if len(waiters) > 0 {
		shot := display.NewFrame(frame.Width, frame.Height)
		for y := range frame.Height {
			copy(shot.Pix[y*shot.Stride:(y+1)*shot.Stride], frame.Pix[y*frame.Stride:])
		}
		for _, w := range waiters {
			w <- shot // buffered: never blocks
		}
	}
	if changed && s.opts.OnTileSizes != nil {
		s.opts.OnTileSizes(maps.Clone(sizes))
	}
	if s.opts.OnDrawn != nil {
		s.opts.OnDrawn(frame, l)
	}
	if err := s.r.Present(ctx); err != nil {
		return fmt.Errorf("show on the screen: %w", err)
	}
	return nil
}

func (s *Screen) sceneLocked(now time.Time) Scene {
	scene := Scene{Speaker: s.speaker, Status: s.status, Self: s.self}
	if s.card != nil && (s.cardEnd.IsZero() || now.Before(s.cardEnd)) {
		scene.Card = s.card
	}
	// A picture due within half a frame is shown in this one, so that on
	// average it is neither early nor late.
	halfFrame := time.Second / time.Duration(2*s.opts.FPS)
	for _, m := range s.members {
		p := s.participantLocked(m.Identity, m.Name, m.VideoCodec, now.Add(halfFrame), now)
		p.Muted = m.Muted
		scene.Participants = append(scene.Participants, p)
		if n := len(s.sharing); n > 0 && s.sharing[n-1] == m.Identity {
			c := s.participantLocked(ContentKey(m.Identity), m.Name, m.ContentCodec, now.Add(halfFrame), now)
			if c.Name == "" {
				c.Name = m.Identity
			}
			scene.Content = &c
		}
	}
	return scene
}

// participantLocked is what the video under key (a camera, or content)
// shows now: its picture, or why there is none. Held pictures due by
// release are let out first.
func (s *Screen) participantLocked(key, name, codec string, release, now time.Time) Participant {
	p := Participant{Identity: key, Name: name}
	rv := s.remote[key]
	if rv != nil {
		if s.opts.ShowAt != nil {
			rv.reschedule(key, s.opts.ShowAt)
		}
		rv.release(release)
	}
	switch {
	case codec == "":
		p.Problem = "no video"
	case codec != string(media.CodecH264) && codec != string(media.CodecVP8) && codec != string(media.CodecFWHT):
		// FWHT: no call carries it, but an m2m decoder (the lab's vicodec)
		// reads it, and the lab shows it through this screen.
		p.Problem = fmt.Sprintf("cannot show %s video", codec)
	case rv == nil:
		p.Problem = "waiting for video"
	case rv.picture != nil && now.Sub(rv.shownAt) > staleAfter:
		p.Problem = "video paused"
	default:
		p.Picture, p.Problem, p.Seq = rv.picture, rv.problem, rv.shown
	}
	return p
}

// Close frees the decoders; frames that come after it are dropped.
func (s *Screen) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.SetMembers(nil)
}

// copyPicture copies src into dst, reallocating dst when the size differs.
func copyPicture(dst, src *image.YCbCr) *image.YCbCr {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h || dst.SubsampleRatio != src.SubsampleRatio {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), src.SubsampleRatio)
	}
	for y := range h {
		copy(dst.Y[y*dst.YStride:y*dst.YStride+w], src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y+y):])
	}
	cw, ch := (w+1)/2, (h+1)/2
	if src.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		cw, ch = dst.CStride, len(dst.Cb)/max(1, dst.CStride)
	}
	for y := range ch {
		o := src.COffset(src.Rect.Min.X, src.Rect.Min.Y+2*y)
		if o >= len(src.Cb) || o >= len(src.Cr) {
			break
		}
		copy(dst.Cb[y*dst.CStride:y*dst.CStride+cw], src.Cb[o:])
		copy(dst.Cr[y*dst.CStride:y*dst.CStride+cw], src.Cr[o:])
	}
	return dst
}
