package main

// The box on a network that is not a perfect cable: one that blocks UDP,
// one that drops out. callboxd runs in a peer namespace (netns.Peer) whose
// network the test cuts with nftables; the call server and the viewer stay
// in the test's own namespace, on a network that works.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/netns"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
)

func newPeer(t *testing.T, n int) *netns.Peer {
	t.Helper()
	p, err := netns.NewPeer(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// boxOnPeer starts callboxd in peer with an offscreen screen that the
// returned client takes screenshots of; env is added to its environment.
func boxOnPeer(t *testing.T, peer *netns.Peer, srv *lkserver.Server, room string, env ...string) (*runningDaemon, provisioning.LocalClient) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "callbox.toml")
	cfg := "[display]\noutput = \"offscreen\"\nwidth = 1280\nheight = 720\nfps = 10\n[speaker]\ndevice = \"none\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "control.sock")
	cmd := peer.Command(daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd"), append(serverArgs(srv, room), "-config", cfgPath, "-control", socket,
		"-width", "320", "-height", "180")...)
	cmd.Env = append(os.Environ(), env...)
	return startDaemonCmd(t, cmd), provisioning.LocalClient{Socket: socket}
}

// TestUDPBlocked: on a network that drops every UDP packet from the start,
// the box gets into the call through the server's TURN over TLS, a
// subscriber decodes its pictures, and the log and the screen say which
// way the call goes and why. Without TURN on the server, one clear line
// says why the box cannot get in.
func TestUDPBlocked(t *testing.T) {
	t.Run("through TURN over TLS", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr, TURN: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		peer := newPeer(t, 1)
		if err := peer.Filter(netns.NoUDP); err != nil {
			t.Fatal(err)
		}
		v := startViewer(t, srv, "blocked")
		// The box trusts the authority of the server's test certificate,
		// as it would a public one (Go reads SSL_CERT_FILE).
		d, screen := boxOnPeer(t, peer, srv, "blocked", "SSL_CERT_FILE="+srv.CAFile)
		d.waitLog(t, "in the call", 30*time.Second)
		if err := v.WaitPictures(ctx, 30); err != nil {
			t.Fatal(err)
		}
		checkPictures(t, v, 30)
		d.waitLog(t, `the call's sound and pictures go relayed over TURN/TLS" why="UDP seems blocked on this network"`, 10*time.Second)
		waitText(t, screen, "in the call, relayed over TURN/TLS: UDP seems blocked on this network")
		d.stop(t)
	})
	t.Run("no TURN on the server", func(t *testing.T) {
		srv := startServer(t)
		peer := newPeer(t, 2)
		if err := peer.Filter(netns.NoUDP); err != nil {
			t.Fatal(err)
		}
		d, screen := boxOnPeer(t, peer, srv, "blocked")
		d.waitLog(t, "UDP seems blocked on this network, and the call server offers no TURN relay to get around it", 30*time.Second)
		waitText(t, screen, "not in the call — UDP seems blocked on this network, and the call server offers no TURN")
		if strings.Contains(d.output(), "does not answer in time") {
			t.Errorf("callboxd says the server does not answer, which it does:\n%s", d.output())
		}
		d.stop(t)
	})
}

// TestRejoinAfterBlackout: the box's network drops out for 5 s, then for
// 30 s, then the call server restarts. Each time the box comes back by
// itself, the screen says what is going on, and the subscriber gets new
// pictures and sound, the sound first. The times from the network's
// return to both are logged (go test -v).
func TestRejoinAfterBlackout(t *testing.T) {
	srv := startServer(t)
	peer := newPeer(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	v := startViewer(t, srv, "drop")
	d, screen := boxOnPeer(t, peer, srv, "drop")
	d.waitLog(t, "in the call", 30*time.Second)
	if err := v.WaitPictures(ctx, 30); err != nil {
		t.Fatal(err)
	}

	comeBack := func(what string, v *viewer.Viewer, back time.Time) {
		t.Helper()
		picture, sound := waitPictureAndSound(t, ctx, v, back)
		t.Logf("%s: the first new picture %v and the first sound %v after",
			what, picture.Sub(back).Round(time.Millisecond), sound.Sub(back).Round(time.Millisecond))
		if sound.After(picture) {
			t.Errorf("%s: the sound came back %v after the picture; want it first", what, sound.Sub(picture))
		}
	}

	for _, blackout := range []time.Duration{5 * time.Second, 30 * time.Second} {
		if err := peer.Filter(netns.Blackout); err != nil {
			t.Fatal(err)
		}
		dropped := time.Now()
		waitText(t, screen, "reconnecting: the network dropped")
		if took := time.Since(dropped); took > 5*time.Second {
			t.Errorf("the screen said the network dropped %v after it did, want within 5 s", took.Round(time.Second))
		}
		time.Sleep(blackout - time.Since(dropped))
		if err := peer.Filter(netns.Open); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		waitText(t, screen, "back in the call")
		comeBack(fmt.Sprintf("the network back from a blackout of %v", blackout), v, back)
	}
	if !strings.Contains(d.output(), "lost the call; joining again as soon as the call server answers") {
		t.Errorf("callboxd did not say it lost the call in the 30 s blackout:\n%s", d.output())
	}

	// The viewer's own way back after a restart is the SDK's, slower than
	// the box's: a new viewer watches instead.
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	v2, err := viewer.Start(call.Options{URL: srv.URL, Room: "drop", Identity: "viewer-2", APIKey: srv.APIKey, APISecret: srv.APISecret}, viewer.ReadStamp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v2.Leave)
	comeBack("the call server up again (a viewer joining then)", v2, restarted)
	d.stop(t)
}

// waitPictureAndSound waits until the viewer has decoded a picture of the
// box captured after t0 and heard its sound after t0, and says when each
// arrived.
func waitPictureAndSound(t *testing.T, ctx context.Context, v *viewer.Viewer, t0 time.Time) (picture, sound time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seen := 0 // pictures looked at already
	err := v.Wait(ctx, func() (bool, error) {
		pictures := v.Pictures()
		for _, p := range pictures[seen:] {
			if picture.IsZero() && p.From == "box" && p.Err == nil && p.Stamp.Time.After(t0) {
				picture = p.Decoded
			}
		}
		seen = len(pictures)
		if sound.IsZero() {
			sound, _ = v.FirstSoundAfter("box", t0)
		}
		return !picture.IsZero() && !sound.IsZero(), nil
	})
	if err != nil {
		t.Fatalf("after the network came back: a new picture %v, sound %v; want both within 30 s (%v)", !picture.IsZero(), !sound.IsZero(), err)
	}
	return picture, sound
}
