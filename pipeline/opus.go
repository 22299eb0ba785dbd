package pipeline

// Opus through libopus itself rather than pion/mediadevices' wrapper,
// which sets only the bitrate: a call on a real network wants in-band FEC
// with the loss the receivers report, DTX, and on the receiving side
// libopus's packet loss concealment and FEC decoding (libavcodec's Opus
// decoder does neither).

/*
#cgo pkg-config: opus
#include <opus.h>

// opus_encoder_ctl and opus_decoder_ctl take variable arguments, which
// cgo cannot call.
static int cbx_opus_set(OpusEncoder *e, int bitrate, int fec, int loss, int dtx) {
	int err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(fec))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(loss))) != OPUS_OK) return err;
	if ((err = opus_encoder_ctl(e, OPUS_SET_DTX(dtx))) != OPUS_OK) return err;
	// Voice: SILK or hybrid, which carry FEC, rather than CELT, which
	// libopus picks for steady tones below 10 % loss.
	return opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	devaudio "github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/media"
)

// OpusFrame is the length of sound in one Opus packet we send.
const OpusFrame = 20 * time.Millisecond

// opusFrameSamples is OpusFrame at 48 kHz: 960.
const opusFrameSamples = int(OpusFrame * devaudio.SampleRate / time.Second)

// OpusEncoder is libopus for voice: 48 kHz mono, 20 ms packets, with
// in-band FEC (each packet also carries the one before at a low bitrate,
// more so the more loss receivers report: SetPacketLoss) and DTX (in
// silence it makes packets of a byte or two, which SendAudio does not
// send). It implements media.AudioEncoder.
type OpusEncoder struct {
	mu      sync.Mutex // guards what follows against SetPacketLoss from the call's goroutines
	enc     *C.OpusEncoder
	bitrate int
	loss    int // percent
	out     []byte
}

// MaxOpusSamples is the most samples one Opus packet decodes to (120 ms
// at 48 kHz): a pcm buffer this long always fits.
const MaxOpusSamples = 5760

// opusMaxPacket is the most bytes a packet may take (RFC 6716's limit for
// one frame).
const opusMaxPacket = 1275

// NewOpusEncoder opens an Opus encoder at the given bitrate.
func NewOpusEncoder(bitsPerSecond int) (*OpusEncoder, error) {
	var cerr C.int
	enc := C.opus_encoder_create(C.opus_int32(devaudio.SampleRate), 1, C.OPUS_APPLICATION_VOIP, &cerr)
	if cerr != C.OPUS_OK {
		return nil, fmt.Errorf("opus: open encoder: %s", opusError(cerr))
	}
	e := &OpusEncoder{enc: enc, bitrate: bitsPerSecond, out: make([]byte, opusMaxPacket)}
	if err := e.apply(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// apply sets the encoder's controls; e.mu is held or e is not shared yet.
func (e *OpusEncoder) apply() error {
	// A loss of 0 still keeps FEC on: libopus adds it once loss is
	// reported, and the first report comes a second or more into a call.
	if cerr := C.cbx_opus_set(e.enc, C.int(e.bitrate), 1, C.int(e.loss), 1); cerr != C.OPUS_OK {
		return fmt.Errorf("opus: bitrate %d, loss %d %%: %s", e.bitrate, e.loss, opusError(cerr))
	}
	return nil
}

func (e *OpusEncoder) Codec() media.Codec { return media.CodecOpus }

// FrameSamples is 960: 20 ms at 48 kHz.
func (e *OpusEncoder) FrameSamples() int { return opusFrameSamples }

// SetPacketLoss tells the encoder how much of what it sends is lost, in
// percent (receivers' reports): the more, the more of each packet goes
// to FEC. Safe from any goroutine.
func (e *OpusEncoder) SetPacketLoss(percent int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	percent = min(max(percent, 0), 100)
	if e.enc == nil || percent == e.loss {
		return
	}
	e.loss = percent
	_ = e.apply() // values libopus took before; only a closed encoder fails
}

// Encode codes exactly FrameSamples samples into one packet, valid until
// the next Encode. A packet of two bytes or less is DTX's "nothing to
// send": silence, which receivers fill in.
func (e *OpusEncoder) Encode(pcm []int16) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc == nil {
		return nil, fmt.Errorf("opus: encoder is closed")
	}
	if len(pcm) != opusFrameSamples {
		return nil, fmt.Errorf("opus: got %d samples, want %d (20 ms)", len(pcm), opusFrameSamples)
	}
	n := C.opus_encode(e.enc, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&e.out[0])), C.opus_int32(len(e.out)))
	if n < 0 {
		return nil, fmt.Errorf("opus: encode: %s", opusError(n))
	}
	return e.out[:n], nil
}

// Close frees the encoder; it is safe to call twice.
func (e *OpusEncoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc != nil {
		C.opus_encoder_destroy(e.enc)
		e.enc = nil
	}
	return nil
}

// IsOpusDTX reports whether an Opus packet is DTX's "nothing to send".
func IsOpusDTX(packet []byte) bool { return len(packet) <= 2 }

// OpusDecoder is libopus's decoder: 48 kHz mono 16-bit samples (stereo
// packets are mixed down by libopus), with packet loss concealment and
// in-band FEC decoding (Conceal). It implements media.AudioDecoder and
// media.AudioConcealer.
type OpusDecoder struct {
	mu  sync.Mutex // guards dec against Close while decoding
	dec *C.OpusDecoder
	// last is the length of the last packet decoded, in samples: what
	// a lost one is taken to be.
	last int
}

// ErrDecoderClosed is the error of a decoder used after Close.
var ErrDecoderClosed = errors.New("decoder is closed")

// NewOpusDecoder opens libopus's decoder.
func NewOpusDecoder() (*OpusDecoder, error) {
	var cerr C.int
	dec := C.opus_decoder_create(C.opus_int32(devaudio.SampleRate), 1, &cerr)
	if cerr != C.OPUS_OK {
		return nil, fmt.Errorf("opus: open decoder: %s", opusError(cerr))
	}
	return &OpusDecoder{dec: dec, last: opusFrameSamples}, nil
}

// Decode decodes one packet into pcm and returns how many samples it
// wrote. A corrupt packet, or a pcm too short for it, gives an error.
func (d *OpusDecoder) Decode(packet []byte, pcm []int16) (int, error) {
	if len(packet) == 0 {
		return 0, fmt.Errorf("opus decoder: empty packet")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dec == nil {
		return 0, fmt.Errorf("opus decoder: %w", ErrDecoderClosed)
	}
	n, err := d.decode(packet, pcm, 0)
	if err != nil {
		return 0, fmt.Errorf("opus decoder: decode packet of %d bytes: %w", len(packet), err)
	}
	d.last = n
	return n, nil
}

// Conceal writes, in place of a lost packet, the length of the last one
// decoded: from next's in-band FEC when next (the packet that came after
// the lost one; nil when none) carries it, else made up from the sound
// before (libopus's packet loss concealment). fec says which it was.
func (d *OpusDecoder) Conceal(next []byte, pcm []int16) (n int, fec bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dec == nil {
		return 0, false, fmt.Errorf("opus decoder: %w", ErrDecoderClosed)
	}
	want := min(d.last, len(pcm))
	if media.OpusHasFEC(next) {
		if n, err := d.decode(next, pcm[:want], 1); err == nil {
			return n, true, nil
		}
	}
	n, err = d.decode(nil, pcm[:want], 0)
	if err != nil {
		return 0, false, fmt.Errorf("opus decoder: conceal %d samples: %w", want, err)
	}
	return n, false, nil
}

// decode is opus_decode; a nil packet asks for concealment of len(pcm)
// samples, fec for the FEC copy in packet of the one before. d.mu is held.
func (d *OpusDecoder) decode(packet []byte, pcm []int16, fec int) (int, error) {
	if len(pcm) == 0 {
		return 0, fmt.Errorf("no room for samples")
	}
	var data *C.uchar
	if len(packet) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&packet[0]))
	}
	n := C.opus_decode(d.dec, data, C.opus_int32(len(packet)), (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)), C.int(fec))
	if n < 0 {
		return 0, errors.New(opusError(n))
	}
	return int(n), nil
}

// Close frees the decoder; closing twice is safe.
func (d *OpusDecoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dec != nil {
		C.opus_decoder_destroy(d.dec)
		d.dec = nil
	}
	return nil
}

func opusError(code C.int) string { return C.GoString(C.opus_strerror(code)) }
