// Package viewer is a participant that only watches: it joins a room,
// decodes what each other participant sends, looks at every picture with a
// Check (ReadStamp reads the stamp the test pattern draws; the lab brings
// its own for vivid's colour bars) and keeps the sound. Tests, benchmarks,
// `callboxctl view` and the lab's host side use it to see a call as a
// person would.
package viewer

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"sync"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// Check says what a decoded picture shows. previous is the same sender's
// picture before it, nil for its first. It runs on the viewer's receiving
// goroutine, for every picture: it should be quick.
type Check func(pic, previous *image.YCbCr) Mark

// Mark is what a Check made of one picture.
type Mark struct {
	// Stamp is the frame number and capture time the test pattern drew
	// (ReadStamp).
	Stamp camera.Stamp
	// Changed is, for a check that compares each picture with the one
	// before (pictures without a stamp), how much differs, in the check's
	// own measure; -1 when there is no picture before.
	Changed int
	// Err says why the picture is not what the check looks for: no
	// stamp, a damaged one, not the expected pattern.
	Err error
}

// ReadStamp is the Check for the test pattern: it reads the stamp
// (camera.ReadStamp).
func ReadStamp(pic, _ *image.YCbCr) Mark {
	var m Mark
	m.Stamp, m.Err = camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy())
	return m
}

// Picture is what the viewer made of one received video frame.
type Picture struct {
	From string
	// Content: the picture is of what From shares (its SCREEN_SHARE
	// track), decoded apart from its camera.
	Content       bool
	Decoded       time.Time
	Width, Height int
	Mark
}

// Viewer collects what it received. Its methods are safe to call while it
// runs.
type Viewer struct {
	check Check
	room  room // nil: fed by a test, not a room
	leave sync.Once

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever something arrives
	pictures []Picture
	senders  map[string]*sender
	errs     []error
	left     bool // after Leave: what still arrives is dropped
}

// sender is what arrived from one participant.
type sender struct {
	video    media.VideoDecoder
	codec    media.Codec // what video decodes
	opus     media.AudioDecoder
	previous *image.YCbCr // a copy of the newest picture
	// damaged: a frame did not decode, and what comes before the next
	// keyframe would decode into damaged pictures.
	damaged bool
	audio   []int16       // at least the newest keptAudio samples
	packets []AudioPacket // every packet of sound, as it arrived
	// lastVideo and lastAudio are when a frame of each last arrived.
	lastVideo, lastAudio time.Time
	// soundAt is when blocks of sound (not a server's silence) arrived, at
	// least the newest keptSoundTimes.
	soundAt []time.Time
}

// keptAudio is how much sound a viewer keeps of each sender: the newest 10 s.
const keptAudio = 10 * audio.SampleRate

// keptSoundTimes is how many arrival times of sound a viewer keeps of each
// sender at least: 10 s of 10 ms blocks, 20 s of 20 ms ones.
const keptSoundTimes = 1000

// silentRMS is the loudest block that is still silence (about -50 dBFS):
// what a server sends in a gap, or a muted microphone.
const silentRMS = 100

// Start joins the room described by opts and collects until Leave; check
// looks at every picture (ReadStamp for the test pattern).
func Start(opts call.Options, check Check) (*Viewer, error) {
	v := newViewer(check)
	w, err := call.Watch(opts, call.Handlers{Video: v.onVideo, Audio: v.onAudio})
	if err != nil {
		return nil, err
	}
	v.joined(w)
	return v, nil
}

// room is where a viewer's frames come from: a call.Watcher, or a
// participant's session (participant.go).
type room interface {
	Leave()
	RequestKeyframe(identity string)
	Encryption() call.EncryptionStatus
}

// joined notes the room the viewer's frames come from.
func (v *Viewer) joined(r room) {
	v.mu.Lock() // frames may come already
	v.room = r
	v.mu.Unlock()
}

func newViewer(check Check) *Viewer {
	return &Viewer{check: check, changed: make(chan struct{}), senders: map[string]*sender{}}
}

