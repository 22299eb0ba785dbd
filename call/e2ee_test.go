package call

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/livekit/server-sdk-go/v2/e2ee"
	"github.com/pion/rtp/codecs"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
)

const testPassphrase = "correct horse battery staple"

func testRoomKey(t testing.TB, passphrase string) *RoomKey {
	t.Helper()
	k, err := NewRoomKey(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// asReceived is what a receiver's depacketizer hands over after the frame
// went through RTP: for H.264 every NALU again behind a 4-byte start code,
// which is why the clear header must be sent in that form.
func asReceived(t *testing.T, codec media.Codec, frame []byte) []byte {
	t.Helper()
	if codec != media.CodecH264 {
		return frame
	}
	var out []byte
	var depacketizer codecs.H264Packet
	for _, p := range (&codecs.H264Payloader{}).Payload(1200, frame) {
		b, err := depacketizer.Unmarshal(p)
		if err != nil {
			t.Fatalf("depacketize: %v", err)
		}
		out = append(out, b...)
	}
	return out
}

// TestEncryptedVideoDecodesWithTheKey is the send path of an encrypted call
// as a receiver with the key sees it: real x264 and libvpx frames of the
// test pattern, encrypted, through RTP packetization, decrypted, decoded,
// and the frame number drawn into each picture read back.
func TestEncryptedVideoDecodesWithTheKey(t *testing.T) {
	key := testRoomKey(t, testPassphrase)
	for _, codec := range []media.Codec{media.CodecH264, media.CodecVP8} {
		t.Run(string(codec), func(t *testing.T) {
			const w, h = 320, 240
			src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			settings := pipeline.VideoSettings{Width: w, Height: h, FPS: 30, BitsPerSecond: 500_000, KeyframeInterval: 10}
			enc, err := pipeline.NewSoftwareVideoEncoder(codec, settings)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := avcodec.NewVideoDecoder(string(codec))
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			encryptor, err := key.newEncryptor(codec)
			if err != nil {
				t.Fatal(err)
			}
			opener, err := key.newOpener(codec, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			read := 0
			for range 25 {
				f, err := src.ReadFrame(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				coded, err := enc.Encode(f)
				if err != nil {
					t.Fatal(err)
				}
				if len(coded.Data) == 0 {
					continue
				}
				sealed, err := encryptor.EncryptFrame(bytes.Clone(coded.Data))
				if err != nil {
					t.Fatal(err)
				}
				plain, err := opener.open(asReceived(t, codec, sealed))
				if err != nil {
					t.Fatalf("frame %d (keyframe %v): %v", f.Seq, coded.Keyframe, err)
				}
				pic, err := dec.Decode(plain)
				if err != nil {
					t.Fatalf("decode frame %d: %v", f.Seq, err)
				}
				if pic == nil {
					continue
				}
				stamp, err := camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy())
				if err != nil {
					t.Fatalf("frame %d: %v", f.Seq, err)
				}
				if uint64(stamp.Frame) != f.Seq {
					t.Fatalf("picture says frame %d, want %d", stamp.Frame, f.Seq)
				}
				read++
			}
			if read < 20 {
				t.Errorf("%d of 25 pictures read back, want at least 20", read)
			}
			if s := opener.counters.snapshot(); s.Dropped() != 0 {
				t.Errorf("dropped %d frames: %+v", s.Dropped(), s)
			}
		})
	}
}

// TestEncryptedVideoHidesThePicture: without the key, the frames a receiver
// gets decode to no readable picture, and the coded picture's bytes after
// the clear header are nowhere in what is sent.
func TestEncryptedVideoHidesThePicture(t *testing.T) {
	key := testRoomKey(t, testPassphrase)
	const w, h = 320, 240
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 240})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	enc, err := pipeline.NewH264Encoder(pipeline.VideoSettings{Width: w, Height: h, FPS: 30, BitsPerSecond: 500_000, KeyframeInterval: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := avcodec.NewVideoDecoder("H264")
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	encryptor, _ := key.newEncryptor(media.CodecH264)
	for range 10 {
		f, _ := src.ReadFrame(context.Background())
		coded, err := enc.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		plain := normalizeStartCodes(bytes.Clone(coded.Data))
		sealed, err := encryptor.EncryptFrame(bytes.Clone(coded.Data))
		if err != nil {
			t.Fatal(err)
		}
		clear := commonPrefix(plain, sealed)
		for at := clear; at+16 <= len(plain); at += 16 {
			if bytes.Contains(sealed, plain[at:at+16]) {
				t.Fatalf("frame %d: clear bytes %d..%d of the picture are in the encrypted frame", f.Seq, at, at+16)
			}
		}
		if pic, err := dec.Decode(asReceived(t, media.CodecH264, sealed)); err == nil && pic != nil {
			if s, err := camera.ReadStamp(pic.Y, pic.YStride, w, h); err == nil {
				t.Fatalf("frame %d read without the key: %+v", f.Seq, s)
			}
		}
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// TestEncryptedOpusDecodes: a tone's Opus packets, encrypted and decrypted,
// decode to the same sound.
func TestEncryptedOpusDecodes(t *testing.T) {
	key := testRoomKey(t, testPassphrase)
	enc, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := pipeline.NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	encryptor, _ := key.newEncryptor(media.CodecOpus)
	opener, _ := key.newOpener(media.CodecOpus, nil, nil)
	pcm := make([]int16, enc.FrameSamples())
	var out [pipeline.MaxOpusSamples]int16
	var energy float64
	for i := range 25 {
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*len(pcm)+j)/48000))
		}
		packet, err := enc.Encode(pcm)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := encryptor.EncryptFrame(bytes.Clone(packet))
		if err != nil {
			t.Fatal(err)
		}
		if sealed[0] != packet[0] || bytes.Contains(sealed, packet[1:min(len(packet), 17)]) {
			t.Fatalf("packet %d: want only the TOC byte in clear", i)
		}
		plain, err := opener.open(sealed)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.Equal(plain, packet) {
			t.Fatalf("packet %d decrypted to other bytes", i)
		}
		n, err := dec.Decode(plain, out[:])
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out[:n] {
			energy += float64(v) * float64(v)
		}
	}
	if energy == 0 {
		t.Error("the decrypted packets decode to silence")
	}
}

// sealedH264 is one encrypted H.264 delta frame, as received.
func sealedH264(t *testing.T, key *RoomKey) []byte {
	t.Helper()
	enc, err := key.newEncryptor(media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0, 0, 0, 1, 0x41, 0x9a, 0x02}, bytes.Repeat([]byte{7, 0, 0, 1, 2, 0, 0, 0}, 20)...)
	sealed, err := enc.EncryptFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// TestBadFramesAreDroppedAndCounted: every kind of bad frame is refused with
// its reason counted, and nothing bad gets through as plain.
func TestBadFramesAreDroppedAndCounted(t *testing.T) {
	key := testRoomKey(t, testPassphrase)
	other := testRoomKey(t, "another key")
	good := sealedH264(t, key)
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[(at+len(b))%len(b)] ^= 0x40
		return b
	}
	// The same key at index 5, which the box does not have.
	atIndex5 := e2ee.NewExternalKeyProvider()
	if err := atIndex5.SetKeyFromPassphrase(testPassphrase, 5); err != nil {
		t.Fatal(err)
	}
	enc5, _ := e2ee.NewGCMFrameEncryptor(atIndex5, encryptH264)
	wrongIndex, _ := enc5.EncryptFrame(bytes.Clone([]byte{0, 0, 0, 1, 0x41, 0x9a, 1, 2, 3, 4, 5, 6, 7, 8}))
	sif := []byte("LKROCKS")

	tests := []struct {
		name  string
		frame []byte
		want  error
		count func(DecryptStats) int64
	}{
		{"wrong key index", wrongIndex, errUnknownKeyIndex, func(s DecryptStats) int64 { return s.UnknownKeyIndex }},
		{"trailer cut off", good[:len(good)-1], errTruncated, func(s DecryptStats) int64 { return s.Truncated }},
		{"IV cut short", append(bytes.Clone(good[:len(good)-8]), good[len(good)-2:]...), errForged, func(s DecryptStats) int64 { return s.Forged }},
		{"trailer claims a long IV", append(bytes.Clone(good[:len(good)-2]), 200, 0), errTruncated, func(s DecryptStats) int64 { return s.Truncated }},
		{"only a trailer", good[len(good)-14:], errTruncated, func(s DecryptStats) int64 { return s.Truncated }},
		{"empty", nil, errTruncated, func(s DecryptStats) int64 { return s.Truncated }},
		{"ciphertext changed", flip(12), errForged, func(s DecryptStats) int64 { return s.Forged }},
		{"clear header changed", flip(5), errForged, func(s DecryptStats) int64 { return s.Forged }},
		{"another room key", sealedH264(t, other), errForged, func(s DecryptStats) int64 { return s.Forged }},
		{"not encrypted, with a trailer-like end", append([]byte{0, 0, 0, 1, 0x09, 0x10}, bytes.Repeat([]byte{12, 0}, 30)...), errNotEncrypted, func(s DecryptStats) int64 { return s.NotEncrypted }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opener, _ := key.newOpener(media.CodecH264, sif, nil)
			plain, err := opener.open(tc.frame)
			if !errors.Is(err, tc.want) {
				t.Fatalf("open: %v, want %v", err, tc.want)
			}
			if plain != nil {
				t.Errorf("a bad frame came out as %d bytes", len(plain))
			}
			s := opener.counters.snapshot()
			if tc.count(s) != 1 || s.Dropped() != 1 || s.Decrypted != 0 {
				t.Errorf("counted %+v, want this one reason once", s)
			}
		})
	}

	t.Run("replayed", func(t *testing.T) {
		opener, _ := key.newOpener(media.CodecH264, sif, nil)
		if _, err := opener.open(bytes.Clone(good)); err != nil {
			t.Fatalf("first time: %v", err)
		}
		if _, err := opener.open(bytes.Clone(good)); !errors.Is(err, errReplayed) {
			t.Fatalf("second time: %v, want %v", err, errReplayed)
		}
		if s := opener.counters.snapshot(); s.Decrypted != 1 || s.Replayed != 1 {
			t.Errorf("counted %+v, want 1 decrypted and 1 replayed", s)
		}
	})

	t.Run("server injected", func(t *testing.T) {
		opener, _ := key.newOpener(media.CodecH264, sif, nil)
		plain, err := opener.open(append([]byte{0, 0, 0, 1, 0x65, 1, 2, 3}, sif...))
		if plain != nil || err != nil {
			t.Fatalf("open: %d bytes, %v; want nothing and no error", len(plain), err)
		}
		if s := opener.counters.snapshot(); s.ServerInjected != 1 || s.Dropped() != 0 {
			t.Errorf("counted %+v", s)
		}
	})

	// Every cut of a good frame, in every codec: refused, never a crash.
	for _, codec := range []media.Codec{media.CodecH264, media.CodecVP8, media.CodecOpus} {
		enc, _ := key.newEncryptor(codec)
		frame := append([]byte{0, 0, 0, 1, 0x65, 0x88}, bytes.Repeat([]byte{0, 0, 3, 1, 9}, 40)...)
		if codec != media.CodecH264 {
			frame = frame[4:]
		}
		sealed, err := enc.EncryptFrame(frame)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(sealed) {
			opener, _ := key.newOpener(codec, sif, nil)
			if plain, err := opener.open(sealed[:n]); err == nil || plain != nil {
				t.Fatalf("%s cut to %d of %d bytes: %d bytes, %v; want refused", codec, n, len(sealed), len(plain), err)
			}
		}
	}
}

