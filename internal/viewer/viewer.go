// Package viewer is a participant that only watches: it joins a room,
// decodes what the others send, reads the stamps the test pattern draws into
// each picture and keeps the sound. Tests, benchmarks and `callboxctl view`
// use it to see a call as a person would.
package viewer

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
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// Picture is what the viewer made of one received video frame.
type Picture struct {
	From    string
	Decoded time.Time
	// Stamp is the frame number and capture time read from the picture;
	// StampErr says why it could not be read (not a test pattern, damage).
	Stamp    camera.Stamp
	StampErr error
}

// Viewer collects what it received. Its methods are safe to call while it runs.
type Viewer struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every new picture
	pictures []Picture
	audio    []int16
	last     *image.YCbCr // a copy of the newest picture
	errs     []error
	decoders map[string]media.VideoDecoder
	opus     map[string]media.AudioDecoder
}

// Start joins the room described by opts and collects until ctx ends.
func Start(ctx context.Context, opts call.Options) (*Viewer, error) {
	v := &Viewer{
		changed:  make(chan struct{}),
		decoders: map[string]media.VideoDecoder{},
		opus:     map[string]media.AudioDecoder{},
	}
	w, err := call.Watch(opts, call.Handlers{Video: v.onVideo, Audio: v.onAudio})
	if err != nil {
		return nil, err
	}
	go func() {
		<-ctx.Done()
		w.Leave()
		v.mu.Lock()
		defer v.mu.Unlock()
		for _, d := range v.decoders {
			d.Close()
		}
		for _, d := range v.opus {
			d.Close()
		}
	}()
	return v, nil
}

func (v *Viewer) onVideo(f call.Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := f.From + "/" + string(f.Codec)
	dec, ok := v.decoders[key]
	if !ok {
		d, err := avcodec.NewVideoDecoder(string(f.Codec))
		if err != nil {
			v.errs = append(v.errs, err)
			return
		}
		dec, v.decoders[key] = d, d
	}
	pic, err := dec.Decode(f.Data)
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("decode %s from %s: %w", f.Codec, f.From, err))
		return
	}
	if pic == nil {
		return
	}
	p := Picture{From: f.From, Decoded: time.Now()}
	p.Stamp, p.StampErr = camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy())
	v.pictures = append(v.pictures, p)
	v.last = copyPicture(v.last, pic)
	close(v.changed)
	v.changed = make(chan struct{})
}

func (v *Viewer) onAudio(f call.Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	dec, ok := v.opus[f.From]
	if !ok {
		d, err := avcodec.NewOpusDecoder()
		if err != nil {
			v.errs = append(v.errs, err)
			return
		}
		dec, v.opus[f.From] = d, d
	}
	var pcm [avcodec.MaxOpusPacketSamples]int16
	n, err := dec.Decode(f.Data, pcm[:])
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("decode opus from %s: %w", f.From, err))
		return
	}
	v.audio = append(v.audio, pcm[:n]...)
	if len(v.audio) > 2*keptAudio {
		v.audio = append(v.audio[:0], v.audio[len(v.audio)-keptAudio:]...)
	}
}

// keptAudio is how much sound a viewer keeps: the newest 10 s.
const keptAudio = 10 * audio.SampleRate

// WaitPictures waits until n pictures with readable stamps have arrived.
func (v *Viewer) WaitPictures(ctx context.Context, n int) error {
	for {
		v.mu.Lock()
		got, changed := 0, v.changed
		for _, p := range v.pictures {
			if p.StampErr == nil {
				got++
			}
		}
		v.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d pictures arrived: %w", got, n, ctx.Err())
		case <-changed:
		}
	}
}

// Pictures returns what arrived so far.
func (v *Viewer) Pictures() []Picture {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Picture(nil), v.pictures...)
}

// Audio returns the sound received, at least the newest 10 s, 48 kHz mono.
func (v *Viewer) Audio() []int16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]int16(nil), v.audio...)
}

// Errors returns the decoding problems seen so far.
func (v *Viewer) Errors() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]error(nil), v.errs...)
}

// SavePNG writes the newest picture to path.
func (v *Viewer) SavePNG(path string) error {
	v.mu.Lock()
	pic := v.last
	v.last = nil // the file owns this copy now; the next picture makes a new one
	v.mu.Unlock()
	if pic == nil {
		return fmt.Errorf("no picture has arrived yet")
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
