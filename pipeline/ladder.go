package pipeline

// The picture's size follows the network: without simulcast the box sends
// one stream, and when the call's bitrate falls too low for the camera's
// full size it sends a half or a quarter of it instead, at the same frame
// rate (faces want motion more than detail), made by the simulcast
// machinery's scaling, with an encoder per size; back up once the bitrate
// has been high enough for a while. A size's encoder is opened when the
// size is first sent and closed once it has sent nothing for
// ladderIdleClose: a call on a good network holds the camera size's
// encoder alone (x264's buffers for 360p and 180p are some megabytes).
//
// The camera's own size is coded at a constant quality up to the bitrate
// (VideoSettings.Capped), so an easy picture sends less than the call's
// estimate allows; and the estimate (gcc's) grows to at most 1.5 times
// what arrives. A low estimate then says the picture is easy, not that the
// network is short: the size goes down only when the estimate is near what
// the size sends or under it. And a picture seen to need less than
// ladderDown's bitrate goes down only under ladderNeedsShare of what it
// needed: gcc's cut to 0.85 of what arrived (a queue, or a busy machine's
// timing) leaves an easy 720p picture at 720p.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// Bits per pixel of each frame at which the picture changes size: below
// ladderDown for ladderDownAfter (or at once below half of it) it halves
// (720p30 under 550 kbit/s, 360p under 140), above ladderUp for the size
// above (720p30: 970 kbit/s, 360p: 240) for ladderUpAfter it goes back
// up. The wait down lets a short cut, while a queue on the uplink empties
// (call's congestion control), pass without the keyframe of a new size.
const (
	ladderDown      = 0.02
	ladderDownAfter = time.Second
	ladderUp        = 0.035
	ladderUpAfter   = 3 * time.Second
	// ladderHeadroom is how far over what the size sends the estimate is
	// when the picture, not the network, sets the rate: gcc's 1.5 when it
	// is, about 0.85 after it found a queue.
	ladderHeadroom = 1.25
	// ladderNeedsShare of what the size's picture needed (sent while
	// picture limited) is the least bitrate it keeps its size at.
	ladderNeedsShare = 0.7
	// ladderIdleClose is how long a size's encoder stays open once the
	// stream has left that size: long enough for a size left for a short
	// while (the network's dip, ladderUpAfter) to come back to it without
	// opening it again.
	ladderIdleClose = 20 * time.Second
)

// ladder is the sizes one stream may take, largest first (the camera's
// own, then halves: PlanSimulcast's sizes), an encoder each while it is
// used, and which one is sent.
type ladder struct {
	plan []LayerSpec
	// open opens size i's encoder.
	open func(i int) (media.VideoEncoder, error)
	fps  int
	log  *slog.Logger
	// idleClose is ladderIdleClose (tests shorten it).
	idleClose time.Duration
	// lastCoded is when each size last coded a picture, or was opened;
	// used by send's goroutine only.
	lastCoded []time.Time

	mu sync.Mutex // guards what follows
	// encoders are the sizes' encoders, nil while closed; set by send's
	// goroutine.
	encoders []media.VideoEncoder
	rung     int  // the index of the size sent
	keyframe bool // the next frame sent must be a keyframe
	bitrate  int
	upSince  time.Time // since when the bitrate would allow the size above; zero when not
	// downSince is since when the bitrate has been under the size's
	// ladderDown; zero when not.
	downSince time.Time
	// sent holds the bytes of the size's last second of pictures.
	sent frameWindow
	// needs is what the size sent when it last sent less than it might
	// (pictureLimited), bits per second; 0 when not seen yet.
	needs int
}

