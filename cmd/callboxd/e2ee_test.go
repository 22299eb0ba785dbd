package main

// End-to-end encryption through a real LiveKit server: what the SFU
// forwards is unreadable without the room key, readable with it, and bad
// frames are dropped, counted and answered with a keyframe request.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/livekit/server-sdk-go/v2/e2ee"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/avcodec"
)

const testRoomKey = "a room key for the tamper test"

// watched is what one participant received of the box's video.
type watched struct {
	mu       sync.Mutex
	frames   [][]byte // as handed over: decrypted with a key, as forwarded without
	stamps   []camera.Stamp
	dec      *avcodec.VideoDecoder
	received chan struct{} // closed and replaced on every frame
}

func watch(t *testing.T, srv *lkserver.Server, room, identity string, key *call.RoomKey) (*watched, *call.Watcher) {
	t.Helper()
	dec, err := avcodec.NewVideoDecoder("H264")
	if err != nil {
		t.Fatal(err)
	}
	w := &watched{dec: dec, received: make(chan struct{})}
	watcher, err := call.Watch(call.Options{
		URL: srv.URL, Room: room, Identity: identity, APIKey: srv.APIKey, APISecret: srv.APISecret, RoomKey: key,
	}, call.Handlers{Video: w.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		watcher.Leave()
		w.mu.Lock()
		dec.Close()
		w.dec = nil
		w.mu.Unlock()
	})
	return w, watcher
}

func (w *watched) onVideo(f call.Frame) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dec == nil {
		return
	}
	w.frames = append(w.frames, bytes.Clone(f.Data))
	close(w.received)
	w.received = make(chan struct{})
	pic, err := w.dec.Decode(f.Data)
	if err != nil || pic == nil {
		return
	}
	if s, err := camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy()); err == nil {
		w.stamps = append(w.stamps, s)
	}
}

// waitStamps waits for n readable pictures.
func (w *watched) waitStamps(ctx context.Context, n int) error {
	return w.waitFor(ctx, n, "readable pictures", func() int { return len(w.stamps) })
}

// waitFrames waits for n frames, readable or not.
func (w *watched) waitFrames(ctx context.Context, n int) error {
	return w.waitFor(ctx, n, "frames", func() int { return len(w.frames) })
}

func (w *watched) waitFor(ctx context.Context, n int, what string, count func() int) error {
	for {
		w.mu.Lock()
		got, received := count(), w.received
		w.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d %s: %w", got, n, what, ctx.Err())
		case <-received:
		}
	}
}

func (w *watched) snapshot() (frames [][]byte, stamps []camera.Stamp) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.frames...), append([]camera.Stamp(nil), w.stamps...)
}

// firstSliceData is where an H.264 access unit's slice data starts: after
// the start code, the NALU header and one more byte, all that the frame
// format leaves in clear.
func firstSliceData(au []byte) int {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
			if t := au[i+3] & 0x1f; t == 1 || t == 5 {
				return i + 3 + 2
			}
		}
	}
	return -1
}

