package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/clustertest"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

// TestNodeDies: a box that knows both nodes of a cluster (call.url lists
// them) is in an end-to-end encrypted call with a member, who sends
// pictures and sound too and knows both nodes as well; the box signals
// through the node that holds the room, the member through the other. That
// node is killed (SIGKILL, no goodbye). The box says it is
// reconnecting and gets back into the room, which the cluster makes again
// on the other node, by itself, and so does the member; the member decodes
// the box's new pictures with the keys the box hands it again (the same
// members' check), the box shows the member's new pictures, and its
// screen says who is back.
func TestNodeDies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const room = "cluster"
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "callbox.toml")
	if err := os.WriteFile(cfgPath, []byte("[display]\noutput = \"offscreen\"\nwidth = 1920\nheight = 1080\nfps = 10\n[speaker]\ndevice = \"none\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "control.sock")

	// The room is made where LiveKit chooses, on either node; the box
	// signals through that node, the member through the other. So the
	// box's way back is through another server, the member's is noticing
	// that its server answers while its media stopped; and a member on the
	// dead node would be the box's case.
	cr := clustertest.Start(t, ctx, room)
	holder, survivor := cr.Holder, cr.Survivor
	t.Logf("the room is on %s; %s lives on", holder.URL, survivor.URL)
	d := startDaemon(t, "-url", holder.URL+","+survivor.URL, "-room", room, "-identity", "box",
		"-api-key", holder.APIKey, "-api-secret", holder.APISecret,
		"-config", cfgPath, "-control", socket, "-width", "320", "-height", "180")
	screen := provisioning.LocalClient{Socket: socket}
	d.waitLog(t, "in the call", 30*time.Second)
	cr.LeaveFirst()

	resp, err := screen.Invite(ctx, provisioning.InviteRequest{Name: "Anna", Page: "https://box.test/guest/"})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := guest.MemberOptions(resp.Link)
	if err != nil {
		t.Fatal(err)
	}
	var annaLog daemontest.Log
	opts.URL, opts.OtherURLs = survivor.URL, []string{holder.URL}
	opts.Width, opts.Height = 320, 180
	opts.Logger = slog.New(slog.NewTextHandler(&annaLog, nil))
	v, err := viewer.StartParticipant(opts, viewer.ReadStamp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Leave)
	if err := v.WaitPictures(ctx, 30); err != nil {
		t.Fatal(err)
	}
	check := v.Encryption()
	if check.Words == "" || len(check.Members) != 2 {
		t.Fatalf("the member sees %+v", check)
	}
	picturesShown(t, screen, "Anna", 30) // she is on the box's screen

	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// The screen says reconnecting from when the box misses the server's
	// reports (3 s) until it is back, which may be a moment when the room
	// is on the other node already: the log says it for certain.
	d.waitLog(t, "lost the call; joining again", 20*time.Second)
	waitText(t, screen, "back in the call")
	t.Logf("the box back in the call %.1f s after the kill", time.Since(killed).Seconds())
	picture, sound := waitPictureAndSound(t, ctx, v, killed)
	t.Logf("node_failover_s: %.1f s (the first new picture; the sound after %.1f s)",
		picture.Sub(killed).Seconds(), sound.Sub(killed).Seconds())
	if now, err := cr.Cluster.RoomNode(ctx, room); err != nil || now != survivor {
		t.Errorf("the room is on %v (%v) after its node died, want %s", now, err, survivor.URL)
	}
	waitPictureAndSound(t, ctx, v, picture.Add(5*time.Second)) // and it goes on
	if after := v.Encryption(); after.Words != check.Words || len(after.Members) != 2 {
		t.Errorf("after the node died the member sees %+v; before, %+v", after, check)
	}
	waitText(t, screen, "end-to-end encrypted, check "+check.Words)
	picturesShown(t, screen, "Anna", 30) // the box shows her new pictures
	d.waitLog(t, "going on through another", time.Second)
	d.waitLog(t, "server="+survivor.URL, time.Second) // the line that says it is back in the call
	if !strings.Contains(annaLog.String(), "the call server answers, but the call's media stopped") {
		t.Errorf("the member did not say its server answered while its media stopped:\n%s", annaLog.String())
	}
	d.stop(t)
}

// picturesShown waits until the box's screen has shown n more pictures
// of name's camera than when it first looked: pictures that keep coming.
func picturesShown(t *testing.T, c provisioning.LocalClient, name string, n int) {
	t.Helper()
	first, shown := -1, 0
	err := daemontest.Poll(30*time.Second, 100*time.Millisecond, func() error {
		ps, err := c.Participants(context.Background())
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Name == name {
				shown = p.Pictures
				if first < 0 {
					first = shown
				}
				if shown >= first+n {
					return nil
				}
			}
		}
		return fmt.Errorf("the box showed %d pictures of %s, then %d; want %d more (%+v)", first, name, shown, n, ps)
	})
	if err != nil {
		t.Fatal(err)
	}
}
