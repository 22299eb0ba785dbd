package main

// Shared content on the box's screen: a Go participant publishes a
// SCREEN_SHARE track (a 1920x1080 test pattern at 5 fps) and its
// SCREEN_SHARE_AUDIO (a tone) through a real LiveKit server; the box shows
// the content large beside a strip of the people, mixes its sound into the
// speaker, and shows the grid again when the share ends.

import (
	"context"
	byteorder "encoding/binary"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	lkmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/device/audio"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/device/display"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
)

const contentW, contentH, contentHz = 1920, 1080, 1500.0

// sharer is a participant who shares content and nothing else.
type sharer struct {
	room  *lksdk.Room
	video *lksdk.LocalTrackPublication
	stop  func() // ends the sending and waits for it
}

// startSharer joins room as identity and shares a test pattern and a
// tone, encrypted with key unless it is nil.
func startSharer(t *testing.T, srv *lkserver.Server, room, identity, name string, key *call.RoomKey) *sharer {
	t.Helper()
	src, err := camera.NewTestPattern(camera.TestPatternOptions{Width: contentW, Height: contentH, FPS: 5})
	if err != nil {
		t.Fatal(err)
	}
	enc := pipeline.NewVideoSender(pipeline.VideoSenderOptions{Codec: media.CodecH264,
		BitsPerSecond: 1_500_000, KeyframeInterval: 10, Mode: config.EncoderSoftware})
	tone, err := audio.NewTone(audio.ToneOptions{Frequency: contentHz, Amplitude: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	opus, err := pipeline.NewOpusEncoder(32000)
	if err != nil {
		t.Fatal(err)
	}
	r, err := lksdk.ConnectToRoom(srv.URL, lksdk.ConnectInfo{APIKey: srv.APIKey, APISecret: srv.APISecret,
		RoomName: room, ParticipantIdentity: identity, ParticipantName: name}, &lksdk.RoomCallback{})
	if err != nil {
		t.Fatal(err)
	}
	encryption := func(codec media.Codec) ([]lksdk.LocalTrackOptions, livekit.Encryption_Type) {
		if key == nil {
			return nil, livekit.Encryption_NONE
		}
		opts, enc, err := key.TrackOptions(codec)
		if err != nil {
			t.Fatal(err)
		}
		return opts, enc
	}
	videoOpts, videoEncryption := encryption(media.CodecH264)
	video, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
		append(videoOpts, lksdk.WithRTCPHandler(func(p rtcp.Packet) {
			if _, pli := p.(*rtcp.PictureLossIndication); pli {
				enc.ForceLayerKeyFrame(0)
			}
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	videoPub, err := r.LocalParticipant.PublishTrack(video, &lksdk.TrackPublicationOptions{Name: "screen",
		Source: livekit.TrackSource_SCREEN_SHARE, VideoWidth: contentW, VideoHeight: contentH, Encryption: videoEncryption})
	if err != nil {
		t.Fatal(err)
	}
	soundOpts, soundEncryption := encryption(media.CodecOpus)
	sound, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, soundOpts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.LocalParticipant.PublishTrack(sound, &lksdk.TrackPublicationOptions{
		Name: "screen sound", Source: livekit.TrackSource_SCREEN_SHARE_AUDIO, Encryption: soundEncryption}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer src.Close()
		defer tone.Close()
		defer opus.Close()
		sending := make(chan struct{})
		go func() {
			defer close(sending)
			// Send's error, and SendAudio's, once the share stops, is ctx's.
			_ = enc.Send(ctx, src, func(_ int, f media.EncodedFrame) error {
				return video.WriteSample(lkmedia.Sample{Data: f.Data, Duration: f.Duration}, nil)
			})
		}()
		_ = pipeline.SendAudio(ctx, tone, opus, func(f media.EncodedFrame) error {
			return sound.WriteSample(lkmedia.Sample{Data: f.Data, Duration: f.Duration}, nil)
		})
		<-sending
	}()
	s := &sharer{room: r, video: videoPub}
	s.stop = func() { cancel(); <-done }
	t.Cleanup(func() { s.stop(); r.Disconnect() })
	return s
}

// contentStamp reads the content's stamp where the box draws it.
func contentStamp(f *display.Frame) (camera.Stamp, error) {
	at := compose.FitContent(image.Pt(contentW, contentH), compose.ArrangeContent(f.Bounds().Size(), nil, "", false).Content)
	return compose.ReadTileStamp(f, at, image.Pt(contentW, contentH))
}

// cameraIn is whether alice's camera is readable in any tile of the
// layouts arrange may have used for alice, alone or with the sharer (in
// either order: the box's join order is when it first saw each).
func cameraIn(f *display.Frame, arrange func(image.Point, []string, string, bool) compose.Layout) bool {
	for _, ids := range [][]string{{"alice"}, {"alice", "sharer"}, {"sharer", "alice"}} {
		for _, self := range []bool{false, true} {
			for _, speaker := range []string{"", "alice", "sharer"} {
				tile, ok := arrange(f.Bounds().Size(), ids, speaker, self).Tile("alice")
				if !ok {
					continue
				}
				at := compose.Fit(image.Pt(senderW, senderH), tile.Rect)
				if _, err := compose.ReadTileStamp(f, at, image.Pt(senderW, senderH)); err == nil {
					return true
				}
			}
		}
	}
	return false
}

// TestShowsSharedContent runs in the clear and with the room's shared
// key, where the box decrypts the content as it does every track.
func TestShowsSharedContent(t *testing.T) {
	for name, roomKey := range map[string]string{"plain": "", "shared-key": "a family room key for the share test"} {
		t.Run(name, func(t *testing.T) {
			srv := startServer(t)
			dir := t.TempDir()
			sound := filepath.Join(dir, "sound.raw")
			cfgPath := filepath.Join(dir, "callbox.toml")
			var key *call.RoomKey
			encryption := ""
			if roomKey != "" {
				var err error
				if key, err = call.NewRoomKey(roomKey); err != nil {
					t.Fatal(err)
				}
				encryption = fmt.Sprintf("[call]\nencryption = \"shared-key\"\nroom_key = %q\n", roomKey)
			}
			cfgText := encryption + fmt.Sprintf(`[display]
	output = "offscreen"
	width = 1920
	height = 1080
	fps = 10
	[speaker]
	device = "file:%s"
	`, sound)
			if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
				t.Fatal(err)
			}
			const room = "share"
			socket := filepath.Join(dir, "control.sock")
			args := plainArgs(srv, room)
			if key != nil {
				args = serverArgs(srv, room)
			}
			d := startDaemon(t, append(args, "-config", cfgPath, "-control", socket,
				"-width", "320", "-height", "180", "-fps", "10")...)
			d.waitLog(t, "in the call", 30*time.Second)
			d.waitLog(t, "showing the call", 10*time.Second)
			c := provisioning.LocalClient{Socket: socket}

			ctx, cancel := context.WithCancel(context.Background())
			_, left := startSenderSession(t, ctx, srv, room, senders[0], func(o *call.Options) { o.RoomKey = key }) // alice, with a camera
			t.Cleanup(func() { cancel(); <-left })
			waitScreenOf(t, c, "alice's camera in the grid", func(f *display.Frame) error {
				if !cameraIn(f, compose.Arrange) {
					return fmt.Errorf("no readable camera tile")
				}
				return nil
			})

			sh := startSharer(t, srv, room, "sharer", "Sharer", key)
			// Large, readable, beside the strip...
			var first camera.Stamp
			_, data := waitScreenOf(t, c, "the shared content large, with the people strip", func(f *display.Frame) error {
				var err error
				if first, err = contentStamp(f); err != nil {
					return fmt.Errorf("content: %w", err)
				}
				if _, ok := compose.FindText(f, f.Bounds(), "Sharer's screen"); !ok {
					return fmt.Errorf("no \"Sharer's screen\" label")
				}
				if !cameraIn(f, compose.ArrangeContent) {
					return fmt.Errorf("alice's camera is not in the strip")
				}
				return nil
			})
			keepScreenshot(t, "share.png", data)
			// ...and advancing.
			waitScreenOf(t, c, "the content advancing", func(f *display.Frame) error {
				s, err := contentStamp(f)
				if err != nil || s.Frame < first.Frame+3 {
					return fmt.Errorf("content at frame %d (%w), want past %d", s.Frame, err, first.Frame+3)
				}
				return nil
			})

			// Its sound is in the speaker.
			sample, err := os.ReadFile(sound)
			if err != nil {
				t.Fatal(err)
			}
			pcm := make([]int16, audio.SampleRate/2) // the last half second
			if len(sample) < 2*len(pcm) {
				t.Fatalf("only %d bytes of sound were played", len(sample))
			}
			for i := range pcm {
				pcm[i] = int16(byteorder.LittleEndian.Uint16(sample[len(sample)-2*len(pcm)+2*i:]))
			}
			if share := goertzelShare(pcm, contentHz); share < 0.1 {
				t.Errorf("the shared %v Hz tone has %.3f of the played sound's power, want about half", contentHz, share)
			}

			// The share ends: the grid comes back.
			if err := sh.room.LocalParticipant.UnpublishTrack(sh.video.SID()); err != nil {
				t.Fatal(err)
			}
			waitScreenOf(t, c, "the grid back", func(f *display.Frame) error {
				if _, ok := compose.FindText(f, f.Bounds(), "Sharer's screen"); ok {
					return fmt.Errorf("still \"Sharer's screen\"")
				}
				if !cameraIn(f, compose.Arrange) {
					return fmt.Errorf("alice's camera is not in the grid")
				}
				return nil
			})
			d.stop(t)
		})
	}
}

// waitScreenOf takes screenshots until ok accepts one, and returns it.
func waitScreenOf(t *testing.T, c provisioning.LocalClient, what string, ok func(*display.Frame) error) (*display.Frame, []byte) {
	t.Helper()
	var f *display.Frame
	var data []byte
	err := daemontest.Poll(30*time.Second, 200*time.Millisecond, func() error {
		var err error
		if f, data, err = screenshot(c); err != nil {
			return err
		}
		return ok(f)
	})
	if err != nil {
		last := filepath.Join(os.TempDir(), "callbox-share-last-screen.png")
		if data != nil && os.WriteFile(last, data, 0o644) == nil { // the last screen seen, for whoever reads the failure
			err = fmt.Errorf("%w (the last screenshot: %s)", err, last)
		}
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return f, data
}
