package main

// A guest whose call broke joins again by herself while the box stays: her
// new session comes under the same identity with new keys, and the server
// puts her old session out only when the new one joins (it never heard her
// leave: her signalling connection is cut, as when her page's network or
// call server went). The box must take the new session for hers, not for
// one that left: it reads her new pictures and sound, she reads the box's,
// and both show the same members' check.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
	"github.com/callbox/callbox/internal/lkserver"
)

// heard counts the sound frames that arrived decrypted from each sender.
type heard struct {
	mu     sync.Mutex
	frames map[string][]time.Time
}

func (h *heard) onAudio(f call.Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.frames == nil {
		h.frames = map[string][]time.Time{}
	}
	h.frames[f.From] = append(h.frames[f.From], f.Arrived)
}

func (h *heard) since(from string, t time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return countSince(h.frames[from], t)
}

// memberships is when a participant was a member as a box showed it: each
// change of whether it was.
type memberships struct {
	mu      sync.Mutex
	changes []membership
}

type membership struct {
	at     time.Time
	member bool
}

func (m *memberships) note(member bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.changes); n == 0 || m.changes[n-1].member != member {
		m.changes = append(m.changes, membership{at: time.Now(), member: member})
	}
}

func (m *memberships) since(t time.Time) []membership {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.changes, func(c membership) bool { return !c.at.Before(t) })
	if i < 0 {
		return nil
	}
	return slices.Clone(m.changes[i:])
}

// describe says the changes since t, with their times from t.
func (m *memberships) describe(t time.Time) string {
	var out []string
	for _, c := range m.since(t) {
		word := "out"
		if c.member {
			word = "in"
		}
		out = append(out, fmt.Sprintf("%s after %.2f s", word, c.at.Sub(t).Seconds()))
	}
	return strings.Join(out, ", ")
}

// admissionsSince counts the times it became a member since t.
func (m *memberships) admissionsSince(t time.Time) int {
	n := 0
	for _, c := range m.since(t) {
		if c.member {
			n++
		}
	}
	return n
}

// rejoiningGuest is one session of the guest's: a sender with keys of its
// own (a new identity key, as the page makes for each call) and the invite.
type rejoiningGuest struct {
	session *call.Session
	got     *seen
	heard   *heard
	stop    context.CancelFunc
	left    <-chan struct{}
}

// signalling relays TCP connections to the call server's signalling port,
// until cut: a participant joined through it loses its connection to the
// server without a word, and cannot join again through it.
type signalling struct {
	url   string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	isCut bool // under mu: a connection accepted as it was cut is closed at once
	wg    sync.WaitGroup
}

func relaySignalling(t *testing.T, srv *lkserver.Server) *signalling {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(u.Hostname(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	r := &signalling{url: "ws://" + ln.Addr().String(), ln: ln}
	t.Cleanup(r.cut)
	r.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", u.Host)
			if err != nil {
				in.Close()
				continue
			}
			r.mu.Lock()
			if r.isCut {
				r.mu.Unlock()
				in.Close()
				out.Close()
				return
			}
			r.conns = append(r.conns, in, out)
			r.mu.Unlock()
			r.wg.Go(func() { _, _ = io.Copy(out, in); out.Close() })
			r.wg.Go(func() { _, _ = io.Copy(in, out); in.Close() })
		}
	})
	return r
}

