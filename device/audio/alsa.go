package audio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// CaptureOptions chooses an ALSA capture device.
type CaptureOptions struct {
	// Device is an ALSA hardware name: "hw:1,0", "hw:Loopback,1,0",
	// "hw:CARD=Loopback,DEV=1", a card name like "Loopback", or "default"
	// (also ""), the first card that has a capture device. "plughw:" is
	// read as "hw:": conversions other than channels are not done.
	Device string
	// Period is how much audio the device hands over at a time: 10 or 20 ms
	// (Opus frame sizes). Zero means 20 ms.
	Period time.Duration
	// Logger gets the rate-limited overrun warnings; nil means slog.Default().
	Logger *slog.Logger
}

// PlaybackOptions chooses an ALSA playback device; fields as in CaptureOptions.
type PlaybackOptions struct {
	Device string
	Period time.Duration
	Logger *slog.Logger
}

// Capture reads from an ALSA capture device. It implements Source.
type Capture struct{ s *stream }

// Playback writes to an ALSA playback device. It implements Sink.
type Playback struct{ s *stream }

var (
	_ Source = (*Capture)(nil)
	_ Sink   = (*Playback)(nil)
)

// OpenCapture opens and configures an ALSA capture device for 48 kHz mono
// S16_LE (downmixing if the device only offers more channels) and starts it.
func OpenCapture(ctx context.Context, opts CaptureOptions) (*Capture, error) {
	s, err := openStream(ctx, directionCapture, opts.Device, opts.Period, opts.Logger)
	if err != nil {
		return nil, err
	}
	return &Capture{s: s}, nil
}

// OpenPlayback opens and configures an ALSA playback device for 48 kHz
// mono S16_LE (duplicated onto every channel if the device has more).
func OpenPlayback(ctx context.Context, opts PlaybackOptions) (*Playback, error) {
	s, err := openStream(ctx, directionPlayback, opts.Device, opts.Period, opts.Logger)
	if err != nil {
		return nil, err
	}
	return &Playback{s: s}, nil
}

// Read fills buf with mono samples. Overruns (the reader fell behind and
// the device dropped audio) are counted, logged and recovered from.
func (c *Capture) Read(ctx context.Context, buf []int16) error { return c.s.read(ctx, buf) }

// Close stops the device; a Read in progress returns ErrClosed.
func (c *Capture) Close() error { return c.s.close() }

// Overruns is how many times the device overran since it was opened.
func (c *Capture) Overruns() uint64 { return c.s.xruns.Load() }

// Channels is how many channels the device delivers (downmixed to mono).
func (c *Capture) Channels() int { return c.s.channels }

// Write plays buf. Underruns (the writer fell behind and the device ran
// dry) are counted, logged and recovered from.
func (p *Playback) Write(ctx context.Context, buf []int16) error { return p.s.write(ctx, buf) }

// Close stops the device, dropping what is still buffered.
func (p *Playback) Close() error { return p.s.close() }

// Underruns is how many times the device ran dry since it was opened.
func (p *Playback) Underruns() uint64 { return p.s.xruns.Load() }

// Channels is how many channels the device plays (each gets the mono signal).
func (p *Playback) Channels() int { return p.s.channels }

type direction int

const (
	directionCapture direction = iota
	directionPlayback
)

func (d direction) String() string {
	if d == directionPlayback {
		return "playback"
	}
	return "capture"
}

// errXrun marks a transfer that failed because the device overran
// (capture) or underran (playback); the kernel says EPIPE.
var errXrun = errors.New("xrun")

// kindError reads as its own message and matches one of the package's
// sentinel errors with errors.Is, so that messages do not say "device
// busy" twice.
type kindError struct {
	kind error // ErrNotFound, ErrBusy, ErrUnsupportedFormat
	msg  string
	err  error // the cause, if any (an errno)
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }
func (e *kindError) Unwrap() error        { return e.err }

func errorOf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func isXrun(err error) bool {
	return errors.Is(err, errXrun) || errors.Is(err, syscall.EPIPE)
}