// Leave leaves the room and frees the decoders. What arrived stays to be
// read. It may be called more than once.
func (v *Viewer) Leave() {
	v.leave.Do(func() {
		v.mu.Lock()
		r := v.room
		v.mu.Unlock()
		if r != nil {
			r.Leave()
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		v.left = true
		for _, s := range v.senders {
			if s.video != nil {
				s.video.Close()
			}
			if s.opus != nil {
				s.opus.Close()
			}
			s.video, s.opus = nil, nil
		}
	})
}

// sender is identity's record; v.mu is held.
func (v *Viewer) sender(identity string) *sender {
	s, ok := v.senders[identity]
	if !ok {
		s = &sender{}
		v.senders[identity] = s
	}
	return s
}

// notify wakes the waiters; v.mu is held.
func (v *Viewer) notify() {
	close(v.changed)
	v.changed = make(chan struct{})
}

// ContentKey is the name a sender's shared content goes by (decoded apart
// from its camera; SavePNG saves it under this name): one no identity has.
func ContentKey(identity string) string { return identity + "\x00content" }

func (v *Viewer) onVideo(f call.Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.left {
		return
	}
	key := f.From
	if f.Content {
		key = ContentKey(f.From)
	}
	s := v.sender(key)
	s.lastVideo = f.Arrived
	if s.video == nil || s.codec != f.Codec {
		if s.video != nil {
			s.video.Close()
		}
		d, err := avcodec.NewVideoDecoder(string(f.Codec))
		if err != nil {
			s.video = nil
			v.errs = append(v.errs, fmt.Errorf("decode %s from %s: %w", f.Codec, f.From, err))
			return
		}
		s.video, s.codec = d, f.Codec
	}
	// After a frame that did not decode, skip to the next keyframe, as
	// the box's screen does, and ask for it.
	if s.damaged && !media.IsKeyframe(f.Codec, f.Data) {
		v.requestKeyframe(f.From)
		return
	}
	pic, err := s.video.Decode(f.Data)
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("decode %s from %s: %w", f.Codec, f.From, err))
		s.damaged = true
		v.requestKeyframe(f.From)
		return
	}
	s.damaged = false
	if pic == nil {
		return
	}
	v.pictures = append(v.pictures, Picture{From: f.From, Content: f.Content, Decoded: time.Now(),
		Width: pic.Rect.Dx(), Height: pic.Rect.Dy(), Mark: v.check(pic, s.previous)})
	s.previous = copyPicture(s.previous, pic)
	v.notify()
}

func (v *Viewer) onAudio(f call.Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.left {
		return
	}
	s := v.sender(f.From)
	s.lastAudio = f.Arrived
	s.packets = append(s.packets, AudioPacket{Seq: f.Seq, Timestamp: f.Timestamp, Arrived: f.Arrived,
		Duration: media.OpusDuration(f.Data), FEC: media.OpusHasFEC(f.Data)})
	if s.opus == nil {
		d, err := pipeline.NewOpusDecoder()
		if err != nil {
			v.errs = append(v.errs, fmt.Errorf("decode opus from %s: %w", f.From, err))
			return
		}
		s.opus = d
	}
	var pcm [pipeline.MaxOpusSamples]int16
	n, err := s.opus.Decode(f.Data, pcm[:])
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("decode opus from %s: %w", f.From, err))
		return
	}
	s.audio = append(s.audio, pcm[:n]...)
	if len(s.audio) > 2*keptAudio {
		s.audio = append(s.audio[:0], s.audio[len(s.audio)-keptAudio:]...)
	}
	if audio.RMS(pcm[:n]) > silentRMS {
		s.soundAt = append(s.soundAt, f.Arrived)
		if len(s.soundAt) > 2*keptSoundTimes {
			s.soundAt = append(s.soundAt[:0], s.soundAt[len(s.soundAt)-keptSoundTimes:]...)
		}
	}
	v.notify()
}

// requestKeyframe asks identity for a keyframe; v.mu is held.
func (v *Viewer) requestKeyframe(identity string) {
	if v.room != nil {
		v.room.RequestKeyframe(identity)
	}
}

// AudioPacket is one packet of sound as it arrived, before decoding.
type AudioPacket struct {
	Seq       uint16
	Timestamp uint32 // RTP, 48 kHz
	Arrived   time.Time
	Duration  time.Duration
	// FEC: it carries a copy of the packet before it (media.OpusHasFEC).
	FEC bool
}

// AudioPackets returns every packet of sound from identity so far.
func (v *Viewer) AudioPackets(identity string) []AudioPacket {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.senders[identity]; ok {
		return append([]AudioPacket(nil), s.packets...)
	}
	return nil
}

