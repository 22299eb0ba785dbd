package main

// End-to-end encryption with a key per member, through a real LiveKit
// server: the real callboxd (the box, with its screen offscreen), Go
// participants joining with the box's invite links, a recorder that keeps
// everything the SFU forwards, a member who leaves with every key it had
// and comes back as a curious operator would (a server token, no invite),
// and a late joiner.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/internal/viewer"
	"github.com/callbox/callbox/media"
	"github.com/callbox/callbox/pipeline/avcodec"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
	"github.com/callbox/callbox/web/guest"
)

// recorded is what one participant got of the box's video: every frame as
// handed over (decrypted for a member, as forwarded for others) with when
// it came, and the pictures it could read.
type recorded struct {
	mu     sync.Mutex
	frames []arrival
	stamps int
	dec    *avcodec.VideoDecoder
}

type arrival struct {
	at   time.Time
	data []byte
}

func (r *recorded) onVideo(f call.Frame) {
	if f.From != "box" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, arrival{at: f.Arrived, data: bytes.Clone(f.Data)})
	if r.dec == nil {
		return
	}
	if pic, err := r.dec.Decode(f.Data); err == nil && pic != nil {
		if _, err := camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy()); err == nil {
			r.stamps++
		}
	}
}

func (r *recorded) pictures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stamps
}

func (r *recorded) between(from, to time.Time) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for _, a := range r.frames {
		if !a.at.Before(from) && a.at.Before(to) {
			out = append(out, a.data)
		}
	}
	return out
}

// member joins with an invite link, as a Go participant would.
func member(t *testing.T, link string) (*call.Watcher, *recorded) {
	t.Helper()
	opts, err := guest.MemberOptions(link)
	if err != nil {
		t.Fatal(err)
	}
	opts.Group.RecordKeys = true
	r := &recorded{}
	if r.dec, err = avcodec.NewVideoDecoder("H264"); err != nil {
		t.Fatal(err)
	}
	w, err := call.Watch(opts, call.Handlers{Video: r.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Leave(); r.mu.Lock(); r.dec.Close(); r.dec = nil; r.mu.Unlock() })
	return w, r
}

// memberViewer joins the box's call as a member with an invite of the box,
// a viewer that reads the test pattern's stamps, for the rest of the test.
func memberViewer(t *testing.T, box provisioning.LocalClient, name string) *viewer.Viewer {
	t.Helper()
	opts, err := guest.MemberOptions(inviteLink(t, box, name).Link)
	if err != nil {
		t.Fatal(err)
	}
	v, err := viewer.Start(opts, viewer.ReadStamp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Leave)
	return v
}

// outsider joins with a token from the server alone: no invite, no keys.
// It records what the SFU forwards.
func outsider(t *testing.T, srv *lkserver.Server, room, identity string) (*call.Watcher, *recorded) {
	t.Helper()
	token, err := srv.Token(room, identity)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorded{}
	w, err := call.Watch(call.Options{URL: srv.URL, Token: token}, call.Handlers{Video: r.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Leave)
	return w, r
}

func inviteLink(t *testing.T, c provisioning.LocalClient, name string) provisioning.InviteResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Invite(ctx, provisioning.InviteRequest{Name: name, Page: "https://box.test/guest/"})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
}

// decryptable counts the frames that decrypt with any of materials.
func decryptable(frames [][]byte, materials [][]byte) int {
	n := 0
	for _, f := range frames {
		if call.Decrypts(media.CodecH264, f, materials) {
			n++
		}
	}
	return n
}