// TestFingerprint: the same key gives the same four emoji, other keys
// others, and the key itself shows up in no printed form.
func TestFingerprint(t *testing.T) {
	key := testRoomKey(t, testPassphrase)
	// Golden: changing the derivation or the table changes what people
	// compare, so it must be deliberate (and the guest page changed too).
	const want = "🍻 🐐 🏯 🍁"
	if got := key.Fingerprint(); got != want {
		t.Errorf("fingerprint %q, want %q", got, want)
	}
	if fp, _ := Fingerprint(testPassphrase); fp != key.Fingerprint() {
		t.Errorf("Fingerprint() = %q, key.Fingerprint() = %q", fp, key.Fingerprint())
	}
	if got := len(strings.Fields(key.Fingerprint())); got != 4 {
		t.Errorf("%d emoji, want 4", got)
	}
	seen := map[string]bool{}
	for _, p := range []string{"a", "b", "correct horse battery staplf", testPassphrase} {
		fp, err := Fingerprint(p)
		if err != nil {
			t.Fatal(err)
		}
		if seen[fp] {
			t.Errorf("two keys share fingerprint %s", fp)
		}
		seen[fp] = true
	}
	if _, err := Fingerprint(""); err == nil {
		t.Error("an empty room key was taken")
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("joining", "key", key, "keyv", *key)
	for _, printed := range []string{logged.String(), key.String()} {
		if strings.Contains(printed, "horse") {
			t.Errorf("the room key is printed: %s", printed)
		}
	}
	if len(EmojiTable) != 256 {
		t.Errorf("%d emoji in the table", len(EmojiTable))
	}
	distinct := map[string]bool{}
	for _, e := range EmojiTable {
		distinct[e] = true
	}
	if len(distinct) != 256 {
		t.Errorf("%d distinct emoji in the table, want 256", len(distinct))
	}
}
