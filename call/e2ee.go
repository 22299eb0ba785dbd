package call

// End-to-end encryption of media frames, compatible with livekit-client's
// (the JavaScript SDK's) E2EE: AES-128-GCM per frame, a key derived from
// the room key with PBKDF2 (SHA-256, 100 000 rounds, salt
// "LKFrameEncryptionKey"), the first bytes of each frame left in clear for
// the SFU and the depacketizer (Opus: the TOC byte; VP8: 10 bytes of a
// keyframe, 3 of others; H.264: up to and including the first two bytes
// of the first slice), and a trailer [IV (12 bytes)][12][key index].
//
// The LiveKit Go SDK does the work for H.264 and Opus (lksdk.NewFrameEncryptor
// and NewFrameDecryptor over e2ee.ExternalKeyProvider). It has no VP8, which
// e2ee_vp8.go adds in the SDK's own shape. Tests against frames made by
// livekit-client's own code are in e2ee_jsclient_test.go.

import (
	"crypto/cipher"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/livekit/server-sdk-go/v2/e2ee"
	e2eetypes "github.com/livekit/server-sdk-go/v2/e2ee/types"

	"github.com/callbox/callbox/media"
)

// RoomKey is the secret every participant of an encrypted room shares: the
// passphrase set at provisioning or carried by an invite link. It is never
// sent to the server, and never printed: String and LogValue show only its
// fingerprint.
type RoomKey struct {
	keys        *e2ee.ExternalKeyProvider
	fingerprint string
}

// keyIndex is the slot of the room key. Rotation would move to the next.
const keyIndex = 0

// NewRoomKey derives the frame key from a passphrase, as livekit-client's
// ExternalE2EEKeyProvider.setKey(string) does. It takes some tens of
// milliseconds (PBKDF2), so make one per key, not per call.
func NewRoomKey(passphrase string) (*RoomKey, error) {
	return newRoomKeyAt(passphrase, keyIndex)
}

func newRoomKeyAt(passphrase string, index uint32) (*RoomKey, error) {
	if passphrase == "" {
		return nil, errors.New("room key: empty")
	}
	keys := e2ee.NewExternalKeyProvider()
	if err := keys.SetKeyFromPassphrase(passphrase, index); err != nil {
		return nil, fmt.Errorf("room key: %w", err)
	}
	aesKey, err := keys.GetKey(index)
	if err != nil {
		return nil, fmt.Errorf("room key: %w", err)
	}
	return &RoomKey{keys: keys, fingerprint: fingerprintOf(aesKey)}, nil
}

// Fingerprint is four emoji that people compare, box screen against guest
// page, to know they hold the same key.
func (k *RoomKey) Fingerprint() string { return k.fingerprint }

// String shows the fingerprint, never the key.
func (k *RoomKey) String() string { return "room key " + k.fingerprint }

// LogValue keeps the key out of logs even when a RoomKey is logged whole.
func (k *RoomKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Fingerprint returns the four-emoji fingerprint of a room key passphrase,
// the same that the guest page shows (web/guest/src/fingerprint.js).
func Fingerprint(passphrase string) (string, error) {
	k, err := NewRoomKey(passphrase)
	if err != nil {
		return "", err
	}
	return k.Fingerprint(), nil
}

// fingerprintDomain keeps the fingerprint's hash apart from any other use of
// the frame key.
const fingerprintDomain = "callbox room key fingerprint v1\x00"

// EmojiTable is the 256 emoji that fingerprints are written in, one per
// byte value, read from e2ee_emoji.txt. It is our own list, not another
// app's: Unicode code points taken in order from the blocks of plants and food
// (U+1F330–1F37C), celebrations (U+1F380–1F393), leisure (U+1F3A0–1F3C1),
// buildings (U+1F3E0–1F3F0), animals (U+1F400–1F43E), vehicles
// (U+1F680–1F6A2) and eleven objects; all single code points with emoji
// presentation and no skin tones, so every device draws them alike. The
// order is part of the format: changing it changes every fingerprint.
var EmojiTable = func() []string {
	t := strings.Fields(emojiFile)
	if len(t) != 256 {
		panic(fmt.Sprintf("e2ee_emoji.txt has %d emoji, want 256", len(t))) // a build mistake, not input
	}
	return t
}()

//go:embed e2ee_emoji.txt
var emojiFile string

// fingerprintOf hashes the derived frame key rather than the passphrase: a
// weak passphrase then costs a guesser PBKDF2's 100 000 rounds per guess.
func fingerprintOf(aesKey []byte) string {
	sum := sha256.Sum256(append([]byte(fingerprintDomain), aesKey...))
	var b strings.Builder
	for i, v := range sum[:4] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(EmojiTable[v])
	}
	return b.String()
}

