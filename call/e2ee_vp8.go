package call

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	e2eetypes "github.com/livekit/server-sdk-go/v2/e2ee/types"
)

// VP8 frame encryption, which the LiveKit Go SDK lacks, written in the shape
// of its e2ee.EncryptFunc and e2ee.DecryptFunc and checked against
// livekit-client's FrameCryptor (e2ee_jsclient_test.go): the first 10 bytes of a
// keyframe and 3 of any other frame stay in clear (the frame tag and, for a
// keyframe, the start code and size, RFC 6386 9.1), authenticated as AES-GCM's
// additional data; then the ciphertext, the IV, the IV's length and the key
// index. No RBSP escaping: VP8 has no start codes to imitate.

// vp8ClearBytes is how much of a frame stays in clear; the keyframe bit is
// the frame tag's inverse key frame flag, which is itself in clear.
func vp8ClearBytes(frame []byte) int {
	if frame[0]&1 == 0 {
		return 10
	}
	return 3
}

func encryptVP8(frame []byte, kid uint8, block cipher.Block) ([]byte, error) {
	if block == nil {
		return nil, e2eetypes.ErrBlockCipherRequired
	}
	if len(frame) == 0 {
		return frame, nil
	}
	clear := vp8ClearBytes(frame)
	if len(frame) < clear {
		return nil, fmt.Errorf("vp8 frame of %d bytes is shorter than its %d-byte header", len(frame), clear)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, e2eetypes.IVLength)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, e2eetypes.IVLength)
	if _, err := rand.Read(iv); err != nil {
		return nil, errors.Join(e2eetypes.ErrUnableGenerateIV, err)
	}
	out := make([]byte, 0, len(frame)+gcm.Overhead()+len(iv)+2)
	out = append(out, frame[:clear]...)
	out = gcm.Seal(out, iv, frame[clear:], frame[:clear])
	out = append(out, iv...)
	return append(out, e2eetypes.IVLength, kid), nil
}

func decryptVP8(frame, sifTrailer []byte, block cipher.Block) ([]byte, error) {
	if block == nil {
		return nil, e2eetypes.ErrBlockCipherRequired
	}
	if isServerInjected(frame, sifTrailer) {
		return nil, nil
	}
	if len(frame) < 2 {
		return nil, errTruncated
	}
	clear := vp8ClearBytes(frame)
	ivLength := int(frame[len(frame)-2])
	cipherEnd := len(frame) - 2 - ivLength
	if ivLength == 0 || cipherEnd < clear {
		return nil, errTruncated
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, ivLength)
	if err != nil {
		return nil, err
	}
	out := make([]byte, clear, len(frame))
	copy(out, frame[:clear])
	return gcm.Open(out, frame[cipherEnd:len(frame)-2], frame[clear:cipherEnd], frame[:clear])
}
