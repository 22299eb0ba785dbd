package main

// Several boxes in one room, through a real LiveKit server: two boxes that
// list each other (call.boxes) share one call, and the guests of each get
// keys from both; a third box that they do not list gets none; when the box
// that leads leaves, the other takes over and the one that left reads
// nothing sent after the switch.

import (
	"bytes"
	"context"
	"image"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/device/camera"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/pipeline/avcodec"
)

// seen is what one participant got of each sender's video: every frame as
// handed over (decrypted for a member, as forwarded for one without keys)
// and when it read a picture of that sender: its stamp, in its colour.
type seen struct {
	mu       sync.Mutex
	senders  map[string]sender // whose colours to look for; nil: keep frames only
	decoders map[string]*avcodec.VideoDecoder
	frames   map[string][]arrival
	pictures map[string][]time.Time
}

func newSeen(t *testing.T, senders ...sender) *seen {
	t.Helper()
	s := &seen{senders: map[string]sender{}, decoders: map[string]*avcodec.VideoDecoder{},
		frames: map[string][]arrival{}, pictures: map[string][]time.Time{}}
	for _, snd := range senders {
		s.senders[snd.identity] = snd
	}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, d := range s.decoders {
			d.Close()
		}
		s.decoders = nil
	})
	return s
}

func (s *seen) onVideo(f call.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames[f.From] = append(s.frames[f.From], arrival{at: f.Arrived, data: bytes.Clone(f.Data)})
	snd, ok := s.senders[f.From]
	if !ok || s.decoders == nil {
		return
	}
	dec := s.decoders[f.From]
	if dec == nil {
		var err error
		if dec, err = avcodec.NewVideoDecoder("H264"); err != nil {
			return
		}
		s.decoders[f.From] = dec
	}
	pic, err := dec.Decode(f.Data)
	if err != nil || pic == nil {
		return
	}
	_, err = camera.ReadStamp(pic.Y, pic.YStride, pic.Rect.Dx(), pic.Rect.Dy())
	if err == nil && inColour(pic, snd) {
		s.pictures[f.From] = append(s.pictures[f.From], f.Arrived)
	}
}

// inColour reports whether the picture's lower half has the sender's tint
// (tinted): the picture is that sender's, not another's.
func inColour(pic *image.YCbCr, s sender) bool {
	near := func(a, b byte) bool { return int(a)+16 >= int(b) && int(b)+16 >= int(a) }
	i := pic.COffset(pic.Rect.Dx()/2, pic.Rect.Dy()*3/4)
	return near(pic.Cb[i], s.cb) && near(pic.Cr[i], s.cr)
}

// read counts the pictures of from read since.
func (s *seen) read(from string, since time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return countSince(s.pictures[from], since)
}

// countSince counts the times at or after since.
func countSince(times []time.Time, since time.Time) int {
	n := 0
	for _, at := range times {
		if !at.Before(since) {
			n++
		}
	}
	return n
}

func (s *seen) between(from string, start, end time.Time) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, a := range s.frames[from] {
		if !a.at.Before(start) && a.at.Before(end) {
			out = append(out, a.data)
		}
	}
	return out
}

// boxIdentities are n box identities, lowest signing key first: of the
// boxes present that trust each other, the lowest leads.
func boxIdentities(t *testing.T, n int) []*keys.Identity {
	t.Helper()
	var ids []*keys.Identity
	for range n {
		id, err := keys.NewIdentity()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b *keys.Identity) int { return bytes.Compare(a.SigKey(), b.SigKey()) })
	return ids
}

func sigKeys(ids ...*keys.Identity) [][]byte {
	var out [][]byte
	for _, id := range ids {
		out = append(out, id.SigKey())
	}
	return out
}

// testBox is a box of the test: a session sending the test pattern in its
// colour, with its own identity and invites, listing the boxes others;
// group, when not nil, changes its key exchange's options.
type testBox struct {
	session *call.Session
	book    *keys.InviteBook
	id      *keys.Identity
	got     *seen
	heard   *heard
	left    <-chan struct{}
}