// cut ends every connection and takes no more; it waits for the relay's
// goroutines.
func (r *signalling) cut() {
	r.ln.Close()
	r.mu.Lock()
	r.isCut = true
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// startRejoiningGuest joins as s with the invite through serverURL,
// reading watch's pictures and sound.
func startRejoiningGuest(t *testing.T, srv *lkserver.Server, serverURL, room string, s sender, invite *keys.Invite, watch sender) *rejoiningGuest {
	t.Helper()
	id, err := keys.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	g := &rejoiningGuest{got: newSeen(t, watch), heard: &heard{}}
	ctx, stop := context.WithCancel(t.Context())
	g.stop = stop
	g.session, g.left = startSenderSession(t, ctx, srv, room, s, func(o *call.Options) {
		token, err := srv.Token(o.Room, o.Identity)
		if err != nil {
			t.Fatal(err)
		}
		// A guest has a token, not the server's key: it cannot put its
		// old session out itself, the server does when the new one joins.
		o.APIKey, o.APISecret, o.Token = "", "", token
		o.URL = serverURL
		o.Group = &call.GroupOptions{Identity: id, Invite: invite}
		o.Remote = call.RemoteOptions{Handlers: call.Handlers{Video: g.got.onVideo, Audio: g.heard.onAudio}}
		o.Logger = quietLog
	})
	t.Cleanup(func() { stop(); <-g.left })
	return g
}

func TestGuestRejoinsWhileTheBoxStays(t *testing.T) {
	srv := startServer(t)
	const room = "guest-rejoins"
	boxS := sender{"box", 90, 240, 500}  // red
	anna := sender{"anna", 240, 90, 800} // blue
	ids := boxIdentities(t, 1)
	boxSaw := &memberships{}
	box := startTestBox(t, t.Context(), srv, room, boxS, ids[0], nil, func(o *call.GroupOptions) {
		o.OnStatus = func(st keys.Status) { boxSaw.note(slices.Contains(st.Members, anna.identity)) }
	}, anna)
	rec, err := box.book.Add(anna.identity, anna.identity, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	invite := &keys.Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: box.id.SigKey()}

	relay := relaySignalling(t, srv)
	first := startRejoiningGuest(t, srv, relay.url, room, anna, invite, boxS)
	t0 := time.Now()
	waitFor(t, "the box and the guest read each other's pictures", 60*time.Second, func() bool {
		return box.got.read(anna.identity, t0) >= 10 && first.got.read(boxS.identity, t0) >= 10 && box.heard.since(anna.identity, t0) >= 20
	})

	for round := range 5 {
		// Her call breaks and she joins again: the server hears
		// nothing of her old session until the new one joins.
		relay.cut()
		rejoined := time.Now()
		next := relaySignalling(t, srv)
		second := startRejoiningGuest(t, srv, next.url, room, anna, invite, boxS)
		first.stop()
		select {
		case <-first.left:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: her old session did not end", round)
		}
		alone := time.Now() // her new session is the only one sending

		ok := func() bool {
			e, g := box.session.Encryption(), second.session.Encryption()
			return box.got.read(anna.identity, alone) >= 10 && second.got.read(boxS.identity, alone) >= 10 &&
				box.heard.since(anna.identity, alone) >= 20 && second.heard.since(boxS.identity, alone) >= 20 &&
				e.Words != "" && e.Words == g.Words && slices.Equal(e.Members, []string{anna.identity, boxS.identity})
		}
		deadline := rejoined.Add(15 * time.Second)
		for !ok() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !ok() {
			t.Fatalf("round %d: %v after she joined again: since her old session left, the box read %d of her pictures and heard %d sound frames, she read %d of the box's and heard %d of its sound frames; the box shows %+v, she %+v",
				round, time.Since(rejoined).Round(time.Millisecond), box.got.read(anna.identity, alone), box.heard.since(anna.identity, alone), second.got.read(boxS.identity, alone),
				second.heard.since(boxS.identity, alone), box.session.Encryption(), second.session.Encryption())
		}
		t.Logf("round %d: both read each other %.1f s after she joined again", round, time.Since(rejoined).Seconds())
		// Her new session proves its invite once: the box takes her
		// out of its members for that, then in, and keeps her, also
		// through its next looks at who is in the room.
		time.Sleep(2 * time.Second)
		if n, e := boxSaw.admissionsSince(rejoined), box.session.Encryption(); n != 1 || !slices.Contains(e.Members, anna.identity) {
			t.Errorf("round %d: the box admitted her %d times after she joined again, want once: it dropped her new session after admitting it (%s)", round, n, boxSaw.describe(rejoined))
		}
		first, relay = second, next
	}
}
