package call

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/livekit/server-sdk-go/v2/e2ee"
	e2eetypes "github.com/livekit/server-sdk-go/v2/e2ee/types"

	"github.com/callbox/callbox/media"
)

// Why a received frame was dropped. The SDK's decryptor hands some bad
// frames back as they came (too short, no slice): frameOpener refuses them,
// because a frame the box did not decrypt is a frame nobody authenticated.
var (
	errTruncated       = errors.New("frame too short for its encryption trailer")
	errNotEncrypted    = errors.New("frame is not encrypted")
	errUnknownKeyIndex = errors.New("frame names a key index the box does not have")
	errForged          = errors.New("frame does not decrypt with the room key (another key, or changed on the way)")
	errReplayed        = errors.New("frame was received before (replayed)")
)

// DecryptStats counts what became of the encrypted frames received.
type DecryptStats struct {
	Decrypted int64
	// ServerInjected are frames the SFU makes itself (LiveKit's "SIF"
	// trailer), dropped as livekit-client drops them.
	ServerInjected int64
	// The dropped, by reason.
	Truncated, NotEncrypted, UnknownKeyIndex, Forged, Replayed int64
}

// Dropped is how many frames could not be used.
func (s DecryptStats) Dropped() int64 {
	return s.Truncated + s.NotEncrypted + s.UnknownKeyIndex + s.Forged + s.Replayed
}

type decryptCounters struct {
	decrypted, serverInjected                                  atomic.Int64
	truncated, notEncrypted, unknownKeyIndex, forged, replayed atomic.Int64
}

func (c *decryptCounters) snapshot() DecryptStats {
	return DecryptStats{
		Decrypted: c.decrypted.Load(), ServerInjected: c.serverInjected.Load(),
		Truncated: c.truncated.Load(), NotEncrypted: c.notEncrypted.Load(),
		UnknownKeyIndex: c.unknownKeyIndex.Load(), Forged: c.forged.Load(), Replayed: c.replayed.Load(),
	}
}

func (c *decryptCounters) count(err error) {
	switch {
	case err == nil:
		c.decrypted.Add(1)
	case errors.Is(err, errTruncated):
		c.truncated.Add(1)
	case errors.Is(err, errNotEncrypted):
		c.notEncrypted.Add(1)
	case errors.Is(err, errUnknownKeyIndex):
		c.unknownKeyIndex.Add(1)
	case errors.Is(err, errReplayed):
		c.replayed.Add(1)
	default:
		c.forged.Add(1)
	}
}

// frameOpener decrypts the frames of one remote track.
type frameOpener struct {
	codec      media.Codec
	keys       e2eetypes.KeyProvider
	decryptor  *e2ee.GCMFrameDecryptor
	sifTrailer []byte
	seen       replayWindow
	counters   *decryptCounters
	// undecryptable is set for a codec the box cannot decrypt.
	undecryptable error
}

// newOpener makes the decryption of one remote track. sifTrailer is the
// room's (lksdk.Room.SifTrailer); counters may be shared between tracks.
func (k *RoomKey) newOpener(codec media.Codec, sifTrailer []byte, counters *decryptCounters) (*frameOpener, error) {
	return newOpener(k.keys, codec, sifTrailer, counters)
}

// newOpener makes the decryption of one remote track whose keys are keys.
func newOpener(keys e2eetypes.KeyProvider, codec media.Codec, sifTrailer []byte, counters *decryptCounters) (*frameOpener, error) {
	fn, err := decryptFuncFor(codec)
	if err != nil {
		return nil, err
	}
	if counters == nil {
		counters = &decryptCounters{}
	}
	return &frameOpener{
		codec: codec, keys: keys, sifTrailer: sifTrailer, counters: counters,
		decryptor: e2ee.NewGCMFrameDecryptor(keys, fn, sifTrailer),
	}, nil
}

// minEncryptedTail is the GCM tag, the IV and the trailer's two bytes.
const minEncryptedTail = 16 + e2eetypes.IVLength + 2

// open decrypts one frame. It returns nil and no error for a frame the
// server injected (to be dropped quietly), and an error saying why for
// every frame that must be dropped.
func (o *frameOpener) open(frame []byte) ([]byte, error) {
	plain, err := o.decrypt(frame)
	if plain == nil && err == nil {
		o.counters.serverInjected.Add(1)
		return nil, nil
	}
	o.counters.count(err)
	return plain, err
}

func (o *frameOpener) decrypt(frame []byte) ([]byte, error) {
	if o.undecryptable != nil {
		return nil, fmt.Errorf("%w: %w", errNotEncrypted, o.undecryptable)
	}
	if isServerInjected(frame, o.sifTrailer) {
		return nil, nil
	}
	if len(frame) < 1+minEncryptedTail {
		return nil, fmt.Errorf("%w: %d bytes", errTruncated, len(frame))
	}
	if n := frame[len(frame)-2]; n != e2eetypes.IVLength {
		return nil, fmt.Errorf("%w: the trailer says an IV of %d bytes, not %d", errTruncated, n, e2eetypes.IVLength)
	}
	kid := frame[len(frame)-1]
	if _, err := o.keys.GetKey(uint32(kid)); err != nil {
		return nil, fmt.Errorf("%w: %d", errUnknownKeyIndex, kid)
	}
	plain, err := o.decryptor.DecryptFrame(frame)
	switch {
	case errors.Is(err, e2eetypes.ErrIncorrectIVLength), errors.Is(err, errTruncated):
		return nil, fmt.Errorf("%w: %w", errTruncated, err)
	case err != nil:
		return nil, errForged
	case plain == nil:
		return nil, nil
	case len(plain) >= len(frame):
		// The SDK passes through what it finds nothing to decrypt in.
		return nil, errNotEncrypted
	}
	if !o.seen.add(o.ivOf(frame)) {
		return nil, errReplayed
	}
	return plain, nil
}

