package interoptest

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/provisioning"
)

// TestGuestBackAfterANodeDies: a Chromium guest in an end-to-end encrypted
// call with the box, both signalling through one node of a real cluster
// while the room lives on the other, which is then killed (SIGKILL): the
// page shows the box's pictures captured after the kill, the box's screen
// shows the guest's new pictures, the page's check unchanged.
func TestGuestBackAfterANodeDies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cluster, err := lkserver.StartClusterInNamespace(ctx, 2, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close() })
	const room = "cluster-guest"
	nodes := cluster.Nodes
	// Someone makes the room where LiveKit chooses; the box and the guest
	// then come in through the other node, so the room's node can die
	// under a call whose signalling goes on.
	first, err := call.Watch(call.Options{URL: nodes[0].URL, Room: room, Identity: "first",
		APIKey: nodes[0].APIKey, APISecret: nodes[0].APISecret}, call.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := cluster.RoomNode(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	survivor := nodes[slices.Index(nodes, holder)^1]
	rig := startRig(t, ctx, room, rigSettings{servers: []*lkserver.Server{survivor, holder}})
	first.Leave()
	link, _ := rig.invite(t, "-name", "Anna")
	box := provisioning.LocalClient{Socket: rig.socket}

	type page struct{ r pageResult }
	done := make(chan page, 1)
	go func() {
		var p page
		defer func() { done <- p }() // also when openInPage fails the test
		// Long enough to see the call before the kill and after it: a
		// browser's SDK takes its own time to find the room gone.
		p.r = openInPage(t, ctx, link, "BOX_IDENTITY=box", "MEMBERS=2", "SAMPLES=150", "SAMPLE_GAP_MS=400",
			"EXPECTED_CONSOLE=while trying to (re)connect|could not") // livekit-client's words for what the test does
	}()
	before := shownOf(t, ctx, box, "Anna", 0, 60*time.Second) // the box shows her
	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("the room's node %s killed; %s lives on", holder.URL, survivor.URL)
	// Her pictures stop with her media path, and come again once both
	// are back: 30 more than when the node died.
	_, err = shown(ctx, box, "Anna", before+30, 90*time.Second)
	r := (<-done).r
	t.Logf("the page's calls ended for reasons %v; it says %q", r.Ends, r.EndStatus)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the box shows the guest again %.1f s after the kill", time.Since(killed).Seconds())
	var after []time.Time
	for _, p := range r.Pictures {
		y, err := base64.StdEncoding.DecodeString(p.Luma)
		if err != nil || len(y) != p.Width*p.Height {
			t.Fatalf("a picture of %dx%d with %d bytes of luma: %v", p.Width, p.Height, len(y), err)
		}
		if s, err := camera.ReadStamp(y, p.Width, p.Width, p.Height); err == nil && s.Time.After(killed.Add(time.Second)) {
			after = append(after, s.Time)
		}
	}
	if len(after) < 3 {
		t.Fatalf("the page showed %d pictures of the box captured after the kill, want 3 or more", len(after))
	}
	t.Logf("the page shows the box's pictures again: the first captured %.1f s after the kill", after[0].Sub(killed).Seconds())
	if !r.Encrypted || r.Fingerprint == "" {
		t.Errorf("the page: encrypted %v, check %q", r.Encrypted, r.Fingerprint)
	}
	if now, err := cluster.RoomNode(ctx, room); err != nil || now != survivor {
		t.Errorf("the room is on %v (%v) after its node died, want %s", now, err, survivor.URL)
	}
}

// shownOf waits until the box's screen has shown more than at least
// pictures of name's camera, and returns how many.
func shownOf(t *testing.T, ctx context.Context, box provisioning.LocalClient, name string, atLeast int, within time.Duration) int {
	t.Helper()
	n, err := shown(ctx, box, name, atLeast, within)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// shown is shownOf's wait, its error returned.
func shown(ctx context.Context, box provisioning.LocalClient, name string, atLeast int, within time.Duration) (int, error) {
	shown := 0
	err := daemontest.Poll(within, 200*time.Millisecond, func() error {
		ps, err := box.Participants(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Name == name && p.Pictures > atLeast {
				shown = p.Pictures
				return nil
			}
		}
		return fmt.Errorf("the box has shown no more than %d pictures of %s: %+v", atLeast, name, ps)
	})
	return shown, err
}
