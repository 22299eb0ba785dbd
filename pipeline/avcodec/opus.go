package avcodec

/*
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
*/
import "C"

import (
	"fmt"
	"io"
	"math"
	"sync"
	"unsafe"
)

// OpusSampleRate is the rate of the samples OpusDecoder writes.
const OpusSampleRate = 48000

// MaxOpusPacketSamples is the most samples one Opus packet decodes to
// (120 ms at 48 kHz): a pcm buffer this long always fits.
const MaxOpusPacketSamples = 5760

// OpusDecoder decodes Opus packets into 48 kHz mono 16-bit samples.
// It implements media.AudioDecoder.
type OpusDecoder struct {
	mu  sync.Mutex // guards dec against Close while Decode runs
	dec *decoder
}

// NewOpusDecoder opens libavcodec's native Opus decoder for 48 kHz mono
// output; stereo packets are mixed down.
func NewOpusDecoder() (*OpusDecoder, error) {
	dec, err := openDecoder("opus", func(ctx *C.AVCodecContext) {
		// Without an Ogg header the channel count comes from here.
		ctx.sample_rate = OpusSampleRate
		C.av_channel_layout_default(&ctx.ch_layout, 1)
	})
	if err != nil {
		return nil, err
	}
	return &OpusDecoder{dec: dec}, nil
}

// Decode decodes one Opus packet into pcm and returns the number of samples
// written. A corrupt packet or a pcm too short for the packet gives an error.
func (o *OpusDecoder) Decode(packet []byte, pcm []int16) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dec == nil {
		return 0, fmt.Errorf("opus decoder: %w", ErrClosed)
	}
	if err := o.dec.send(packet); err != nil {
		return 0, fmt.Errorf("opus decoder: decode packet of %d bytes: %w", len(packet), err)
	}
	written := 0
	var shortErr error
	for {
		got, err := o.dec.receive()
		if err != nil {
			return written, fmt.Errorf("opus decoder: decode packet of %d bytes: %w", len(packet), err)
		}
		if !got {
			return written, shortErr
		}
		n, err := o.convert(pcm[written:])
		C.av_frame_unref(o.dec.frame)
		written += n
		if err != nil && shortErr == nil {
			// Keep receiving so no stale output is left for the next packet.
			shortErr = err
		}
	}
}

// convert mixes the decoded frame down to mono 16-bit samples in pcm.
func (o *OpusDecoder) convert(pcm []int16) (int, error) {
	f := o.dec.frame
	samples, channels := int(f.nb_samples), int(f.ch_layout.nb_channels)
	if int(f.sample_rate) != OpusSampleRate {
		return 0, fmt.Errorf("opus decoder: output at %d Hz, want %d", int(f.sample_rate), OpusSampleRate)
	}
	if channels < 1 || samples < 0 {
		return 0, fmt.Errorf("opus decoder: output of %d samples in %d channels", samples, channels)
	}
	if samples > len(pcm) {
		return 0, fmt.Errorf("opus decoder: packet has %d samples, buffer room for %d: %w", samples, len(pcm), io.ErrShortBuffer)
	}
	var sample func(channel, i int) float64
	switch format := int32(f.format); format {
	case C.AV_SAMPLE_FMT_FLTP:
		planes := floatPlanes(f, channels, samples)
		sample = func(c, i int) float64 { return float64(planes[c][i]) }
	case C.AV_SAMPLE_FMT_FLT:
		interleaved := unsafe.Slice((*float32)(unsafe.Pointer(f.data[0])), samples*channels)
		sample = func(c, i int) float64 { return float64(interleaved[i*channels+c]) }
	default:
		name := C.av_get_sample_fmt_name(int32(f.format))
		desc := "unknown"
		if name != nil {
			desc = C.GoString(name)
		}
		return 0, fmt.Errorf("opus decoder: output in sample format %s, want flt or fltp", desc)
	}
	for i := range samples {
		var sum float64
		for c := range channels {
			sum += sample(c, i)
		}
		pcm[i] = floatToInt16(sum / float64(channels))
	}
	return samples, nil
}

// floatPlanes returns the frame's planar float channels.
func floatPlanes(f *C.AVFrame, channels, samples int) [][]float32 {
	// Beyond 8 channels the planes are in extended_data only.
	pointers := unsafe.Slice(f.extended_data, channels)
	planes := make([][]float32, channels)
	for c, p := range pointers {
		planes[c] = unsafe.Slice((*float32)(unsafe.Pointer(p)), samples)
	}
	return planes
}

// floatToInt16 scales a sample in [-1, 1] to 16 bits, clipping what lies
// outside (Opus decodes to slightly beyond full scale).
func floatToInt16(v float64) int16 {
	switch s := math.Round(v * 32768); {
	case s >= math.MaxInt16:
		return math.MaxInt16
	case s <= math.MinInt16:
		return math.MinInt16
	case s != s: // NaN
		return 0
	default:
		return int16(s)
	}
}

// Close frees the decoder. Closing twice is safe.
func (o *OpusDecoder) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dec != nil {
		o.dec.free()
		o.dec = nil
	}
	return nil
}