// TestEncryptedCallTamper: the box with a room key, a participant with the
// key and one without. The one with it reads the pictures; the one without
// gets only frames that do not decode, and no piece of the pictures' coded
// data is in anything the SFU forwarded to it.
func TestEncryptedCallTamper(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const room = "secret-family"
	key, err := call.NewRoomKey(testRoomKey)
	if err != nil {
		t.Fatal(err)
	}
	withKey, watcher := watch(t, srv, room, "with-key", key)
	without, _ := watch(t, srv, room, "without-key", nil)

	cfg := filepath.Join(t.TempDir(), "callbox.toml")
	if err := os.WriteFile(cfg, []byte("[call]\nencryption = \"shared-key\"\nroom_key = \""+testRoomKey+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, append([]string{"-config", cfg}, append(serverArgs(srv, room),
		"-codec", "h264", "-width", "320", "-height", "240")...)...)
	d.waitLog(t, "calls use shared-key encryption", 10*time.Second)
	d.waitLog(t, key.Fingerprint(), time.Second)
	d.waitLog(t, "in the call", 30*time.Second)

	if err := withKey.waitStamps(ctx, 60); err != nil {
		t.Fatal(err)
	}
	// The two subscribe at their own pace: wait for both before stopping.
	if err := without.waitFrames(ctx, 60); err != nil {
		t.Fatal(err)
	}
	d.stop(t)
	if bytes.Contains([]byte(d.output()), []byte(testRoomKey)) {
		t.Error("callboxd logged the room key")
	}

	plain, stamps := withKey.snapshot()
	forwarded, unreadable := without.snapshot()
	if len(stamps) < 60 {
		t.Errorf("the participant with the key read %d pictures, want 60", len(stamps))
	}
	if len(forwarded) < 60 {
		t.Fatalf("the participant without the key got %d frames, want at least 60", len(forwarded))
	}
	if len(unreadable) != 0 {
		t.Errorf("the participant without the key read %d pictures, want none", len(unreadable))
	}
	if s := watcher.DecryptStats(); s.Decrypted < 60 || s.Dropped() != 0 {
		t.Errorf("decryption with the key: %+v, want at least 60 decrypted and none dropped", s)
	}
	// Every 16 bytes of coded picture data that the box encrypted must be
	// absent from what the SFU forwarded.
	checked := 0
	for _, frame := range plain {
		start := firstSliceData(frame)
		if start < 0 {
			t.Fatalf("a decrypted frame without a slice: %x", frame[:min(len(frame), 32)])
		}
		for at := start; at+16 <= len(frame); at += 64 {
			piece := frame[at : at+16]
			if bytes.Count(frame, piece) > 1 {
				continue // repetitive data (a flat picture) proves nothing
			}
			for _, f := range forwarded {
				if bytes.Contains(f, piece) {
					t.Fatalf("the SFU forwarded clear picture data: bytes %d..%d of a %d-byte frame", at, at+16, len(frame))
				}
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("only %d pieces of picture data checked", checked)
	}
}

// TestBadEncryptedFrames: a participant sends frames encrypted with the room
// key, and among them one naming a key index nobody has, one cut short,
// and one sent twice. The receiver drops and counts each, asks for a
// keyframe, and reads pictures again after it.
func TestBadEncryptedFrames(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const room = "rogue"
	key, err := call.NewRoomKey(testRoomKey)
	if err != nil {
		t.Fatal(err)
	}
	got, watcher := watch(t, srv, room, "receiver", key)

	// The sender: the Go SDK's own encryptor, and a track that sends what it
	// is given, so that the test can change frames after encryption.
	keys := e2ee.NewExternalKeyProvider()
	if err := keys.SetKeyFromPassphrase(testRoomKey, 0); err != nil {
		t.Fatal(err)
	}
	encryptor, err := lksdk.NewFrameEncryptor(keys, lksdk.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 320, 240
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: w, Height: h, FPS: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	enc, err := pipeline.NewH264Encoder(pipeline.VideoSettings{Width: w, Height: h, FPS: 30, BitsPerSecond: 400_000, KeyframeInterval: 600})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var badSent atomic.Bool
	var plisAfterBad atomic.Int32
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}, lksdk.WithRTCPHandler(func(p rtcp.Packet) {
		switch p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			enc.ForceKeyFrame()
			if badSent.Load() {
				plisAfterBad.Add(1)
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	token, err := srv.Token(room, "sender")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := lksdk.ConnectToRoomWithToken(srv.URL, token, &lksdk.RoomCallback{})
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Disconnect()
	if _, err := sender.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name: "camera", Source: livekit.TrackSource_CAMERA, Encryption: livekit.Encryption_GCM,
	}); err != nil {
		t.Fatal(err)
	}

	// Good frames until the receiver reads pictures; then i counts from 0
	// and the bad frames go out at 5, 10 and 15.
	var previous []byte
	var lastBad uint64
	i := -1
	for ; ctx.Err() == nil; i++ {
		if i < 0 {
			if _, stamps := got.snapshot(); len(stamps) < 20 {
				i--
			}
		}
		f, err := src.ReadFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		coded, err := enc.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		// x264 writes some start codes with 3 bytes; receivers rebuild them
		// with 4, and the clear header is authenticated: the box's
		// encryptor does this too (call.encryptH264).
		sealed, err := encryptor.EncryptFrame(longStartCodes(coded.Data))
		if err != nil {
			t.Fatal(err)
		}
		send := sealed
		switch i {
		case 5: // a key index nobody has
			send = bytes.Clone(sealed)
			send[len(send)-1] = 7
		case 10: // the trailer cut short
			send = sealed[:len(sealed)-1]
		case 15: // the frame before, again
			send = previous
		}
		if i == 5 || i == 10 || i == 15 {
			badSent.Store(true)
			lastBad = f.Seq
		}
		previous = sealed
		if err := track.WriteSample(pionmedia.Sample{Data: send, Duration: time.Second / 30}, nil); err != nil {
			t.Fatal(err)
		}
		if i > 15 {
			_, stamps := got.snapshot()
			if len(stamps) > 0 && uint64(stamps[len(stamps)-1].Frame) > lastBad+5 && plisAfterBad.Load() > 0 {
				break // pictures again, after a keyframe asked for
			}
		}
	}
	if err := ctx.Err(); err != nil {
		_, stamps := got.snapshot()
		t.Fatalf("no pictures after the bad frames (%d pictures read, bad frames sent: %v), %d keyframe requests: %v",
			len(stamps), badSent.Load(), plisAfterBad.Load(), err)
	}
	s := watcher.DecryptStats()
	t.Logf("decryption: %+v; keyframe requests after the bad frames: %d", s, plisAfterBad.Load())
	// The cut frame counts as truncated, or, if the IV byte now last happens
	// to look like a trailer, as naming an unknown key index.
	if s.UnknownKeyIndex < 1 || s.Replayed != 1 || s.Dropped() != 3 {
		t.Errorf("counted %+v, want an unknown key index, 1 replayed, 3 dropped in all", s)
	}
}

// longStartCodes returns au with every 00 00 01 start code as 00 00 00 01.
func longStartCodes(au []byte) []byte {
	var out []byte
	for i := 0; i < len(au); i++ {
		if i+2 < len(au) && au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 && (i == 0 || au[i-1] != 0) {
			out = append(out, 0)
		}
		out = append(out, au[i])
	}
	return out
}
