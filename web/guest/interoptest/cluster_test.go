package interoptest

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/clustertest"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

// TestGuestBackAfterANodeDies: the box, a Go member (Bob) and a Chromium
// guest (Anna) in an end-to-end encrypted call, all signalling through
// one node of a real cluster while the room lives on the other, which is
// then killed (SIGKILL). Everyone gets back by themselves: the page leaves
// its dead call and joins again, says so and who is back; the page shows
// the box's pictures captured after the kill and decodes Bob's again; the
// box's screen shows Anna's new pictures; Bob decodes the box's and
// Anna's.
func TestGuestBackAfterANodeDies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const room = "cluster-guest"
	cr := clustertest.Start(t, ctx, room)
	holder, survivor := cr.Holder, cr.Survivor
	// The box and the others come in through the node that does not hold
	// the room, so the room's node can die under a call whose signalling
	// goes on.
	rig := startRig(t, ctx, room, rigSettings{servers: []*lkserver.Server{survivor, holder}})
	cr.LeaveFirst()
	box := provisioning.LocalClient{Socket: rig.socket}

	bobLink, _ := rig.invite(t, "-name", "Bob")
	opts, err := guest.MemberOptions(bobLink)
	if err != nil {
		t.Fatal(err)
	}
	opts.OtherURLs = []string{holder.URL}
	opts.Width, opts.Height = 320, 180
	bob, err := viewer.StartParticipant(opts, viewer.ReadStamp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bob.Leave)

	link, _ := rig.invite(t, "-name", "Anna")
	done := make(chan pageResult, 1)
	go func() {
		var r pageResult
		defer func() { done <- r }() // also when openInPage fails the test
		// Sampling long enough to see the call before the kill and after it.
		r = openInPage(t, ctx, link, "BOX_IDENTITY=box", "MEMBERS=3", "SAMPLES=100", "SAMPLE_GAP_MS=250", "KEEP_CONSOLE=1",
			// livekit-client's error when the server it reconnects through tells it to leave
			"EXPECTED_CONSOLE=while trying to (re)connect")
	}()
	// The page's result, once it is done: the test waits for it also when
	// it fails early (the test's ctx, ended by then, stops the page).
	pageDone := sync.OnceValue(func() pageResult { return <-done })
	t.Cleanup(func() {
		if page := pageDone(); t.Failed() {
			t.Logf("the page logged:\n%s\ncallboxd logged:\n%s", strings.Join(page.Console, "\n"), rig.log.String())
		}
	})
	anna := shownAnew(t, ctx, box, "Anna", 30, false, 60*time.Second) // the box shows her
	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("the room's node %s killed; %s lives on", holder.URL, survivor.URL)
	shownAnew(t, ctx, box, "Anna", 30, true, 45*time.Second)
	t.Logf("the box shows the guest's new pictures %.1f s after the kill", time.Since(killed).Seconds())
	if err := decodedAfter(ctx, bob, killed, "box", anna.Identity); err != nil {
		t.Errorf("Bob: %v", err)
	}
	bobCheck := bob.Encryption() // while all three are in the call
	page := pageDone()
	t.Logf("the page's calls ended for reasons %v; it says %q", page.Ends, page.EndStatus)

	var after []time.Time
	for _, p := range page.Pictures {
		if p.Width == 0 {
			continue // none on the page for a moment while it joined again
		}
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
	if len(page.Ends) == 0 {
		t.Errorf("the page's call never ended: it did not join again (ends %v)", page.Ends)
	}
	if page.Decoded[opts.Identity] == 0 {
		t.Errorf("the page decoded no picture of Bob in its last call: %v", page.Decoded)
	}
	if !strings.HasPrefix(page.EndStatus, "Back in the call with ") || !strings.Contains(page.EndStatus, "Bob") {
		t.Errorf("the page says %q, want who is back", page.EndStatus)
	}
	if page.EndWords == "" || page.EndWords != bobCheck.Words || len(bobCheck.Members) != 3 {
		t.Errorf("the page's check is %q, Bob's %q with %v: want the same, of three", page.EndWords, bobCheck.Words, bobCheck.Members)
	}
	if !page.Encrypted || page.Fingerprint == "" {
		t.Errorf("the page: encrypted %v, check %q", page.Encrypted, page.Fingerprint)
	}
	if now, err := cr.Cluster.RoomNode(ctx, room); err != nil || now != survivor {
		t.Errorf("the room is on %v (%v) after its node died, want %s", now, err, survivor.URL)
	}
}

// shownAnew waits until the box's screen has shown n pictures of name's
// camera; with anew, of a new session of theirs (the count starts again
// from 0), as after a rejoin. It returns that participant.
func shownAnew(t *testing.T, ctx context.Context, box provisioning.LocalClient, name string, n int, anew bool, within time.Duration) provisioning.Participant {
	t.Helper()
	last, restarted := -1, !anew
	var found provisioning.Participant
	err := daemontest.Poll(within, 100*time.Millisecond, func() error {
		ps, err := box.Participants(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ps, func(p provisioning.Participant) bool { return p.Name == name })
		if i < 0 || ps[i].Pictures < last {
			restarted = true
		}
		if i < 0 {
			last = 0
			return fmt.Errorf("%s is not on the box's screen: %+v", name, ps)
		}
		last, found = ps[i].Pictures, ps[i]
		if restarted && last >= n {
			return nil
		}
		return fmt.Errorf("the box has shown %d pictures of %s (a new session: %v), want %d: %+v", last, name, restarted, n, ps)
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// decodedAfter waits until v has decoded 10 pictures of each of from that
// arrived later than 2 s after t0.
func decodedAfter(ctx context.Context, v *viewer.Viewer, t0 time.Time, from ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	count := map[string]int{}
	err := v.Wait(ctx, func() (bool, error) {
		clear(count)
		for _, p := range v.Pictures() {
			if p.Decoded.After(t0.Add(2 * time.Second)) {
				count[p.From]++
			}
		}
		for _, id := range from {
			if count[id] < 10 {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("decoded %v pictures after the kill, want 10 of each of %v: %w", count, from, err)
	}
	return nil
}
