package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"sync"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// pictureInfo is what the viewer made of one decoded picture.
type pictureInfo struct {
	decoded       time.Time
	width, height int
	// barsErr says why the picture is not vivid's colour bars; nil if it is.
	barsErr error
	// changed counts the text pixels that differ from the sender's
	// previous picture (-1 for the first).
	changed int
}

// sender is what arrived from one remote identity.
type sender struct {
	video    media.VideoDecoder
	opus     media.AudioDecoder
	pictures []pictureInfo
	previous *image.YCbCr // a copy of the newest picture
	audio    []int16      // the newest keptAudio samples
	errs     []error
	// lastVideo and lastAudio are when a frame of each last arrived.
	lastVideo, lastAudio time.Time
}

const keptAudio = 4 * audio.SampleRate

// view watches the room: it decodes every sender's video and sound and
// keeps what the checks need.
type view struct {
	watcher *call.Watcher

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever something arrives
	senders map[string]*sender
}

func startView(opts call.Options) (*view, error) {
	v := &view{changed: make(chan struct{}), senders: map[string]*sender{}}
	w, err := call.Watch(opts, call.Handlers{Video: v.onVideo, Audio: v.onAudio})
	if err != nil {
		return nil, err
	}
	v.watcher = w
	return v, nil
}

func (v *view) leave() {
	v.watcher.Leave()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.senders {
		if s.video != nil {
			s.video.Close()
		}
		if s.opus != nil {
			s.opus.Close()
		}
	}
	v.senders = map[string]*sender{}
}

func (v *view) sender(identity string) *sender {
	s, ok := v.senders[identity]
	if !ok {
		s = &sender{}
		v.senders[identity] = s
	}
	return s
}

// notify wakes the waiters; v.mu is held.
func (v *view) notify() {
	close(v.changed)
	v.changed = make(chan struct{})
}

func (v *view) onVideo(f call.Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.sender(f.From)
	s.lastVideo = f.Arrived
	if s.video == nil {
		d, err := avcodec.NewVideoDecoder(string(f.Codec))
		if err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.video = d
	}
	pic, err := s.video.Decode(f.Data)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("decode %s: %w", f.Codec, err))
		return
	}
	if pic == nil {
		return
	}
	w, h := pic.Rect.Dx(), pic.Rect.Dy()
	info := pictureInfo{decoded: time.Now(), width: w, height: h, changed: -1}
	if w >= 64 && h >= 32 {
		info.barsErr = checkColourBars(pic.Y, pic.YStride, w, h)
	} else {
		info.barsErr = fmt.Errorf("a %dx%d picture is too small for colour bars", w, h)
	}
	if p := s.previous; p != nil && p.Rect == pic.Rect {
		info.changed = changedPixels(p.Y, pic.Y, min(p.YStride, pic.YStride), w, h)
	}
	s.previous = copyLuma(s.previous, pic)
	s.pictures = append(s.pictures, info)
	v.notify()
}

func (v *view) onAudio(f call.Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.sender(f.From)
	s.lastAudio = f.Arrived
	if s.opus == nil {
		d, err := avcodec.NewOpusDecoder()
		if err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.opus = d
	}
	var pcm [avcodec.MaxOpusPacketSamples]int16
	n, err := s.opus.Decode(f.Data, pcm[:])
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("decode opus: %w", err))
		return
	}
	s.audio = append(s.audio, pcm[:n]...)
	if len(s.audio) > 2*keptAudio {
		s.audio = append(s.audio[:0], s.audio[len(s.audio)-keptAudio:]...)
	}
	v.notify()
}

// since returns the pictures from identity decoded after t.
func (v *view) since(identity string, t time.Time) []pictureInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []pictureInfo
	if s, ok := v.senders[identity]; ok {
		for _, p := range s.pictures {
			if p.decoded.After(t) {
				out = append(out, p)
			}
		}
	}
	return out
}