// Wait calls check now and again whenever a picture or sound arrives,
// until check says it is done or returns an error, which Wait returns.
// When ctx ends first, Wait returns ctx's error. check runs on the
// caller's goroutine and may call the viewer's other methods.
func (v *Viewer) Wait(ctx context.Context, check func() (done bool, err error)) error {
	for {
		v.mu.Lock()
		changed := v.changed
		v.mu.Unlock()
		if done, err := check(); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// WaitPictures waits until n pictures that pass the check have arrived.
func (v *Viewer) WaitPictures(ctx context.Context, n int) error {
	got := 0
	err := v.Wait(ctx, func() (bool, error) {
		got = 0
		for _, p := range v.Pictures() {
			if p.Err == nil {
				got++
			}
		}
		return got >= n, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d pictures arrived: %w", got, n, err)
	}
	return nil
}

// WaitTone waits until the newest second of identity's sound is a tone of
// hz (CheckTone), and returns the frequency found.
func (v *Viewer) WaitTone(ctx context.Context, identity string, hz, within float64) (float64, error) {
	const window = audio.SampleRate // one second
	var found float64
	why := fmt.Errorf("no sound from %s", identity)
	err := v.Wait(ctx, func() (bool, error) {
		sound := v.Audio(identity)
		if len(sound) < window {
			if len(sound) > 0 {
				why = fmt.Errorf("%d ms of sound from %s so far", len(sound)*1000/audio.SampleRate, identity)
			}
			return false, nil
		}
		var err error
		found, err = CheckTone(sound[len(sound)-window:], hz, within)
		if err != nil {
			why = err
		}
		return err == nil, nil
	})
	if err != nil {
		return found, fmt.Errorf("no %.0f Hz tone from %s: %w (%w)", hz, identity, why, err)
	}
	return found, nil
}

// CheckTone says whether samples (48 kHz) are a tone of hz, within the
// given Hz, and not nearly silent; it returns the loudest frequency.
func CheckTone(samples []int16, hz, within float64) (float64, error) {
	if rms := audio.RMS(samples); rms < 1000 {
		return 0, fmt.Errorf("the sound is nearly silent (RMS %.0f)", rms)
	}
	found := audio.DominantFrequency(samples, audio.SampleRate)
	if math.Abs(found-hz) > within {
		return found, fmt.Errorf("the loudest frequency is %.1f Hz, want %.0f ± %.0f Hz", found, hz, within)
	}
	return found, nil
}

// Pictures returns what arrived so far, from everyone, in order.
func (v *Viewer) Pictures() []Picture {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Picture(nil), v.pictures...)
}

// Audio returns the sound received from identity, at least the newest
// 10 s, 48 kHz mono.
func (v *Viewer) Audio(identity string) []int16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.senders[identity]; ok {
		return append([]int16(nil), s.audio...)
	}
	return nil
}

// LastArrived is when identity's last video and sound frames arrived
// (zero for none).
func (v *Viewer) LastArrived(identity string) (video, sound time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.senders[identity]; ok {
		return s.lastVideo, s.lastAudio
	}
	return time.Time{}, time.Time{}
}

// FirstSoundAfter is when the first block of identity's sound (not
// silence) arrived after t, among the newest 1000 blocks; ok is false when
// none has.
func (v *Viewer) FirstSoundAfter(identity string, t time.Time) (at time.Time, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, found := v.senders[identity]; found {
		for _, at := range s.soundAt {
			if at.After(t) {
				return at, true
			}
		}
	}
	return time.Time{}, false
}

// Encryption is how the call's media reaches the viewer encrypted, and,
// with per-member keys, the members' check it sees.
func (v *Viewer) Encryption() call.EncryptionStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.room.Encryption()
}

// Errors returns the decoding problems seen so far.
func (v *Viewer) Errors() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]error(nil), v.errs...)
}

// SavePNG writes identity's newest picture to path.
func (v *Viewer) SavePNG(identity, path string) error {
	v.mu.Lock()
	var pic *image.YCbCr
	if s, ok := v.senders[identity]; ok && s.previous != nil {
		pic = copyPicture(nil, s.previous) // encoded outside the lock
	}
	v.mu.Unlock()
	if pic == nil {
		return fmt.Errorf("no picture from %s has arrived yet", identity)
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

// copyPicture copies src into dst, or into a new picture when dst is nil
// or of another size.
func copyPicture(dst, src *image.YCbCr) *image.YCbCr {
	if dst == nil || dst.Rect != src.Rect {
		dst = image.NewYCbCr(src.Rect, image.YCbCrSubsampleRatio420)
	}
	h := src.Rect.Dy()
	for y := range h {
		copy(dst.Y[y*dst.YStride:(y+1)*dst.YStride], src.Y[y*src.YStride:])
	}
	for y := range (h + 1) / 2 {
		copy(dst.Cb[y*dst.CStride:(y+1)*dst.CStride], src.Cb[y*src.CStride:])
		copy(dst.Cr[y*dst.CStride:(y+1)*dst.CStride], src.Cr[y*src.CStride:])
	}
	return dst
}
