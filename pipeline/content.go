package pipeline

// Shared content from a capture input whose signal comes and goes (an
// HDMI input): the share starts when a signal appears, or when asked;
// stops when the signal goes, or when asked; and when the signal's
// timings change (a laptop changing resolution) the encoders start again
// at the new size while the share, and the call, go on.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
)

// ContentLayers is how many simulcast layers content is sent in, where
// its size allows: the full size and its half, for a phone.
const ContentLayers = 2

// ContentSenderOptions are a VideoSender's options for content sent at
// fps, at most bitsPerSecond: content's x264 tuning, ContentLayers, and a
// keyframe every 10 s (content is still, and a receiver that lost one
// asks for another).
func ContentSenderOptions(codec media.Codec, bitsPerSecond, fps int, mode config.EncoderMode, log *slog.Logger) VideoSenderOptions {
	return VideoSenderOptions{Codec: codec, BitsPerSecond: bitsPerSecond, KeyframeInterval: 10 * fps,
		Layers: ContentLayers, Mode: mode, Content: true, Logger: log}
}

// ContentInput is an input whose signal comes and goes. v4l2.HDMIInput is
// one; tests give fakes.
type ContentInput interface {
	// Signal is the input's picture now: its size and rate, or an error
	// wrapping camera.ErrNoSignal when there is none.
	Signal() (camera.Format, error)
	// WaitChange returns when the signal changed (it came, went, or its
	// timings changed), or with an error when the input cannot say.
	WaitChange(ctx context.Context) error
	// Open streams the input at sig, a format Signal returned.
	Open(ctx context.Context, sig camera.Format) (camera.Source, error)
}

// ContentOptions say where shared content comes from and where it goes.
type ContentOptions struct {
	Input ContentInput
	// FPS is the most pictures a second sent; an input's faster signal
	// is thinned (AtMostFPS).
	FPS int
	// Publish starts the share in the call at a size; Unpublish ends it.
	// Both are called from Run's goroutine only.
	Publish   func(width, height int) error
	Unpublish func()
	// Send codes src's pictures and sends them until ctx ends or a part
	// fails: a content VideoSender's Send, wired to the call.
	Send func(ctx context.Context, src camera.Source) error
	// Changed is told the share's state after each change; nil tells nobody.
	Changed func(ContentStatus)
	Logger  *slog.Logger
}

// ContentStatus is how the share stands, for the screen and the status page.
type ContentStatus struct {
	Sharing bool
	// Width, Height and FPS are the input's timing being shared, while
	// Sharing (what the input gives; FPS is not the rate sent).
	Width, Height, FPS int
	// NoSignal: the input had no signal when last looked at.
	NoSignal bool
	// Stopped: Stop was asked, and neither Start nor a new signal since.
	Stopped bool
	// Line says what happened last, in a few words for the screen:
	// "sharing the HDMI input 1920x1080", "HDMI input: no signal, share
	// stopped"; "" before anything happened.
	Line string
}

// ContentShare runs the share of one input: Run owns it; Start and Stop
// ask it from any goroutine.
type ContentShare struct {
	opts     ContentOptions
	log      *slog.Logger
	requests chan contentRequest

	mu     sync.Mutex
	status ContentStatus // guarded by mu
}

type contentRequest struct {
	start bool
	done  chan error
}

// NewContentShare makes a share; nothing happens until Run.
func NewContentShare(opts ContentOptions) *ContentShare {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &ContentShare{opts: opts, log: log, requests: make(chan contentRequest)}
}

// Status is how the share stands now.
func (c *ContentShare) Status() ContentStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Start shares the input now, also after Stop; it fails, wrapping
// camera.ErrNoSignal, when the input has no signal.
func (c *ContentShare) Start(ctx context.Context) error { return c.ask(ctx, true) }

// Stop ends the share; it starts again with Start, or when the signal
// goes and comes back (a cable plugged in again).
func (c *ContentShare) Stop(ctx context.Context) error { return c.ask(ctx, false) }

