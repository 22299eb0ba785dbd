package call

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/callbox/callbox/call/keys"
)

// presenceRig is the box's key exchange as groupSession drives it from the
// lists of participants, with a member whose messages reach it at once:
// the lists are given by hand, so every order of a hello and of the lists
// showing a new session can be played.
type presenceRig struct {
	t      *testing.T
	gs     *groupSession
	invite *keys.Invite
	member *keys.Group // the member's current session
}

func newPresenceRig(t *testing.T) *presenceRig {
	t.Helper()
	boxID, err := keys.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	book, err := keys.NewInviteBook(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := book.Add("anna", "anna", time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &presenceRig{t: t, gs: &groupSession{log: quiet},
		invite: &keys.Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: boxID.SigKey()}}
	r.gs.group, err = keys.NewGroup(keys.Config{Room: "r", Self: "box", Identity: boxID, Invites: book, Keys: newGroupKeys(), Log: quiet,
		Send: func(to []string, msg []byte) {
			if m := r.member; m != nil && (to == nil || slices.Contains(to, "anna")) {
				m.Receive("box", msg)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.gs.group.Close)
	r.gs.announce()
	return r
}

// rejoin starts a new session of the member, with a new identity key as
// a page has for each call: it says hello and is admitted at once.
func (r *presenceRig) rejoin() {
	id, err := keys.NewIdentity()
	if err != nil {
		r.t.Fatal(err)
	}
	m, err := keys.NewGroup(keys.Config{Room: "r", Self: "anna", Identity: id, Invite: r.invite, Keys: newGroupKeys(), Log: r.gs.log,
		Send: func(_ []string, msg []byte) { r.gs.group.Receive("anna", msg) }})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(m.Close)
	r.member = m
	m.Joined([]string{"box"})
}

func (r *presenceRig) sdk(now map[string]string) { r.gs.sdkSaw(now) }

func (r *presenceRig) server(now map[string]string) { r.gs.serverSaw(now, time.Now()) }

// admitted: the box lists the member's current session among its members.
func (r *presenceRig) admitted() bool {
	return slices.Contains(r.gs.group.Status().Members, "anna") && r.member.Status().Admitted
}

// TestANewSessionsHelloBeforeTheListsShowIt plays the orders in which a
// member's new session can reach the box: its hello before or after the
// SDK's list or the server's shows its new session id. The box keeps a
// new session that said hello, and takes a session id change without a
// new hello, or an identity gone, for a leave.
func TestANewSessionsHelloBeforeTheListsShowIt(t *testing.T) {
	s1, s2 := map[string]string{"anna": "PA_1"}, map[string]string{"anna": "PA_2"}
	none := map[string]string{}
	for _, tc := range []struct {
		name     string
		play     func(r *presenceRig)
		admitted bool
	}{
		{"hello, then the SDK shows the new session", func(r *presenceRig) { r.rejoin(); r.sdk(s2) }, true},
		{"hello, then the server shows it, then the SDK", func(r *presenceRig) { r.rejoin(); r.server(s2); r.sdk(s2) }, true},
		{"the server shows it, hello, the SDK shows the old session, then the new", func(r *presenceRig) {
			r.server(s1)
			r.server(s2)
			r.rejoin()
			r.sdk(s1)
			r.sdk(s2)
		}, true},
		{"hello while the SDK shows neither, then the new session", func(r *presenceRig) { r.rejoin(); r.sdk(none); r.sdk(s2) }, true},
		{"hello while the SDK shows neither, twice", func(r *presenceRig) { r.rejoin(); r.sdk(none); r.sdk(none) }, false},
		{"a new session id and no new hello", func(r *presenceRig) { r.sdk(s2) }, false},
		{"a new session id on the server and no new hello", func(r *presenceRig) { r.server(s1); r.server(s2) }, false},
		{"gone", func(r *presenceRig) { r.sdk(none) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPresenceRig(t)
			r.sdk(s1)
			r.rejoin()
			r.sdk(s1)
			if !r.admitted() {
				t.Fatalf("the member's first session is not admitted: box %+v", r.gs.group.Status())
			}
			tc.play(r)
			if got := r.admitted(); got != tc.admitted {
				t.Errorf("admitted %v, want %v: box %+v, member %+v", got, tc.admitted, r.gs.group.Status(), r.member.Status())
			}
		})
	}
}