// ivOf reads the IV of a frame that decrypted. In H.264 the encrypted part
// is RBSP-escaped; the last 48 bytes hold the 14 of the IV and trailer even
// after unescaping, with room for an escape sequence cut at the start.
func (o *frameOpener) ivOf(frame []byte) [e2eetypes.IVLength]byte {
	tail := frame
	if o.codec == media.CodecH264 {
		tail = media.UnescapeRBSP(frame[max(0, len(frame)-48):])
	}
	var iv [e2eetypes.IVLength]byte
	copy(iv[:], tail[len(tail)-2-e2eetypes.IVLength:])
	return iv
}

// isServerInjected tells a frame the SFU made (it ends with the room's SIF
// trailer) from one a participant encrypted.
func isServerInjected(frame, sifTrailer []byte) bool {
	return len(sifTrailer) > 0 && bytes.HasSuffix(frame, sifTrailer)
}

// replayWindow remembers the IVs of the last frames that decrypted. Every
// sender makes each IV once (livekit-client: SSRC, RTP time and a counter;
// the Go SDK: random), so an IV seen again is a frame sent again.
type replayWindow struct {
	set  map[[e2eetypes.IVLength]byte]struct{}
	ring [replayWindowSize][e2eetypes.IVLength]byte
	next int
	full bool
}

// replayWindowSize frames: over a minute of video at 30 fps.
const replayWindowSize = 2048

// add reports whether iv is new, and remembers it.
func (w *replayWindow) add(iv [e2eetypes.IVLength]byte) bool {
	if w.set == nil {
		w.set = make(map[[e2eetypes.IVLength]byte]struct{}, replayWindowSize)
	}
	if _, seen := w.set[iv]; seen {
		return false
	}
	if w.full {
		delete(w.set, w.ring[w.next])
	}
	w.ring[w.next] = iv
	w.set[iv] = struct{}{}
	w.next++
	if w.next == replayWindowSize {
		w.next, w.full = 0, true
	}
	return true
}

// trackDecryption decrypts one remote track for a receiver, counts what it
// drops and says once, per track, that frames are being dropped. A nil
// *trackDecryption (an unencrypted room) hands every frame on as it is.
type trackDecryption struct {
	opener *frameOpener
	log    *slog.Logger
	warned bool
}

func newTrackDecryption(keys e2eetypes.KeyProvider, codec media.Codec, sifTrailer []byte, counters *decryptCounters, log *slog.Logger) (*trackDecryption, error) {
	opener, err := newOpener(keys, codec, sifTrailer, counters)
	if err != nil {
		return nil, err
	}
	return &trackDecryption{opener: opener, log: log}, nil
}

// open returns the frame to hand on, or false for one to drop.
func (d *trackDecryption) open(frame []byte) ([]byte, bool) {
	if d == nil {
		return frame, true
	}
	if len(frame) == 0 {
		return nil, false // nothing to decrypt or decode (livekit-client sends empty DTX frames as they are)
	}
	plain, err := d.opener.open(frame)
	if err != nil && !d.warned {
		d.warned = true
		d.log.Warn("dropping frames that do not decrypt (no key from this member yet, or another room key)", "err", err)
	}
	return plain, err == nil && plain != nil
}

// roomDecryption makes the decryption of every remote track in one room.
// With no room key it makes none and frames pass as they came.
type roomDecryption struct {
	key      mediaKeys
	log      *slog.Logger
	counters decryptCounters
	joined   chan struct{} // closed by the first setRoom
	once     sync.Once
	mu       sync.Mutex
	room     *lksdk.Room
}

func newRoomDecryption(key mediaKeys, log *slog.Logger) *roomDecryption {
	if log == nil {
		log = slog.Default()
	}
	return &roomDecryption{key: key, log: log, joined: make(chan struct{})}
}

// setRoom is called once the room is joined: the SFU's trailer for the
// frames it injects comes with the join.
// A later call (a room joined again) replaces the room.
func (r *roomDecryption) setRoom(room *lksdk.Room) {
	r.mu.Lock()
	r.room = room
	r.mu.Unlock()
	r.once.Do(func() { close(r.joined) })
}

// forTrack returns the decryption of one remote track, nil when the room is
// not encrypted or ctx ends before the join completes.
func (r *roomDecryption) forTrack(ctx context.Context, codec media.Codec, from string) *trackDecryption {
	if r == nil || r.key == nil {
		return nil
	}
	select {
	case <-r.joined:
	case <-ctx.Done():
		return nil
	}
	r.mu.Lock()
	room := r.room
	r.mu.Unlock()
	d, err := newTrackDecryption(r.key.keysOf(from), codec, room.SifTrailer(), &r.counters, r.log.With("from", from, "codec", codec))
	if err != nil {
		// A codec we cannot decrypt: every frame is dropped, and counted.
		r.log.Warn("cannot decrypt this track", "from", from, "err", err)
		return &trackDecryption{log: r.log, warned: true, opener: &frameOpener{codec: codec, counters: &r.counters, undecryptable: err}}
	}
	return d
}

// DecryptStats counts the frames this watcher decrypted and dropped; all
// zero in a room without a key.
func (w *Watcher) DecryptStats() DecryptStats { return w.decryption.counters.snapshot() }
