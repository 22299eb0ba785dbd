package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

// TestNodeDies: a box that knows both nodes of a cluster (call.url lists
// them) is in an end-to-end encrypted call with a member; the node that
// holds the room is killed (SIGKILL, no goodbye). The box says it is
// reconnecting, gets back into the room, which the cluster makes again on
// the other node, by itself; the member (the SDK's own way back, through
// the node that lives) decodes the box's new pictures with the keys the
// box hands it again, and the box's screen says who is back.
func TestNodeDies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := lkserver.StartClusterInNamespace(ctx, 2, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close() })
	const room = "cluster"
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "callbox.toml")
	if err := os.WriteFile(cfgPath, []byte("[display]\noutput = \"offscreen\"\nwidth = 1280\nheight = 720\nfps = 10\n[speaker]\ndevice = \"none\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "control.sock")
	nodes := cluster.Nodes
	d := startDaemon(t, "-url", strings.Join(cluster.URLs(), ","), "-room", room, "-identity", "box",
		"-api-key", nodes[0].APIKey, "-api-secret", nodes[0].APISecret,
		"-config", cfgPath, "-control", socket, "-width", "320", "-height", "180")
	screen := provisioning.LocalClient{Socket: socket}
	d.waitLog(t, "in the call", 30*time.Second)

	holder, err := cluster.RoomNode(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	survivor := nodes[slices.Index(nodes, holder)^1]
	t.Logf("the room is on %s; %s lives on", holder.URL, survivor.URL)

	// The member joins through the node that will live: its SDK knows no
	// other.
	resp, err := screen.Invite(ctx, provisioning.InviteRequest{Name: "Viewer", Page: "https://box.test/guest/", Server: survivor.URL})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := guest.MemberOptions(resp.Link)
	if err != nil {
		t.Fatal(err)
	}
	v, err := viewer.Start(opts, viewer.ReadStamp)
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
	waitText(t, screen, "Viewer")

	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitText(t, screen, "reconnecting")
	waitText(t, screen, "back in the call")
	t.Logf("the box back in the call %.1f s after the kill", time.Since(killed).Seconds())
	picture, sound := waitPictureAndSound(t, ctx, v, killed)
	t.Logf("node_failover_s: %.1f s (the first new picture; the sound after %.1f s)",
		picture.Sub(killed).Seconds(), sound.Sub(killed).Seconds())
	if now, err := cluster.RoomNode(ctx, room); err != nil || now != survivor {
		t.Errorf("the room is on %v (%v) after its node died, want %s", now, err, survivor.URL)
	}
	waitPictureAndSound(t, ctx, v, picture.Add(5*time.Second)) // and it goes on
	if after := v.Encryption(); after.Words != check.Words || len(after.Members) != 2 {
		t.Errorf("after the node died the member sees %+v; before, %+v", after, check)
	}
	waitText(t, screen, "end-to-end encrypted, check "+check.Words)
	waitText(t, screen, "Viewer")
	d.waitLog(t, "server="+survivor.URL, time.Second) // the line that says it is back in the call
	d.stop(t)
}