// pcm is the part of a kernel PCM device the stream logic needs, so that
// recovery can be driven by a fake in tests. Samples are interleaved.
type pcm interface {
	// readFrames reads at least one and at most len(p)/channels frames,
	// waiting until some are available or ctx ends.
	readFrames(ctx context.Context, p []int16) (int, error)
	// writeFrames writes at least one and at most len(p)/channels frames,
	// waiting until there is room or ctx ends.
	writeFrames(ctx context.Context, p []int16) (int, error)
	// prepare resets the device after an xrun, ready to start.
	prepare() error
	// start starts a prepared capture device.
	start() error
	// close releases the device; a transfer in progress returns ErrClosed.
	close() error
}

// deviceOffer is what a device can do, as the kernel reports it.
type deviceOffer struct {
	formats                  []string
	channelsMin, channelsMax int
	rateMin, rateMax         int
}

func (o deviceOffer) String() string {
	formats := "none"
	if len(o.formats) > 0 {
		formats = strings.Join(o.formats, ",")
	}
	return fmt.Sprintf("formats %s; channels %s; rates %s Hz",
		formats, span(o.channelsMin, o.channelsMax), span(o.rateMin, o.rateMax))
}

func span(lo, hi int) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// chooseChannels picks the channel count to open a device with: mono if
// it can, else the fewest it offers (we convert), after checking that it
// does S16_LE at 48 kHz.
func chooseChannels(o deviceOffer) (int, error) {
	hasS16 := false
	for _, f := range o.formats {
		if f == "S16_LE" {
			hasS16 = true
		}
	}
	if !hasS16 || o.rateMin > SampleRate || o.rateMax < SampleRate {
		return 0, errorOf(ErrUnsupportedFormat, "format not supported: need S16_LE at %d Hz, device offers %s", SampleRate, o)
	}
	if o.channelsMin < 1 || o.channelsMax < o.channelsMin {
		return 0, errorOf(ErrUnsupportedFormat, "format not supported: no usable channel count (device offers %s)", o)
	}
	return o.channelsMin, nil
}

func periodFrames(period time.Duration) (int, error) {
	switch period {
	case 0:
		period = 20 * time.Millisecond
	case 10 * time.Millisecond, 20 * time.Millisecond:
	default:
		return 0, fmt.Errorf("period %v: must be 10ms or 20ms", period)
	}
	return int(period * SampleRate / time.Second), nil
}

