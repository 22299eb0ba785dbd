package lkserver_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
)

func TestMain(m *testing.M) {
	lkserver.RunInNamespace(m)
}

// framePrefix starts every Opus frame the speaker sends: a TOC byte (0xf8:
// CELT fullband 20 ms, one frame) and a tag; a 2-byte frame number follows.
// The SFU forwards frames without decoding them, and the tag tells ours
// from the silence frames it makes up itself.
var framePrefix = []byte{0xf8, 'c', 'b', 'x'}

func frame(number uint16) []byte {
	return binary.BigEndian.AppendUint16(bytes.Clone(framePrefix), number)
}

const (
	sampleDuration = 20 * time.Millisecond
	// maxSamples bounds how long a publisher speaks: 10 s of audio.
	maxSamples = 500
	// wantPackets is how many forwarded RTP packets prove audio flows.
	wantPackets = 25
	room        = "lobby"
)

// startServer starts a server on netns.Addr, with opts' other settings,
// whose log lands in the test's temp dir and is shown if the test fails.
func startServer(t *testing.T, ctx context.Context, opts lkserver.Options) *lkserver.Server {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "livekit-server.log")
	opts.Addr, opts.LogFile = netns.Addr, logFile
	srv, err := lkserver.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if t.Failed() {
			if log, err := os.ReadFile(logFile); err == nil {
				t.Logf("server log %s:\n%s", logFile, lastBytes(log, 8000))
			}
		}
	})
	return srv
}

func TestCallThroughRealServerSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx, lkserver.Options{})
	if want := "ws://" + netns.Addr + ":"; !strings.HasPrefix(srv.URL, want) {
		t.Errorf("URL = %q, want prefix %q", srv.URL, want)
	}

	t.Run("audio flows", func(t *testing.T) {
		exchangeAudio(t, ctx, srv)
	})

	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	t.Run("stopped server refuses joins", func(t *testing.T) {
		room, err := join(srv, "latecomer", nil)
		if err == nil {
			room.Disconnect()
			t.Fatal("joined a stopped server")
		}
		if resp, err := http.Get("http://" + strings.TrimPrefix(srv.URL, "ws://") + "/"); err == nil {
			_ = resp.Body.Close()
			t.Error("stopped server still answers HTTP")
		}
	})

	if err := srv.Restart(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Run("audio flows after restart", func(t *testing.T) {
		exchangeAudio(t, ctx, srv)
	})
}

// exchangeAudio joins a listener and a speaker to the room; the speaker
// publishes Opus and the listener must receive the same frames over RTP.
func exchangeAudio(t *testing.T, ctx context.Context, srv *lkserver.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	type subscription struct {
		track    *webrtc.TrackRemote
		identity string
	}
	subscribed := make(chan subscription, 1)
	callback := lksdk.NewRoomCallback()
	callback.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		select {
		case subscribed <- subscription{track, rp.Identity()}:
		default:
		}
	}
	listener, err := join(srv, "listener", callback)
	if err != nil {
		t.Fatalf("listener joins: %v", err)
	}
	t.Cleanup(listener.Disconnect)
	speaker, err := join(srv, "speaker", nil)
	if err != nil {
		t.Fatalf("speaker joins: %v", err)
	}
	t.Cleanup(speaker.Disconnect)

	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
	})
	if err != nil {
		t.Fatalf("new track: %v", err)
	}
	if _, err := speaker.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name: "microphone", Source: livekit.TrackSource_MICROPHONE,
	}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	speaking := make(chan error, 1)
	go func() { speaking <- speak(ctx, track) }()
	t.Cleanup(func() {
		cancel()
		if err := <-speaking; err != nil {
			t.Errorf("write samples: %v", err)
		}
	})

	var sub subscription
	select {
	case sub = <-subscribed:
	case <-ctx.Done():
		t.Fatalf("listener got no track: %v", ctx.Err())
	}
	if sub.identity != "speaker" {
		t.Errorf("track from %q, want speaker", sub.identity)
	}
	if got := sub.track.Codec().MimeType; !strings.EqualFold(got, webrtc.MimeTypeOpus) {
		t.Errorf("track codec %q, want %s", got, webrtc.MimeTypeOpus)
	}

	deadline, _ := ctx.Deadline()
	_ = sub.track.SetReadDeadline(deadline)
	// Our frames must arrive whole and in order; the SFU's own silence
	// frames may come between them.
	var ours []uint16
	for len(ours) < wantPackets {
		pkt, _, err := sub.track.ReadRTP()
		if err != nil {
			t.Fatalf("read RTP after %d of our %d frames: %v", len(ours), wantPackets, err)
		}
		if !bytes.HasPrefix(pkt.Payload, framePrefix) {
			continue
		}
		if len(pkt.Payload) != len(framePrefix)+2 {
			t.Fatalf("frame payload %x, want %x and a 2-byte number", pkt.Payload, framePrefix)
		}
		number := binary.BigEndian.Uint16(pkt.Payload[len(framePrefix):])
		if len(ours) > 0 && number <= ours[len(ours)-1] {
			t.Fatalf("frame %d arrived after frame %d", number, ours[len(ours)-1])
		}
		ours = append(ours, number)
	}
}

// speak writes 20 ms Opus frames in real time until ctx ends or maxSamples.
func speak(ctx context.Context, track *lksdk.LocalTrack) error {
	tick := time.NewTicker(sampleDuration)
	defer tick.Stop()
	for number := range uint16(maxSamples) {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := track.WriteSample(media.Sample{Data: frame(number), Duration: sampleDuration}, nil); err != nil {
			return err
		}
	}
	return nil
}

