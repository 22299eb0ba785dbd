package viewer

import (
	"fmt"
	"image"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/pipelinetest"
)

func TestCheckTone(t *testing.T) {
	tone := func(hz, amplitude float64) []int16 {
		s := make([]int16, audio.SampleRate)
		for i := range s {
			s[i] = int16(amplitude * 32767 * math.Sin(2*math.Pi*hz*float64(i)/audio.SampleRate))
		}
		return s
	}
	tests := []struct {
		name    string
		samples []int16
		wantErr string
	}{
		{"the tone", tone(1000, 0.5), ""},
		{"a little off", tone(1003, 0.5), ""},
		{"another tone", tone(440, 0.5), "440"},
		{"silence", make([]int16, audio.SampleRate), "silent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckTone(tt.samples, 1000, 5)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckTone() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckTone() = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}

// TestCheckSeesEachSendersPictures feeds the viewer coded pictures of the
// test pattern from two senders, as the call would: every picture goes
// through the viewer's check with the same sender's picture before it, and
// ReadStamp reads the frame numbers drawn into them.
func TestCheckSeesEachSendersPictures(t *testing.T) {
	const w, h = 320, 180
	var seen []string // "previous frame -> frame", as the check saw them
	v := newViewer(func(pic, previous *image.YCbCr) Mark {
		m := ReadStamp(pic, previous)
		before := "none"
		if previous != nil {
			stamp, _ := camera.ReadStamp(previous.Y, previous.YStride, w, h)
			before = fmt.Sprint(stamp.Frame)
		}
		seen = append(seen, fmt.Sprintf("%s -> %d", before, m.Stamp.Frame))
		return m
	})
	defer v.Leave()
	for _, coded := range pipelinetest.EncodedPattern(t, media.CodecH264, w, h, 3) {
		// The same pictures from two senders, each with a decoder of its own.
		for _, from := range []string{"ada", "bob"} {
			v.onVideo(call.Frame{From: from, Codec: media.CodecH264, Data: coded, Arrived: time.Now()})
		}
	}
	want := []string{"none -> 0", "none -> 0", "0 -> 1", "0 -> 1", "1 -> 2", "1 -> 2"}
	if !slices.Equal(seen, want) {
		t.Errorf("the check saw %q, want %q", seen, want)
	}
	pics := v.Pictures()
	if len(pics) != 6 || pics[5].From != "bob" || pics[5].Err != nil || pics[5].Stamp.Frame != 2 || pics[5].Width != w {
		t.Errorf("pictures %+v; want six, the last bob's frame 2 at %d wide", pics, w)
	}
	if errs := v.Errors(); len(errs) > 0 {
		t.Errorf("decoding errors: %v", errs)
	}
}

// TestFirstSoundAfter: the viewer tells when a sender's sound, not the
// silence a server sends in a gap, came after a moment.
func TestFirstSoundAfter(t *testing.T) {
	enc, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: 440, Amplitude: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer tone.Close()
	block := make([]int16, enc.FrameSamples())
	code := func(loud bool) []byte {
		clear(block)
		if loud {
			if err := tone.Read(t.Context(), block); err != nil {
				t.Fatal(err)
			}
		}
		data, err := enc.Encode(block)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	v := newViewer(ReadStamp)
	defer v.Leave()
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	// Sound, a gap of silence (whose first block still rings with the
	// decoder's overlap), sound again.
	for i, loud := range []bool{true, false, false, false, false, true, true} {
		v.onAudio(call.Frame{From: "box", Codec: media.CodecOpus, Data: code(loud), Arrived: at(20 * i)})
	}
	if got, ok := v.FirstSoundAfter("box", at(50)); !ok || !got.Equal(at(100)) {
		t.Errorf("first sound after the gap began: %v (%v), want %v", got, ok, at(100))
	}
	if _, ok := v.FirstSoundAfter("box", at(120)); ok {
		t.Errorf("sound after the last block, want none")
	}
	if _, ok := v.FirstSoundAfter("nobody", start); ok {
		t.Errorf("sound from a sender never heard, want none")
	}
}
