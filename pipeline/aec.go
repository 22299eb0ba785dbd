package pipeline

// The microphone hears the speaker. speexdsp's echo canceller (an adaptive
// MDF filter) subtracts what it learns of the speaker-to-microphone path
// from the microphone, given what was played; its preprocessor then
// suppresses the echo that is left, removes steady noise and evens out the
// level (AGC).

/*
#cgo pkg-config: speexdsp
#include <stdlib.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

static int cbx_preprocess_set(SpeexPreprocessState *st, int request, int value) {
	return speex_preprocess_ctl(st, request, &value);
}
static int cbx_preprocess_set_echo(SpeexPreprocessState *st, SpeexEchoState *echo) {
	return speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_ECHO_STATE, echo);
}
static int cbx_echo_set_rate(SpeexEchoState *st, int rate) {
	return speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
}
*/
import "C"

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/callbox/callbox/device/audio"
)

// EchoOptions configure an EchoCanceller.
type EchoOptions struct {
	// Frame is the block length processed at a time; default 20 ms (10 ms
	// frames converge far more slowly at 48 kHz). The output lags the input
	// by one frame.
	Frame time.Duration
	// Tail is the longest echo path (speaker, room, microphone, plus the
	// delay between playing and capturing) the filter learns; default
	// 250 ms. Longer tails converge more slowly.
	Tail time.Duration
	// NoiseSuppression and AGC turn on the preprocessor's noise suppressor
	// and automatic gain control.
	NoiseSuppression, AGC bool
	// AGCMaxGain is the most the AGC amplifies, in dB; default 6. Higher
	// gains lift the echo left over as much as the voice.
	AGCMaxGain int
}

// EchoCanceller removes the speaker's sound from the microphone's. It has
// two ways in: Process for a caller that holds both signals aligned, and
// Playback plus Capture for a player and a microphone on two goroutines.
type EchoCanceller struct {
	frame int

	mu   sync.Mutex // speexdsp states are not safe for concurrent use
	echo *C.SpeexEchoState
	pre  *C.SpeexPreprocessState
	ref  []C.spx_int16_t
	mic  []C.spx_int16_t
	out  []C.spx_int16_t
}

// NewEchoCanceller makes an echo canceller for 48 kHz mono.
func NewEchoCanceller(opts EchoOptions) (*EchoCanceller, error) {
	if opts.Frame <= 0 {
		opts.Frame = 20 * time.Millisecond
	}
	if opts.Tail <= 0 {
		opts.Tail = 250 * time.Millisecond
	}
	frame := int(opts.Frame * audio.SampleRate / time.Second)
	tail := int(opts.Tail * audio.SampleRate / time.Second)
	if frame < 80 || frame > 4800 || tail < frame || tail > 2*audio.SampleRate {
		return nil, fmt.Errorf("echo canceller: frame %v and tail %v: want 2 to 100 ms and up to 2 s", opts.Frame, opts.Tail)
	}
	e := &EchoCanceller{frame: frame,
		ref: make([]C.spx_int16_t, frame), mic: make([]C.spx_int16_t, frame), out: make([]C.spx_int16_t, frame)}
	e.echo = C.speex_echo_state_init(C.int(frame), C.int(tail))
	if e.echo == nil {
		return nil, fmt.Errorf("echo canceller: speex_echo_state_init failed")
	}
	C.cbx_echo_set_rate(e.echo, audio.SampleRate)
	e.pre = C.speex_preprocess_state_init(C.int(frame), audio.SampleRate)
	if e.pre == nil {
		e.Close()
		return nil, fmt.Errorf("echo canceller: speex_preprocess_state_init failed")
	}
	C.cbx_preprocess_set_echo(e.pre, e.echo)
	C.cbx_preprocess_set(e.pre, C.SPEEX_PREPROCESS_SET_DENOISE, boolInt(opts.NoiseSuppression))
	C.cbx_preprocess_set(e.pre, C.SPEEX_PREPROCESS_SET_AGC, boolInt(opts.AGC))
	if opts.AGCMaxGain <= 0 {
		opts.AGCMaxGain = 6
	}
	C.cbx_preprocess_set(e.pre, C.SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, C.int(opts.AGCMaxGain))
	// Suppress what echo the filter leaves harder than speexdsp's default
	// (-40 dB, -15 dB while the near end talks).
	C.cbx_preprocess_set(e.pre, C.SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, C.int(echoSuppressDB))
	C.cbx_preprocess_set(e.pre, C.SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, C.int(echoSuppressActiveDB))
	return e, nil
}

