// Package audio owns sound capture and playback: ALSA devices, the
// synthetic Tone source and the FileSink speaker. It deals in 48 kHz mono 16-bit samples and knows
// nothing about codecs or calls.
//
// ALSA is spoken directly to the kernel (/dev/snd PCM ioctls), without
// alsa-lib, so the daemon stays a static binary. That means only hardware
// devices ("hw:1,0", a card name like "Loopback", "default" = first card):
// no plugins, no resampling. The package converts channels itself (downmix
// on capture, duplication on playback) and requires 48 kHz from the device.
//
// It must not import pipeline or anything above it, and nothing outside
// this package opens /dev/snd.
package audio

import (
	"context"
	"errors"
)

// SampleRate is the one rate the box works at, end to end (Opus's native rate).
const SampleRate = 48000

// Source produces 48 kHz mono samples.
type Source interface {
	// Read fills buf completely, blocking until it is full or ctx ends.
	Read(ctx context.Context, buf []int16) error
	// Close releases the device.
	Close() error
}

// Sink consumes 48 kHz mono samples.
type Sink interface {
	// Write plays all of buf, blocking while the device's buffer is full
	// or until ctx ends.
	Write(ctx context.Context, buf []int16) error
	// Close releases the device.
	Close() error
}

// Errors to tell apart with errors.Is; the full error names the device.
var (
	// ErrNotFound: no such sound card or PCM device.
	ErrNotFound = errors.New("no such sound card or device")
	// ErrBusy: another program has the device open.
	ErrBusy = errors.New("device busy")
	// ErrUnsupportedFormat: the device cannot do 48 kHz signed 16-bit.
	ErrUnsupportedFormat = errors.New("format not supported")
	// ErrClosed: Read or Write after Close.
	ErrClosed = errors.New("audio device closed")
)