// newLadder makes the ladder of plan's sizes, opening the first size's
// encoder (open) at once and the others when first sent. Close closes
// what is open.
func newLadder(plan []LayerSpec, fps int, bitrate int, open func(i int) (media.VideoEncoder, error), log *slog.Logger) (*ladder, error) {
	l := &ladder{plan: plan, open: open, fps: max(fps, 1), log: log, idleClose: ladderIdleClose,
		lastCoded: make([]time.Time, len(plan)), encoders: make([]media.VideoEncoder, len(plan))}
	l.sent = frameWindow{sizes: make([]int, l.fps)}
	l.setBitrate(bitrate, time.Now())
	if _, err := l.encoder(0, time.Now()); err != nil {
		return nil, err
	}
	return l, nil
}

// encoder is size i's encoder, opened (at the stream's bitrate) if it is
// closed. Called from send's goroutine.
func (l *ladder) encoder(i int, now time.Time) (media.VideoEncoder, error) {
	l.mu.Lock()
	enc := l.encoders[i]
	l.mu.Unlock()
	if enc != nil {
		return enc, nil
	}
	enc, err := l.open(i) // a few milliseconds: not under the lock
	if err != nil {
		return nil, fmt.Errorf("video at %s: %w", l.size(i), err)
	}
	l.mu.Lock()
	enc.SetBitrate(l.bitrate)
	l.encoders[i] = enc
	l.mu.Unlock()
	l.lastCoded[i] = now
	l.log.Debug("video encoder opened", "size", l.size(i))
	return enc, nil
}

// closeIdle closes the encoders of sizes other than rung that coded
// nothing for idleClose. Called from send's goroutine.
func (l *ladder) closeIdle(rung int, now time.Time) error {
	var errs []error
	for i := range l.plan {
		if i == rung || now.Sub(l.lastCoded[i]) < l.idleClose {
			continue
		}
		l.mu.Lock()
		enc := l.encoders[i]
		l.encoders[i] = nil
		l.mu.Unlock()
		if enc != nil {
			l.log.Debug("video encoder closed, unused", "size", l.size(i))
			errs = append(errs, enc.Close())
		}
	}
	return errors.Join(errs...)
}

// Close closes the encoders that are open; once send has returned.
func (l *ladder) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for i, enc := range l.encoders {
		if enc != nil {
			errs = append(errs, enc.Close())
			l.encoders[i] = nil
		}
	}
	return errors.Join(errs...)
}

// frameWindow sums the sizes of the last len(sizes) coded pictures.
type frameWindow struct {
	sizes     []int
	next, sum int
	full      bool // len(sizes) pictures were added since the last reset
}

func (w *frameWindow) add(bytes int) {
	w.sum += bytes - w.sizes[w.next]
	w.sizes[w.next] = bytes
	w.next = (w.next + 1) % len(w.sizes)
	w.full = w.full || w.next == 0
}

func (w *frameWindow) reset() {
	clear(w.sizes)
	w.next, w.sum, w.full = 0, 0, false
}

// coded counts a picture of the given size coded at rung (one coded just
// before the size changed is not the new size's).
func (l *ladder) coded(rung, bytes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rung == l.rung {
		l.sent.add(bytes)
	}
}

// pictureLimited says whether the size sends well under bits (a second of
// its pictures known): its picture, not the network, holds it back.
func (l *ladder) pictureLimited(bits int) bool {
	return l.sent.full && float64(bits) >= ladderHeadroom*float64(l.sentBits())
}

// sentBits is what the size sent in its last second, bits per second.
func (l *ladder) sentBits() int { return l.sent.sum * 8 * l.fps / len(l.sent.sizes) }

// downAt is the bitrate under which the size sent goes down (ladderDown's,
// or less for a picture seen to need less).
func (l *ladder) downAt() int {
	at := l.threshold(l.rung, ladderDown)
	if l.needs > 0 {
		at = min(at, int(ladderNeedsShare*float64(l.needs)))
	}
	return at
}

// threshold is the bitrate at which pictures of layer i carry bpp bits
// per pixel.
func (l *ladder) threshold(i int, bpp float64) int {
	return int(bpp * float64(l.plan[i].Width*l.plan[i].Height*l.fps))
}