const echoSuppressDB, echoSuppressActiveDB = -60, -15

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// FrameSamples is how many samples each call takes.
func (e *EchoCanceller) FrameSamples() int { return e.frame }

// Process cleans one frame: mic is what the microphone heard, played what
// the speaker played at the same moment; the result goes to out (which may
// be mic).
func (e *EchoCanceller) Process(mic, played, out []int16) error {
	if len(mic) != e.frame || len(played) != e.frame || len(out) != e.frame {
		return fmt.Errorf("echo canceller: blocks of %d, %d, %d samples, want %d", len(mic), len(played), len(out), e.frame)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.echo == nil {
		return fmt.Errorf("echo canceller: closed")
	}
	toC(e.mic, mic)
	toC(e.ref, played)
	C.speex_echo_cancellation(e.echo, &e.mic[0], &e.ref[0], &e.out[0])
	C.speex_preprocess_run(e.pre, &e.out[0])
	fromC(out, e.out)
	return nil
}

// Playback tells the canceller what the speaker is about to play, from
// the playing goroutine. Blocks of any length are cut into frames.
func (e *EchoCanceller) Playback(played []int16) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.echo == nil {
		return
	}
	for len(played) >= e.frame {
		toC(e.ref, played[:e.frame])
		C.speex_echo_playback(e.echo, &e.ref[0])
		played = played[e.frame:]
	}
}

// Capture cleans one frame the microphone captured, using what Playback
// was given; out may be mic.
func (e *EchoCanceller) Capture(mic, out []int16) error {
	if len(mic) != e.frame || len(out) != e.frame {
		return fmt.Errorf("echo canceller: blocks of %d, %d samples, want %d", len(mic), len(out), e.frame)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.echo == nil {
		return fmt.Errorf("echo canceller: closed")
	}
	toC(e.mic, mic)
	C.speex_echo_capture(e.echo, &e.mic[0], &e.out[0])
	C.speex_preprocess_run(e.pre, &e.out[0])
	fromC(out, e.out)
	return nil
}

func toC(dst []C.spx_int16_t, src []int16) {
	copy(unsafe.Slice((*int16)(unsafe.Pointer(&dst[0])), len(dst)), src)
}

func fromC(dst []int16, src []C.spx_int16_t) {
	copy(dst, unsafe.Slice((*int16)(unsafe.Pointer(&src[0])), len(src)))
}

// Close frees the canceller.
func (e *EchoCanceller) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pre != nil {
		C.speex_preprocess_state_destroy(e.pre)
		e.pre = nil
	}
	if e.echo != nil {
		C.speex_echo_state_destroy(e.echo)
		e.echo = nil
	}
	return nil
}

// CleanSource is a microphone with the echo canceller applied: what the
// send path reads instead of the raw microphone.
type CleanSource struct {
	mic audio.Source
	ec  *EchoCanceller
	buf []int16 // cleaned samples not yet read
	raw []int16
}

// NewCleanSource reads mic through ec.
func NewCleanSource(mic audio.Source, ec *EchoCanceller) *CleanSource {
	return &CleanSource{mic: mic, ec: ec, raw: make([]int16, ec.FrameSamples())}
}

// Read fills buf with cleaned samples.
func (s *CleanSource) Read(ctx context.Context, buf []int16) error {
	for len(buf) > 0 {
		if len(s.buf) == 0 {
			if err := s.mic.Read(ctx, s.raw); err != nil {
				return err
			}
			if err := s.ec.Capture(s.raw, s.raw); err != nil {
				return err
			}
			s.buf = s.raw
		}
		n := copy(buf, s.buf)
		buf, s.buf = buf[n:], s.buf[n:]
	}
	return nil
}

// Close closes the microphone (not the canceller, which the player shares).
func (s *CleanSource) Close() error { return s.mic.Close() }