func join(srv *lkserver.Server, identity string, callback *lksdk.RoomCallback) (*lksdk.Room, error) {
	token, err := srv.Token(room, identity)
	if err != nil {
		return nil, err
	}
	if callback == nil {
		callback = lksdk.NewRoomCallback()
	}
	return lksdk.ConnectToRoomWithToken(srv.URL, token, callback, lksdk.WithConnectTimeout(10*time.Second))
}

// TestParticipantsAreToldOnlyTheServersAddress: the STUN and TURN servers
// the server hands a participant are all on its own address, none out on
// the internet (LiveKit's default is Google's and Twilio's STUN servers):
// a test's participants must reach nothing but the namespace. The STUN
// server answers, as a real one does: a participant does not wait for it.
func TestParticipantsAreToldOnlyTheServersAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := startServer(t, ctx, lkserver.Options{TURN: true})
	participant, err := join(srv, "looker", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer participant.Disconnect()
	pc := participant.LocalParticipant.GetPublisherPeerConnection()
	if pc == nil {
		t.Fatal("no peer connection after joining")
	}
	var urls []string
	for _, s := range pc.GetConfiguration().ICEServers {
		urls = append(urls, s.URLs...)
	}
	if len(urls) == 0 {
		t.Fatal("the server offered no STUN or TURN server at all")
	}
	for _, u := range urls {
		_, hostPort, _ := strings.Cut(u, ":") // stun:host:port, turns:host:port?transport=tcp
		hostPort, _, _ = strings.Cut(hostPort, "?")
		if host, _, err := net.SplitHostPort(hostPort); err != nil || host != netns.Addr {
			t.Errorf("the server offers %s; want only servers on %s", u, netns.Addr)
		}
		if strings.HasPrefix(u, "stun:") {
			if err := askSTUN(hostPort); err != nil {
				t.Errorf("the server offers %s: %v", u, err)
			}
		}
	}
}

// askSTUN sends a STUN binding request to hostPort and waits a second for
// the answer.
func askSTUN(hostPort string) error {
	conn, err := net.Dial("udp4", hostPort)
	if err != nil {
		return err
	}
	defer conn.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := conn.Write(req.Raw); err != nil {
		return err
	}
	if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		return fmt.Errorf("no answer to a binding request: %w", err)
	}
	resp := &stun.Message{Raw: buf[:n]}
	var mapped stun.XORMappedAddress
	if err := resp.Decode(); err != nil || resp.Type != stun.BindingSuccess || mapped.GetFrom(resp) != nil {
		return fmt.Errorf("the answer to a binding request is not a success with an address: %v", resp)
	}
	if mapped.String() != conn.LocalAddr().String() {
		return fmt.Errorf("the answer names %v; the request came from %v", mapped, conn.LocalAddr())
	}
	return nil
}

func TestToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := startServer(t, ctx, lkserver.Options{})

	tests := []struct {
		name, room, identity string
		wantErr              bool
	}{
		{name: "joins room", room: "kitchen", identity: "callbox-1"},
		{name: "empty room", room: "", identity: "callbox-1", wantErr: true},
		{name: "empty identity", room: "kitchen", identity: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := srv.Token(tt.room, tt.identity)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Token(%q, %q) = nil error, want one", tt.room, tt.identity)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			verifier, err := auth.ParseAPIToken(token)
			if err != nil {
				t.Fatal(err)
			}
			_, grants, err := verifier.Verify(srv.APISecret)
			if err != nil {
				t.Fatalf("verify with server's secret: %v", err)
			}
			if grants.Identity != tt.identity || grants.Video == nil || !grants.Video.RoomJoin || grants.Video.Room != tt.room {
				t.Errorf("grants = identity %q video %+v, want %q joining %q", grants.Identity, grants.Video, tt.identity, tt.room)
			}
		})
	}
	if len(srv.APISecret) < 32 {
		t.Errorf("API secret has %d characters, the server wants at least 32", len(srv.APISecret))
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    lkserver.Options
		wantErr string
	}{
		{name: "no address", opts: lkserver.Options{}, wantErr: "Options.Addr"},
		{name: "host name", opts: lkserver.Options{Addr: "localhost"}, wantErr: "Options.Addr"},
		{name: "IPv6", opts: lkserver.Options{Addr: "::1"}, wantErr: "Options.Addr"},
		{name: "negative port", opts: lkserver.Options{Addr: netns.Addr, Port: -1}, wantErr: "Options.Port"},
		{name: "port too big", opts: lkserver.Options{Addr: netns.Addr, Port: 70000}, wantErr: "Options.Port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := lkserver.Start(context.Background(), tt.opts)
			if err == nil {
				_ = srv.Close()
				t.Fatalf("Start(%+v) succeeded, want error about %s", tt.opts, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not name %s", err, tt.wantErr)
			}
		})
	}
}

// TestStartFailureShowsLog takes the server's port first: Start must fail
// and say why, with the server's own words from its log.
func TestStartFailureShowsLog(t *testing.T) {
	ln, err := net.Listen("tcp", net.JoinHostPort(netns.Addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	logFile := filepath.Join(t.TempDir(), "livekit-server.log")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr, Port: port, LogFile: logFile})
	if err == nil {
		_ = srv.Close()
		t.Fatalf("Start on taken port %d succeeded", port)
	}
	for _, want := range []string{logFile, "address already in use", strconv.Itoa(port)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start waited for its deadline instead of noticing the exit: %v", err)
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