// setBitrate takes the stream's bitrate: it goes to every open size's
// encoder (one opened later starts at it), and chooses the size. Safe
// from any goroutine.
func (l *ladder) setBitrate(bits int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bitrate = bits
	for _, enc := range l.encoders {
		if enc != nil {
			enc.SetBitrate(bits)
		}
	}
	rung := l.rung
	limited := l.pictureLimited(bits)
	if limited {
		l.needs = l.sentBits()
	}
	if down := l.downAt(); rung < len(l.plan)-1 && bits < down && !limited {
		if l.downSince.IsZero() {
			l.downSince = now
		}
		if now.Sub(l.downSince) >= ladderDownAfter || bits < down/2 {
			rung++ // and the sizes below, as ladderDown has it
			for rung < len(l.plan)-1 && bits < l.threshold(rung, ladderDown) {
				rung++
			}
		}
	} else {
		l.downSince = time.Time{}
	}
	switch {
	case rung != l.rung:
		l.upSince = time.Time{}
	case rung > 0 && bits >= l.threshold(rung-1, ladderUp):
		if l.upSince.IsZero() {
			l.upSince = now
		}
		if now.Sub(l.upSince) >= ladderUpAfter {
			rung--
			l.upSince = time.Time{}
		}
	default:
		l.upSince = time.Time{}
	}
	if rung != l.rung {
		l.downSince = time.Time{}
		l.log.Info("video size follows the network", "from", l.size(l.rung), "to", l.size(rung), "kbps", bits/1000)
		l.rung, l.keyframe = rung, true
		l.sent.reset()
		l.needs = 0
	}
}

func (l *ladder) size(i int) string {
	return fmt.Sprintf("%dx%d", l.plan[i].Width, l.plan[i].Height)
}

// forceKeyFrame makes the next frame sent a keyframe.
func (l *ladder) forceKeyFrame() {
	l.mu.Lock()
	l.keyframe = true
	l.mu.Unlock()
}

// current is the size to send this frame, and whether it must be a keyframe.
func (l *ladder) current() (rung int, keyframe bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rung, keyframe = l.rung, l.keyframe
	l.keyframe = false
	return rung, keyframe
}

// send is the send path of a ladder: it reads each frame from src, makes
// the picture of the size sent (scaled down size by size, as simulcast
// does), codes it with that size's encoder (opened if closed) and hands
// it to out, until ctx ends or a part fails; sizes unused for idleClose
// have their encoders closed. A change of size starts with a keyframe.
func (l *ladder) send(ctx context.Context, src camera.Source, out func(media.EncodedFrame) error) error {
	p := newSimulcastPictures(len(l.plan))
	defer p.close()
	var rung int
	send := func(f media.EncodedFrame) error {
		l.coded(rung, len(f.Data))
		return out(f)
	}
	for {
		f, err := src.ReadFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var keyframe bool
		rung, keyframe = l.current()
		now := time.Now()
		enc, err := l.encoder(rung, now)
		if err != nil {
			return err
		}
		if err := l.closeIdle(rung, now); err != nil {
			return fmt.Errorf("close an unused video encoder: %w", err)
		}
		for i := 0; i <= rung; i++ {
			// A size above the one sent is a step on the way: its picture
			// as the scaler gives it, whatever its encoder (if open) takes.
			layer := SimulcastLayer{Width: l.plan[i].Width, Height: l.plan[i].Height}
			if i == rung {
				layer.Encoder = enc
			}
			if f, err = p.picture(i, layer, f); err != nil {
				return fmt.Errorf("video at %s: %w", l.size(i), err)
			}
		}
		if keyframe {
			enc.ForceKeyFrame()
		}
		if err := encodeAndSend(enc, f, send); err != nil {
			return err
		}
		l.lastCoded[rung] = now
	}
}