// TestMembersKeysThroughLiveKit is the check of forward secrecy,
// no look back, the verification string and revocation, through the real
// server with the real callboxd.
func TestMembersKeysThroughLiveKit(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	const room = "members"
	cfgPath := filepath.Join(dir, "callbox.toml")
	if err := os.WriteFile(cfgPath, []byte("[display]\noutput = \"offscreen\"\nwidth = 1920\nheight = 1080\nfps = 10\n[speaker]\ndevice = \"none\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "control.sock")
	d := startDaemon(t, append(serverArgs(srv, room), "-config", cfgPath, "-control", socket,
		"-codec", "h264", "-width", "320", "-height", "240")...)
	d.waitLog(t, "end-to-end encrypted with a key per member", 10*time.Second)
	d.waitLog(t, "in the call", 30*time.Second)
	c := provisioning.LocalClient{Socket: socket}

	_, tape := outsider(t, srv, room, "recorder") // keeps all the SFU forwards
	annaInvite := inviteLink(t, c, "Anna")
	anna, annaGot := member(t, annaInvite.Link)
	bertInvite := inviteLink(t, c, "Bert")
	bert, bertGot := member(t, bertInvite.Link)
	waitFor(t, "Anna and Bert read the box's pictures", 30*time.Second, func() bool { return annaGot.pictures() >= 30 && bertGot.pictures() >= 30 })

	// The verification string: the same for the members and on the box's
	// screen, and Bert is a member.
	check := anna.Encryption()
	if check.Words == "" || bert.Encryption().Words != check.Words || len(check.Members) != 3 {
		t.Fatalf("Anna sees %+v, Bert %+v", check, bert.Encryption())
	}
	waitText(t, c, "end-to-end encrypted, check "+check.Words)
	t.Logf("the members' check with three: %s (%s)", check.Verification, check.Words)
	// Bert's invite card went once he was in: the call is what to see.
	if err := daemontest.Poll(10*time.Second, 100*time.Millisecond, func() error {
		f, _, err := screenshot(c)
		if err != nil {
			return err
		}
		if _, shown := compose.FindText(f, f.Bounds(), "Join this call"); shown {
			return errors.New("the invite's card is still on the screen after its guest joined")
		}
		return nil
	}); err != nil {
		t.Error(err)
	}

	// Bert leaves with every key he held, and comes back at once as a
	// curious operator would: a valid server token, the same identity,
	// no invite. What the SFU hands him now must not decrypt with any of
	// his keys once the box switched: the deadline, plus a second.
	bertKeys := bert.HeldKeys()
	beforeLeave := time.Now()
	if n := decryptable(tape.between(beforeLeave.Add(-3*time.Second), beforeLeave), bertKeys); n == 0 {
		t.Fatal("Bert's keys decrypt none of what came before he left: the check below would prove nothing")
	}
	bert.Leave()
	left := time.Now()
	bertLink, err := guest.ParseLink(bertInvite.Link)
	if err != nil {
		t.Fatal(err)
	}
	_, bertAgainGot := outsider(t, srv, room, bertLink.Identity)
	cutoff := left.Add(keys.DefaultSwitchDeadline + time.Second)
	time.Sleep(time.Until(cutoff.Add(4 * time.Second)))
	late := bertAgainGot.between(cutoff, time.Now())
	early := bertAgainGot.between(left, cutoff)
	if len(late) < 30 {
		t.Fatalf("the curious Bert got %d frames after the cut-off, want at least 30 to judge", len(late))
	}
	if n := decryptable(late, bertKeys); n != 0 {
		t.Errorf("with the keys he left with, Bert decrypts %d of %d frames sent more than %v after he left", n, len(late), cutoff.Sub(left))
	}
	t.Logf("Bert back without an invite: %d of %d frames before the cut-off decrypt with his old keys, 0 of %d after",
		decryptable(early, bertKeys), len(early), len(late))
	if bertAgainGot.pictures() != 0 {
		t.Errorf("Bert without an invite read %d pictures", bertAgainGot.pictures())
	}
	after := anna.Encryption()
	if after.Words == check.Words || len(after.Members) != 2 {
		t.Errorf("after Bert left Anna sees %+v; before %+v", after, check)
	}
	waitText(t, c, "end-to-end encrypted, check "+after.Words)
	// The screen says who is in without an invite.
	_, png := waitText(t, c, noKeysMark) // on the tile of Bert (or of the recorder, under the invite's card)
	if st := anna.Encryption(); !slices.Contains(st.Outsiders, bertLink.Identity) {
		t.Errorf("Anna does not see Bert as one without keys: %+v", st)
	}
	keepScreenshot(t, "members-check.png", png)

	// A late joiner: nothing recorded before it came decrypts with the
	// keys it is given, while it reads the pictures after.
	joinAt := time.Now()
	carl, carlGot := member(t, inviteLink(t, c, "Carl").Link)
	waitFor(t, "Carl reads the box's pictures", 30*time.Second, func() bool { return carlGot.pictures() >= 30 })
	before := tape.between(joinAt.Add(-5*time.Second), joinAt)
	if n := decryptable(before, anna.HeldKeys()); n == 0 {
		t.Fatal("Anna's keys decrypt none of what came before Carl: the check below would prove nothing")
	}
	if n := decryptable(before, carl.HeldKeys()); n != 0 {
		t.Errorf("Carl decrypts %d of %d frames sent before he joined", n, len(before))
	}
	if w := carl.Encryption().Words; w != anna.Encryption().Words || w == after.Words {
		t.Errorf("with Carl, Carl sees %q, Anna %q (before Carl: %q)", w, anna.Encryption().Words, after.Words)
	}

	// Revoking Anna's invite puts her out, and she holds no key after.
	annaKeysBefore := len(anna.HeldKeys())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.Revoke(ctx, annaInvite.Name); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	time.Sleep(keys.DefaultSwitchDeadline + 3*time.Second)
	if n := len(annaGot.between(revoked.Add(2*time.Second), time.Now())); n != 0 {
		t.Errorf("Anna still got %d frames 2 s after her invite was revoked: she was not put out", n)
	}
	afterRevoke := tape.between(revoked.Add(keys.DefaultSwitchDeadline+time.Second), time.Now())
	if len(afterRevoke) < 10 {
		t.Fatalf("the recorder got %d frames after the revocation", len(afterRevoke))
	}
	if n := decryptable(afterRevoke, anna.HeldKeys()); n != 0 {
		t.Errorf("Anna's keys decrypt %d of %d frames after her invite was revoked", n, len(afterRevoke))
	}
	t.Logf("Anna held %d keys at the revocation, %d after", annaKeysBefore, len(anna.HeldKeys()))
	if n := carlGot.pictures(); n < 30 {
		t.Errorf("Carl read %d pictures", n)
	}

	// No key in the log.
	for _, w := range [][][]byte{bertKeys, anna.HeldKeys(), carl.HeldKeys()} {
		for _, secret := range w {
			for _, enc := range []string{hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret)} {
				if strings.Contains(d.output(), enc) {
					t.Fatal("callboxd logged a key")
				}
			}
		}
	}
	d.stop(t)
}