// openStream resolves, opens and configures a device.
func openStream(ctx context.Context, dir direction, device string, period time.Duration, logger *slog.Logger) (*stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	frames, err := periodFrames(period)
	if err != nil {
		return nil, fmt.Errorf("audio %s %q: %w", dir, device, err)
	}
	loc, err := defaultResolver.resolve(device, dir)
	if err != nil {
		return nil, fmt.Errorf("audio %s %q: %w", dir, device, err)
	}
	p, channels, err := openKernelPCM(loc, dir, frames)
	if err != nil {
		return nil, fmt.Errorf("audio %s %q (%s): %w", dir, device, loc.path, err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := newStream(dir, fmt.Sprintf("%s (%s)", device, loc.path), p, channels, frames, logger)
	if dir == directionCapture {
		if err := p.start(); err != nil {
			p.close()
			return nil, fmt.Errorf("audio %s %s: start: %w", dir, s.device, err)
		}
	}
	return s, nil
}

// xrunLogInterval is the least time between two overrun/underrun warnings,
// so that a reader stalled for minutes does not flood the log.
const xrunLogInterval = 5 * time.Second

// maxXrunsInARow bounds recoveries that move no audio at all: past it the
// device is broken rather than the reader slow.
const maxXrunsInARow = 8

// stream is the device-independent half of Capture and Playback: channel
// conversion and xrun recovery over a pcm.
type stream struct {
	dir      direction
	device   string // as named by the user, with its path, for errors and logs
	pcm      pcm
	channels int
	logger   *slog.Logger
	now      func() time.Time

	mu          sync.Mutex // one Read or Write at a time: it owns interleaved
	interleaved []int16    // one period of device samples, when channels > 1
	lastLog     time.Time  // guarded by mu
	unlogged    uint64     // xruns since the last warning; guarded by mu

	xruns     atomic.Uint64
	closeOnce sync.Once
	closeErr  error
}

func newStream(dir direction, device string, p pcm, channels, periodFrames int, logger *slog.Logger) *stream {
	s := &stream{dir: dir, device: device, pcm: p, channels: channels, logger: logger, now: time.Now}
	if channels > 1 {
		s.interleaved = make([]int16, periodFrames*channels)
	}
	return s
}

func (s *stream) read(ctx context.Context, buf []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inARow := 0
	for filled := 0; filled < len(buf); {
		want := buf[filled:]
		dst := want
		if s.channels > 1 {
			dst = s.interleaved[:min(len(want), len(s.interleaved)/s.channels)*s.channels]
		}
		n, err := s.pcm.readFrames(ctx, dst)
		if isXrun(err) {
			inARow++
			if err := s.recover(err, inARow); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return s.wrap("read", err)
		}
		inARow = 0
		if s.channels > 1 {
			downmix(want[:n], dst[:n*s.channels], s.channels)
		}
		filled += n
	}
	return nil
}

func (s *stream) write(ctx context.Context, buf []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inARow := 0
	for sent := 0; sent < len(buf); {
		chunk := buf[sent:]
		src := chunk
		if s.channels > 1 {
			chunk = chunk[:min(len(chunk), len(s.interleaved)/s.channels)]
			src = s.interleaved[:len(chunk)*s.channels]
			upmix(src, chunk, s.channels)
		}
		n, err := s.pcm.writeFrames(ctx, src)
		if isXrun(err) {
			inARow++
			if err := s.recover(err, inARow); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return s.wrap("write", err)
		}
		inARow = 0
		sent += n
	}
	return nil
}

// recover brings the device back after an xrun: count it, warn at most
// once per xrunLogInterval, prepare the device and (capture) restart it.
// Audio lost in the xrun stays lost; the stream goes on.
func (s *stream) recover(cause error, inARow int) error {
	total := s.xruns.Add(1)
	s.unlogged++
	if now := s.now(); s.lastLog.IsZero() || now.Sub(s.lastLog) >= xrunLogInterval {
		what := "overrun: reader too slow, audio dropped"
		if s.dir == directionPlayback {
			what = "underrun: writer too slow, gap in audio"
		}
		s.logger.Warn("audio "+what, "device", s.device, "count", s.unlogged, "total", total)
		s.lastLog = now
		s.unlogged = 0
	}
	if inARow > maxXrunsInARow {
		return s.wrap("recover", fmt.Errorf("%d xruns in a row without audio: %w", inARow, cause))
	}
	if err := s.pcm.prepare(); err != nil {
		return s.wrap("recover: prepare", err)
	}
	if s.dir == directionCapture {
		if err := s.pcm.start(); err != nil {
			return s.wrap("recover: start", err)
		}
	}
	return nil
}

func (s *stream) wrap(op string, err error) error {
	if errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("audio %s %s: %s: %w", s.dir, s.device, op, err)
}

func (s *stream) close() error {
	s.closeOnce.Do(func() { s.closeErr = s.pcm.close() })
	return s.closeErr
}

// downmix averages interleaved frames of channels samples into mono.
func downmix(mono, interleaved []int16, channels int) {
	for i := range mono {
		sum := 0
		for _, v := range interleaved[i*channels : (i+1)*channels] {
			sum += int(v)
		}
		mono[i] = int16(sum / channels)
	}
}

// upmix copies each mono sample onto every channel of an interleaved frame.
func upmix(interleaved, mono []int16, channels int) {
	for i, v := range mono {
		frame := interleaved[i*channels : (i+1)*channels]
		for c := range frame {
			frame[c] = v
		}
	}
}
