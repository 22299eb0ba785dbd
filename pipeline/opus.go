package pipeline

import (
	"fmt"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/codec/opus"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"

	devaudio "github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
)

// OpusFrame is the length of sound in one Opus packet we send.
const OpusFrame = 20 * time.Millisecond

// OpusEncoder is libopus (through pion/mediadevices) for voice: 48 kHz mono,
// 20 ms packets.
type OpusEncoder struct {
	enc  codec.ReadCloser
	next *wave.Int16Interleaved
}

// NewOpusEncoder opens an Opus encoder at the given bitrate.
func NewOpusEncoder(bitsPerSecond int) (*OpusEncoder, error) {
	params, err := opus.NewParams()
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	params.BitRate = bitsPerSecond
	params.Latency = opus.Latency20ms
	e := &OpusEncoder{}
	reader := audio.ReaderFunc(func() (wave.Audio, func(), error) {
		if e.next == nil {
			return nil, func() {}, fmt.Errorf("no samples queued")
		}
		chunk := e.next
		e.next = nil
		return chunk, func() {}, nil
	})
	enc, err := params.BuildAudioEncoder(reader, prop.Media{Audio: prop.Audio{
		SampleRate: devaudio.SampleRate, ChannelCount: 1,
	}})
	if err != nil {
		return nil, fmt.Errorf("opus: open: %w", err)
	}
	e.enc = enc
	return e, nil
}

func (e *OpusEncoder) Codec() media.Codec { return media.CodecOpus }

// FrameSamples is 960: 20 ms at 48 kHz.
func (e *OpusEncoder) FrameSamples() int {
	return int(OpusFrame * devaudio.SampleRate / time.Second)
}

// Encode codes exactly FrameSamples samples into one packet.
func (e *OpusEncoder) Encode(pcm []int16) ([]byte, error) {
	if e.enc == nil {
		return nil, fmt.Errorf("opus: encoder is closed")
	}
	if len(pcm) != e.FrameSamples() {
		return nil, fmt.Errorf("opus: got %d samples, want %d (20 ms)", len(pcm), e.FrameSamples())
	}
	e.next = &wave.Int16Interleaved{
		Data: pcm,
		Size: wave.ChunkInfo{Len: len(pcm), Channels: 1, SamplingRate: devaudio.SampleRate},
	}
	data, release, err := e.enc.Read()
	if release != nil {
		release()
	}
	if err != nil {
		return nil, fmt.Errorf("opus: encode: %w", err)
	}
	return data, nil
}

// Close frees the encoder; it is safe to call twice.
func (e *OpusEncoder) Close() error {
	if e.enc == nil {
		return nil
	}
	err := e.enc.Close()
	e.enc = nil
	return err
}
