package main

// The box on a network that is not a perfect cable: one that blocks UDP,
// one that drops out. callboxd runs in a peer namespace (netns.Peer) whose
// network the test cuts with nftables; the call server and the viewer stay
// in the test's own namespace, on a network that works.

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
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
// the box gets into the call through the server's TURN over TLS, a member
// with an invite decodes its pictures (the keys come that way too), and
// the log and the screen say which way the call goes and why. Without
// TURN on the server, one clear line says why the box cannot get in.
func TestUDPBlocked(t *testing.T) {
	t.Run("through TURN over TLS", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Other machines on the server's network, as a cluster's nodes
		// are: the server's media must still go from its own address.
		for _, addr := range []string{"10.99.0.21", "10.99.0.22", "10.99.0.23", "10.99.0.24"} {
			if err := netns.AddAddr(addr); err != nil {
				t.Fatal(err)
			}
		}
		srv, err := lkserver.Start(ctx, lkserver.Options{Addr: netns.Addr, TURN: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		t.Cleanup(func() {
			if t.Failed() {
				log, _ := os.ReadFile(srv.LogFile)
				t.Logf("the call server said:\n%s", log)
			}
		})
		peer := newPeer(t, 1)
		if err := peer.Filter(netns.NoUDP); err != nil {
			t.Fatal(err)
		}
		// The box trusts the authority of the server's test certificate,
		// as it would a public one (Go reads SSL_CERT_FILE).
		daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd") // before the clock starts
		started := time.Now()
		d, screen := boxOnPeer(t, peer, srv, "blocked", "SSL_CERT_FILE="+srv.CAFile)
		d.waitLog(t, "in the call", 30*time.Second)
		inCall := time.Now()
		v := memberViewer(t, screen, "Viewer")
		if err := v.WaitPictures(ctx, 30); err != nil {
			t.Fatal(err)
		}
		t.Logf("in the call %v after callboxd started; the member's 30th picture %v after that",
			inCall.Sub(started).Round(100*time.Millisecond), time.Since(inCall).Round(100*time.Millisecond))
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

// TestRejoinAfterBlackout: the box's network drops out for 5 s; then
// until the box gives the call up, and comes back at once (the call
// server may still count the box's old session in the room); then for
// 30 s; then the call server restarts. Each time the box comes back by
// itself, the screen says what is going on, and a member watching (with
// an invite: the call is end-to-end encrypted, as users have it) gets new
// pictures and sound, the sound first, and goes on getting them, and the
// box's screen shows the same members' check as the member. The times
// from the network's return to both are logged (go test -v).
func TestRejoinAfterBlackout(t *testing.T) {
	srv := startServer(t)
	peer := newPeer(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	d, screen := boxOnPeer(t, peer, srv, "drop")
	d.waitLog(t, "end-to-end encrypted with a key per member", 10*time.Second)
	d.waitLog(t, "in the call", 30*time.Second)
	v := memberViewer(t, screen, "Viewer")
	if err := v.WaitPictures(ctx, 30); err != nil {
		t.Fatal(err)
	}
	check := v.Encryption()
	if check.Words == "" || len(check.Members) != 2 {
		t.Fatalf("the member sees %+v", check)
	}

	// comeBack: new pictures and sound, the sound first, still coming
	// seconds later (the box's new session was not cut off, and the member
	// kept the keys it was given), and the members' check on the screen
	// and the member's alike (the keys were exchanged again when the box
	// joined afresh).
	comeBack := func(what string, v *viewer.Viewer, back time.Time) {
		t.Helper()
		picture, sound := waitPictureAndSound(t, ctx, v, back)
		t.Logf("%s: the first new picture %v and the first sound %v after",
			what, picture.Sub(back).Round(time.Millisecond), sound.Sub(back).Round(time.Millisecond))
		if sound.After(picture) {
			t.Errorf("%s: the sound came back %v after the picture; want it first", what, sound.Sub(picture))
		}
		waitPictureAndSound(t, ctx, v, picture.Add(5*time.Second))
		words := v.Encryption().Words
		if words == "" {
			t.Fatalf("%s: the member has no members' check: %+v", what, v.Encryption())
		}
		waitText(t, screen, "end-to-end encrypted, check "+words)
	}

	const lostLine = "lost the call; joining again as soon as the call server answers"
	for _, blackout := range []struct {
		name string
		// last is how long the network is out; 0: until the box says it
		// lost the call.
		last time.Duration
		// lost: the box must have given the call up meanwhile.
		lost bool
	}{
		{name: "a blackout of 5s", last: 5 * time.Second},
		{name: "a blackout until the box gave the call up", lost: true},
		{name: "a blackout of 30s", last: 30 * time.Second, lost: true},
	} {
		lostBefore := strings.Count(d.output(), lostLine)
		if err := peer.Filter(netns.Blackout); err != nil {
			t.Fatal(err)
		}
		dropped := time.Now()
		waitText(t, screen, "reconnecting: the network dropped")
		if took := time.Since(dropped); took > 5*time.Second {
			t.Errorf("the screen said the network dropped %v after it did, want within 5 s", took.Round(time.Second))
		}
		if blackout.last > 0 {
			time.Sleep(blackout.last - time.Since(dropped))
		} else {
			waitFor(t, "callboxd saying it lost the call", time.Minute, func() bool {
				return strings.Count(d.output(), lostLine) > lostBefore
			})
			t.Logf("the box gave the call up %v after the network dropped", time.Since(dropped).Round(100*time.Millisecond))
		}
		if err := peer.Filter(netns.Open); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		if blackout.lost && strings.Count(d.output(), lostLine) == lostBefore {
			t.Errorf("callboxd did not say it lost the call in %s:\n%s", blackout.name, d.output())
		}
		waitText(t, screen, "back in the call")
		comeBack("the network back from "+blackout.name, v, back)
		if after := v.Encryption(); after.Words != check.Words || len(after.Members) != 2 {
			t.Errorf("after %s the member sees %+v; before, %+v", blackout.name, after, check)
		}
	}

	// The viewer's own way back after a restart is the SDK's, slower than
	// the box's: a new member watches instead.
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	comeBack("the call server up again (a member joining then)", memberViewer(t, screen, "Viewer 2"), restarted)
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

// TestLineAfterBlackout: a box whose calls ring (B, on a peer whose
// network the test cuts) loses its line in a blackout, gets back into it
// by itself once the network returns, and a call to it then rings and is
// answered.
func TestLineAfterBlackout(t *testing.T) {
	srv := startServer(t)
	peer := newPeer(t, 4)
	dir := t.TempDir()
	path, socket := filepath.Join(dir, "callbox.toml"), filepath.Join(dir, "control.sock")
	cfgB := ringSettings(t, srv, "line-b", "box-b", "Box B", toneB, "line-a", "Grandma")
	if err := config.Save(path, cfgB); err != nil {
		t.Fatal(err)
	}
	d := startDaemonCmd(t, peer.Command(daemontest.Build(t, "github.com/callbox/callbox/cmd/callboxd"), "-config", path, "-control", socket))
	b := &ringBox{api: provisioning.LocalClient{Socket: socket},
		said: func(t *testing.T, text string) { t.Helper(); d.waitLog(t, text, 30*time.Second) }, log: d.output}
	a := startBoxA(t, srv, b)

	if err := peer.Filter(netns.Blackout); err != nil {
		t.Fatal(err)
	}
	dropped := time.Now()
	waitFor(t, "B saying it lost its line", 90*time.Second, func() bool {
		return strings.Contains(d.output(), "lost the call; joining again as soon as the call server answers")
	})
	t.Logf("B gave its line up %v after the network dropped", time.Since(dropped).Round(100*time.Millisecond))
	if err := peer.Filter(netns.Open); err != nil {
		t.Fatal(err)
	}
	b.said(t, "back in the line, waiting for calls")
	b.ring(t, "B waiting in its line again", 10*time.Second, waiting)

	a.act(t, "speed_dial_1")
	if st := b.ring(t, "B to ring after the blackout", 20*time.Second, ringing); !slices.Contains(st.Callers, "Grandma") {
		t.Errorf("B rings for %q, want Grandma", st.Callers)
	}
	b.act(t, "answer")
	b.ring(t, "B in the call", 10*time.Second, func(st provisioning.RingStatus) bool { return st.State == call.InCall.String() })
	a.ring(t, "A in the call", 10*time.Second, func(st provisioning.RingStatus) bool { return st.State == call.InCall.String() })
}