func startTestBox(t *testing.T, ctx context.Context, srv *lkserver.Server, room string, s sender, id *keys.Identity, others []*keys.Identity,
	group func(*call.GroupOptions), watch ...sender) *testBox {
	t.Helper()
	book, err := keys.NewInviteBook(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &testBox{book: book, id: id, got: newSeen(t, watch...), heard: &heard{}}
	b.session, b.left = startSenderSession(t, ctx, srv, room, s, func(o *call.Options) {
		o.Group = &call.GroupOptions{Identity: id, Invites: book, Boxes: sigKeys(others...), RecordKeys: true}
		if group != nil {
			group(o.Group)
		}
		o.Remote = call.RemoteOptions{Handlers: call.Handlers{Video: b.got.onVideo, Audio: b.heard.onAudio}}
		o.Logger = quietLog
	})
	return b
}

// testGuest is a guest of the test: its identity and invite's secret, and
// what it read.
type testGuest struct {
	*call.Watcher
	got    *seen
	id     *keys.Identity
	secret []byte
}

// guestOf joins as a guest with an invite of b, reading the senders'
// pictures; group, when not nil, changes its key exchange's options.
func guestOf(t *testing.T, srv *lkserver.Server, room, identity string, b *testBox, group func(*call.GroupOptions), watch ...sender) *testGuest {
	t.Helper()
	rec, err := b.book.Add(identity, identity, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	id, err := keys.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	got := newSeen(t, watch...)
	opts := &call.GroupOptions{Identity: id, RecordKeys: true, Invite: &keys.Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: b.id.SigKey()}}
	if group != nil {
		group(opts)
	}
	w, err := call.Watch(call.Options{URL: srv.URL, Room: room, Identity: identity, APIKey: srv.APIKey, APISecret: srv.APISecret,
		Logger: quietLog, Group: opts}, call.Handlers{Video: got.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Leave)
	return &testGuest{Watcher: w, got: got, id: id, secret: rec.Secret}
}

// encrypted is what a participant shows of the call's encryption.
type encrypted interface{ Encryption() call.EncryptionStatus }

// checkSameCall: all show the same check and members, led by leader.
func checkSameCall(t *testing.T, leader string, members []string, who map[string]encrypted) string {
	t.Helper()
	words := ""
	for name, p := range who {
		e := p.Encryption()
		if words == "" {
			words = e.Words
		}
		if e.Words == "" || e.Words != words || e.Leader != leader || !slices.Equal(e.Members, members) {
			t.Errorf("%s shows %+v; want the check %q, members %v, led by %s", name, e, words, members, leader)
		}
	}
	return words
}

func TestTwoBoxesOneCallThroughLiveKit(t *testing.T) {
	srv := startServer(t)
	const room = "two-boxes"
	boxA := sender{"box-a", 90, 240, 500} // red
	boxB := sender{"box-b", 240, 90, 800} // blue
	boxC := sender{"box-c", 60, 60, 1200} // green
	ids := boxIdentities(t, 3)
	// The box not listed has the lowest key: were it trusted, it would lead.
	idC, idA, idB := ids[0], ids[1], ids[2]

	tape := newSeen(t) // what the SFU forwards, to a participant without keys
	recorder, err := call.Watch(call.Options{URL: srv.URL, Room: room, Identity: "recorder", APIKey: srv.APIKey, APISecret: srv.APISecret,
		Logger: quietLog}, call.Handlers{Video: tape.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	defer recorder.Leave()
	ctxA, leaveA := context.WithCancel(t.Context())
	defer leaveA()
	a := startTestBox(t, ctxA, srv, room, boxA, idA, []*keys.Identity{idB}, nil, boxB)
	b := startTestBox(t, t.Context(), srv, room, boxB, idB, []*keys.Identity{idA}, nil, boxA)
	anna := guestOf(t, srv, room, "anna", a, nil, boxA, boxB)
	bert := guestOf(t, srv, room, "bert", b, nil, boxA, boxB)
	annaGot, bertGot := anna.got, bert.got

	start := time.Now()
	defer func() {
		if t.Failed() {
			for name, got := range map[string]*seen{"anna": annaGot, "bert": bertGot, "box-a": a.got, "box-b": b.got} {
				got.mu.Lock()
				fa, fb := len(got.frames["box-a"]), len(got.frames["box-b"])
				got.mu.Unlock()
				t.Logf("%s read %d pictures of box-a (%d frames), %d of box-b (%d frames)", name, got.read("box-a", start), fa, got.read("box-b", start), fb)
			}
			for name, p := range map[string]encrypted{"box-a": a.session, "box-b": b.session, "anna": anna, "bert": bert} {
				t.Logf("%s: %+v", name, p.Encryption())
			}
		}
	}()
	waitFor(t, "everyone reads everyone's pictures", 60*time.Second, func() bool {
		return annaGot.read("box-a", start) >= 20 && annaGot.read("box-b", start) >= 20 &&
			bertGot.read("box-a", start) >= 20 && bertGot.read("box-b", start) >= 20 &&
			a.got.read("box-b", start) >= 20 && b.got.read("box-a", start) >= 20
	})
	four := map[string]encrypted{"box-a": a.session, "box-b": b.session, "anna": anna, "bert": bert}
	waitFor(t, "everyone shows the four members", 10*time.Second, func() bool {
		for _, p := range four {
			if len(p.Encryption().Members) != 4 {
				return false
			}
		}
		return true
	})
	before := checkSameCall(t, "box-a", []string{"anna", "bert", "box-a", "box-b"}, four)
	t.Logf("two boxes, a guest of each: check %s", before)

	// A third box lists both, but neither lists it: no keys, no pictures.
	cSees := newSeen(t, boxA, boxB)
	bookC, err := keys.NewInviteBook(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := call.Watch(call.Options{URL: srv.URL, Room: room, Identity: boxC.identity, APIKey: srv.APIKey, APISecret: srv.APISecret,
		Logger: quietLog, Group: &call.GroupOptions{Identity: idC, Invites: bookC, Boxes: sigKeys(idA, idB), RecordKeys: true}},
		call.Handlers{Video: cSees.onVideo})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Leave()
	waitFor(t, "the boxes see box-c as one without keys", 15*time.Second, func() bool {
		return slices.Contains(a.session.Encryption().Outsiders, "box-c") && slices.Contains(b.session.Encryption().Outsiders, "box-c")
	})
	time.Sleep(3 * time.Second)
	cFrames := slices.Concat(tape.between("box-a", start, time.Now()), tape.between("box-b", start, time.Now()))
	if n := decryptable(cFrames, c.HeldKeys()); n != 0 || cSees.read("box-a", start)+cSees.read("box-b", start) != 0 {
		t.Errorf("box-c, not listed, decrypts %d of %d frames and read %d pictures", n, len(cFrames),
			cSees.read("box-a", start)+cSees.read("box-b", start))
	}
	if e := c.Encryption(); slices.Contains(e.Members, "box-a") || e.Words == before {
		t.Errorf("box-c shows %+v", e)
	}

	// The box that leads leaves; the other takes over, and everyone
	// changes keys.
	leaveA()
	<-a.left
	left := time.Now()
	aKeys := a.session.HeldKeys()
	if n := decryptable(tape.between("box-b", left.Add(-3*time.Second), left), aKeys); n == 0 {
		t.Fatal("box-a's keys decrypt none of box-b's frames before it left: the check below would prove nothing")
	}
	cutoff := left.Add(keys.DefaultSwitchDeadline + time.Second)
	time.Sleep(time.Until(cutoff.Add(4 * time.Second)))
	late := tape.between("box-b", cutoff, time.Now())
	if len(late) < 30 {
		t.Fatalf("the recorder got %d frames of box-b after the cut-off, want at least 30 to judge", len(late))
	}
	opened := decryptable(late, aKeys)
	if opened != 0 {
		t.Errorf("with the keys it left with, box-a decrypts %d of %d frames of box-b sent more than %v after it left", opened, len(late), cutoff.Sub(left))
	}
	for name, got := range map[string]*seen{"anna": annaGot, "bert": bertGot} {
		if n := got.read("box-b", cutoff); n < 20 {
			t.Errorf("%s read %d pictures of box-b after the switch, want at least 20", name, n)
		}
	}
	three := map[string]encrypted{"box-b": b.session, "anna": anna, "bert": bert}
	waitFor(t, "the three show three members", 10*time.Second, func() bool {
		for _, p := range three {
			if len(p.Encryption().Members) != 3 {
				return false
			}
		}
		return true
	})
	after := checkSameCall(t, "box-b", []string{"anna", "bert", "box-b"}, three)
	if after == before {
		t.Errorf("the check did not change when box-a left: %s", after)
	}
	t.Logf("box-a left: box-b leads, check %s; box-a's %d keys decrypt %d of %d frames after the cut-off", after, len(aKeys), opened, len(late))
}