// waitAdvancing waits for n pictures from identity decoded after since, each
// vivid's colour bars at videoWidth x videoHeight and each different from
// the one before. A wrong picture fails at once; too few in time fails
// saying how many came.
func (v *view) waitAdvancing(ctx context.Context, identity string, since time.Time, n int, timeout time.Duration) ([]pictureInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		v.mu.Lock()
		changed := v.changed
		var errs []error
		if s, ok := v.senders[identity]; ok {
			errs = s.errs
		}
		v.mu.Unlock()
		got := v.since(identity, since)
		for i, p := range got {
			if p.width != videoWidth || p.height != videoHeight {
				return nil, fmt.Errorf("picture %d from %s is %dx%d, want %dx%d", i, identity, p.width, p.height, videoWidth, videoHeight)
			}
			if p.barsErr != nil {
				return nil, fmt.Errorf("picture %d from %s: %w", i, identity, p.barsErr)
			}
			// The first one after since may follow a picture from before.
			if i > 0 && p.changed < minChanged {
				return nil, fmt.Errorf("picture %d from %s shows the same as the one before (%d pixels of vivid's time and frame count changed): the pictures do not advance", i, identity, p.changed)
			}
		}
		if len(got) >= n {
			return got[:n], nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d pictures from %s arrived in %s (decoding errors: %v)", len(got), n, identity, timeout, errs)
		case <-changed:
		}
	}
}

// waitTone waits until identity's newest second of sound is a tone of want
// Hz (within Hz), and returns the frequency found.
func (v *view) waitTone(ctx context.Context, identity string, want, within float64, timeout time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	const window = audio.SampleRate // one second
	lastErr := fmt.Errorf("no sound from %s", identity)
	for {
		v.mu.Lock()
		changed := v.changed
		var samples []int16
		if s, ok := v.senders[identity]; ok && len(s.audio) >= window {
			samples = append(samples, s.audio[len(s.audio)-window:]...)
		} else if ok {
			lastErr = fmt.Errorf("%d ms of sound from %s so far", len(s.audio)*1000/audio.SampleRate, identity)
		}
		v.mu.Unlock()
		if samples != nil {
			hz, err := checkTone(samples, want, within)
			if err == nil {
				return hz, nil
			}
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no %.0f Hz tone from %s in %s: %w", want, identity, timeout, lastErr)
		case <-changed:
		}
	}
}

// savePNG writes identity's newest picture (its luma) to path.
func (v *view) savePNG(identity, path string) error {
	v.mu.Lock()
	var pic *image.Gray
	if s, ok := v.senders[identity]; ok && s.previous != nil {
		p := s.previous
		pic = &image.Gray{Pix: append([]byte(nil), p.Y...), Stride: p.YStride, Rect: p.Rect}
	}
	v.mu.Unlock()
	if pic == nil {
		return fmt.Errorf("no picture from %s", identity)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, pic); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// copyLuma keeps the Y plane of src in dst (made or remade as needed); the
// checks look only at brightness.
func copyLuma(dst, src *image.YCbCr) *image.YCbCr {
	if dst == nil || dst.Rect != src.Rect || dst.YStride != src.YStride {
		dst = &image.YCbCr{Rect: src.Rect, YStride: src.YStride, SubsampleRatio: image.YCbCrSubsampleRatio420,
			Y: make([]byte, len(src.Y))}
	}
	copy(dst.Y, src.Y)
	return dst
}

// waitQuiet waits until nothing of kind ("video" or "audio") has arrived
// from identity for quiet, counting from the call; it fails if that does
// not happen within timeout. Silence has no event to wait for, so it looks
// every 100 ms.
func (v *view) waitQuiet(ctx context.Context, identity, kind string, quiet, timeout time.Duration) error {
	from := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		v.mu.Lock()
		last := from
		if s, ok := v.senders[identity]; ok {
			if t := map[string]time.Time{"video": s.lastVideo, "audio": s.lastAudio}[kind]; t.After(last) {
				last = t
			}
		}
		v.mu.Unlock()
		if time.Since(last) >= quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s from %s kept coming for %s (the last %s ago), want none for %s",
				kind, identity, timeout, time.Since(last).Round(time.Millisecond), quiet)
		case <-tick.C:
		}
	}
}