func (c *ContentShare) ask(ctx context.Context, start bool) error {
	req := contentRequest{start: start, done: make(chan error, 1)}
	select {
	case c.requests <- req:
	case <-ctx.Done():
		return fmt.Errorf("the content share does not run: %w", ctx.Err())
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryContent is the wait before the encoders start again after the
// input's stream failed with the signal still there.
const retryContent = time.Second

// Run follows the input until ctx ends, sharing while there is a signal
// and nobody said Stop; it returns when the input can no longer say what
// its signal is, after ending the share.
func (c *ContentShare) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel() // the watch ends, also when Run returns for the input's error
		wg.Wait()
	}()
	changes := make(chan error, 1)
	wg.Go(func() { c.watch(ctx, changes) })

	r := contentRun{c: c}
	defer r.end("")
	var retry <-chan time.Time // set while a failed start waits before the next
	for {
		sig, err := c.opts.Input.Signal()
		switch {
		case err == nil:
			r.noteInput(false)
			if r.stoppedByUser || retry != nil {
				break
			}
			if err := r.share(ctx, sig); err != nil {
				c.log.Warn("content share does not start; trying again", "err", err, "retry_in", retryContent)
				r.end(fmt.Sprintf("content: %v", err))
				retry = time.After(retryContent)
			}
		case errors.Is(err, camera.ErrNoSignal):
			r.stoppedByUser = false // the next signal is a new share
			r.noteInput(true)
			if r.published {
				r.end("content input: no signal, share stopped")
			}
		default:
			return fmt.Errorf("content input: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-changes:
			if err != nil {
				return fmt.Errorf("content input: %w", err)
			}
		case err := <-r.failed:
			// The stream failed with the signal still there (or going:
			// the input's change says so next): the encoders start
			// again after a while, the share goes on meanwhile.
			r.stopSending()
			c.log.Warn("content input stopped; starting it again", "err", err, "retry_in", retryContent)
			retry = time.After(retryContent)
		case <-retry:
			retry = nil
		case req := <-c.requests:
			retry = nil
			req.done <- r.request(ctx, req.start)
		}
	}
}

// watch passes each change of the input's signal to changes until ctx
// ends or the input fails, which it passes too.
func (c *ContentShare) watch(ctx context.Context, changes chan<- error) {
	for {
		err := c.opts.Input.WaitChange(ctx)
		if ctx.Err() != nil {
			return
		}
		select {
		case changes <- err:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// setStatus says what the share did (its Line, and what it shares), keeping
// what the run knows of the input (NoSignal, Stopped).
func (c *ContentShare) setStatus(st ContentStatus) {
	c.update(func(old *ContentStatus) {
		st.NoSignal, st.Stopped = old.NoSignal, old.Stopped
		*old = st
	})
}

// update changes the status with change, and tells opts.Changed if it did.
func (c *ContentShare) update(change func(*ContentStatus)) {
	c.mu.Lock()
	st := c.status
	change(&c.status)
	changed := st != c.status
	st = c.status
	c.mu.Unlock()
	if changed && c.opts.Changed != nil {
		c.opts.Changed(st)
	}
}

// noteInput records whether the input has a signal and whether the share
// was stopped by hand, for the status page.
func (r *contentRun) noteInput(noSignal bool) {
	r.c.update(func(st *ContentStatus) { st.NoSignal, st.Stopped = noSignal, r.stoppedByUser })
}

// contentRun is the state of one Run, owned by its goroutine.
type contentRun struct {
	c             *ContentShare
	published     bool          // the call carries the share
	format        camera.Format // the signal the encoders were opened for
	stopSend      func()        // ends the sending and waits for it; nil while none runs
	failed        chan error    // the sending's error, when it stops on its own
	stoppedByUser bool          // Stop was asked: no share until Start or a new signal
}

// share makes the call carry the input at sig: it publishes the share if
// it is not yet, and (re)starts the encoders if they run at another size.
func (r *contentRun) share(ctx context.Context, sig camera.Format) error {
	if r.stopSend != nil && r.format == sig {
		return nil
	}
	if r.stopSend != nil {
		r.c.log.Info("content input's timings changed; the encoders start again at the new size",
			"was", r.format.String(), "now", sig.String())
		r.stopSending()
	}
	if sig.Width > 0 && sig.Height > 0 && !r.published {
		if err := r.c.opts.Publish(sig.Width, sig.Height); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		r.published = true
	}
	src, err := r.c.opts.Input.Open(ctx, sig)
	if err != nil {
		return err
	}
	r.format = sig
	fps := r.c.opts.FPS
	r.c.log.Info("sharing content", "signal", sig.String(), "fps", fps)
	r.c.setStatus(ContentStatus{Sharing: true, Width: sig.Width, Height: sig.Height, FPS: sig.FPS,
		Line: fmt.Sprintf("sharing the content input, %dx%d", sig.Width, sig.Height)})
	sendCtx, cancel := context.WithCancel(ctx)
	failed := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer src.Close()
		err := r.c.opts.Send(sendCtx, AtMostFPS(src, fps))
		if sendCtx.Err() == nil {
			if err == nil {
				err = errors.New("stopped")
			}
			failed <- err
		}
	}()
	r.failed = failed
	r.stopSend = func() { cancel(); <-done }
	return nil
}

func (r *contentRun) stopSending() {
	if r.stopSend != nil {
		r.stopSend()
		r.stopSend, r.failed, r.format = nil, nil, camera.Format{}
	}
}

// end ends the share, saying why in line.
func (r *contentRun) end(line string) {
	r.stopSending()
	if line != "" {
		r.c.log.Info(line)
	}
	r.c.setStatus(ContentStatus{Line: line})
	if r.published {
		r.c.opts.Unpublish()
		r.published = false
	}
}

// request carries out Start (start) or Stop.
func (r *contentRun) request(ctx context.Context, start bool) error {
	if !start {
		r.stoppedByUser = true
		if r.published {
			r.end("content share stopped")
		}
		r.noteInput(r.c.Status().NoSignal)
		return nil
	}
	r.stoppedByUser = false
	sig, err := r.c.opts.Input.Signal()
	r.noteInput(errors.Is(err, camera.ErrNoSignal))
	if err != nil {
		return fmt.Errorf("content input: %w", err)
	}
	return r.share(ctx, sig)
}

// AtMostFPS hands out src's pictures at most fps a second, dropping those
// that come sooner: an HDMI input's 60 Hz is content's 5 fps. Its Format
// says fps when src's is faster.
func AtMostFPS(src camera.Source, fps int) camera.Source {
	if fps <= 0 || src.Format().FPS > 0 && src.Format().FPS <= fps {
		return src
	}
	a := &atMostFPS{Source: src, every: time.Second / time.Duration(fps), fps: fps}
	// A picture a little early is on time (capture times jitter), but
	// never one a whole picture of src early.
	a.slack = a.every / 8
	if in := src.Format().FPS; in > 0 {
		a.slack = min(a.slack, time.Second/time.Duration(2*in))
	}
	return a
}

type atMostFPS struct {
	camera.Source
	every, slack time.Duration
	fps          int
	next         time.Time // when the next picture kept is due
}

func (a *atMostFPS) Format() camera.Format {
	f := a.Source.Format()
	f.FPS = a.fps
	return f
}

func (a *atMostFPS) ReadFrame(ctx context.Context) (camera.Frame, error) {
	for {
		f, err := a.Source.ReadFrame(ctx)
		if err != nil {
			return f, err
		}
		if f.Time.Before(a.next.Add(-a.slack)) {
			continue
		}
		// Kept on the grid of every, so that 60 Hz thinned to 5 fps keeps
		// every twelfth, not every thirteenth, picture.
		a.next = a.next.Add(a.every)
		if a.next.Before(f.Time) {
			a.next = f.Time.Add(a.every)
		}
		f.Format.FPS = a.fps
		return f, nil
	}
}