// encryptFuncFor and decryptFuncFor pick the SDK's frame format for a
// codec; VP8's is ours.
func encryptFuncFor(codec media.Codec) (e2ee.EncryptFunc, error) {
	switch codec {
	case media.CodecH264:
		return encryptH264, nil
	case media.CodecOpus:
		return lksdk.EncryptGCMAudioSampleCustomCipher, nil
	case media.CodecVP8:
		return encryptVP8, nil
	}
	return nil, fmt.Errorf("end-to-end encryption of %s is not supported", codec)
}

func decryptFuncFor(codec media.Codec) (e2ee.DecryptFunc, error) {
	switch codec {
	case media.CodecH264:
		return e2ee.DecryptGCMH264SampleCustomCipher, nil
	case media.CodecOpus:
		return lksdk.DecryptGCMAudioSampleCustomCipher, nil
	case media.CodecVP8:
		return decryptVP8, nil
	}
	return nil, fmt.Errorf("end-to-end decryption of %s is not supported", codec)
}

// newEncryptor encrypts the box's own frames of one track; give it to
// lksdk.WithFrameEncryptor.
func (k *RoomKey) newEncryptor(codec media.Codec) (e2eetypes.FrameEncryptor, error) {
	fn, err := encryptFuncFor(codec)
	if err != nil {
		return nil, err
	}
	return e2ee.NewGCMFrameEncryptor(k.keys, fn)
}

// encryptH264 is the SDK's H.264 encryption with two guards. Start codes are
// made 4 bytes long first, as livekit-client does, because every receiver's
// depacketizer rebuilds them so and the clear header is authenticated as it
// arrives. And a frame without a slice, which the SDK would send in clear,
// is refused rather than leaked.
func encryptH264(frame []byte, kid uint8, block cipher.Block) ([]byte, error) {
	frame = normalizeStartCodes(frame)
	out, err := e2ee.EncryptGCMH264SampleCustomCipher(frame, kid, block)
	if err != nil {
		return nil, err
	}
	if len(out) <= len(frame) {
		return nil, errors.New("h264 frame without a slice: not sent, it would go in clear")
	}
	return out, nil
}

// normalizeStartCodes rewrites every 3-byte Annex-B start code as the 4-byte
// one (livekit-client's normalizeAnnexBStartCodes). It returns frame itself
// when there is none.
func normalizeStartCodes(frame []byte) []byte {
	var short []int
	for i := 0; i+2 < len(frame); {
		if frame[i+2] == 0 {
			i++
			continue
		}
		if frame[i+2] == 1 && frame[i] == 0 && frame[i+1] == 0 && (i == 0 || frame[i-1] != 0) {
			short = append(short, i)
		}
		i += 3
	}
	if len(short) == 0 {
		return frame
	}
	out := make([]byte, 0, len(frame)+len(short))
	from := 0
	for _, at := range short {
		out = append(out, frame[from:at]...)
		out = append(out, 0)
		from = at
	}
	return append(out, frame[from:]...)
}

// publishOptions are what an encrypted track of codec is published with: the
// frame encryptor, and the GCM flag in the publication that tells
// livekit-client to decrypt it. Nil keys give neither.
// TrackOptions make a local track of codec encrypted with k, and say the
// encryption to publish it with: for a Go participant that publishes a
// track of its own (shared content, in tests) in a room with this key.
func (k *RoomKey) TrackOptions(codec media.Codec) ([]lksdk.LocalTrackOptions, livekit.Encryption_Type, error) {
	return publishOptions(k, codec)
}

func publishOptions(k mediaKeys, codec media.Codec) ([]lksdk.LocalTrackOptions, livekit.Encryption_Type, error) {
	if k == nil {
		return nil, livekit.Encryption_NONE, nil
	}
	enc, err := k.newEncryptor(codec)
	if err != nil {
		return nil, livekit.Encryption_NONE, err
	}
	return []lksdk.LocalTrackOptions{lksdk.WithFrameEncryptor(enc)}, livekit.Encryption_GCM, nil
}
