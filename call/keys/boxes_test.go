package keys

import (
	"bytes"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// box is one box of a room with several: its peer and its own invites.
type box struct {
	*peer
	book *InviteBook
	id   *Identity
}

// boxIdentities are n box identities, lowest signing key first: the first
// leads when present.
func boxIdentities(t *testing.T, n int) []*Identity {
	t.Helper()
	var ids []*Identity
	for range n {
		id, err := NewIdentity()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b *Identity) int { return bytes.Compare(a.SigKey(), b.SigKey()) })
	return ids
}

// addBox adds a box that lists the boxes others.
func (h *hub) addBox(t *testing.T, name string, id *Identity, others ...*Identity) *box {
	t.Helper()
	return h.addBoxWith(t, name, id, newInviteBook(t), Timing{}, others...)
}

// addBoxWith adds a box with its invite book and timing.
func (h *hub) addBoxWith(t *testing.T, name string, id *Identity, book *InviteBook, timing Timing, others ...*Identity) *box {
	t.Helper()
	var keys [][]byte
	for _, o := range others {
		keys = append(keys, o.SigKey())
	}
	return &box{peer: h.add(t, name, Config{Identity: id, Invites: book, Boxes: keys, Timing: timing}), book: book, id: id}
}

func newInviteBook(t *testing.T) *InviteBook {
	t.Helper()
	book, err := NewInviteBook(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return book
}

// inviteOf is a new invite in book, of the box with identity boxID.
func inviteOf(t *testing.T, book *InviteBook, name string, boxID *Identity) *Invite {
	t.Helper()
	rec, err := book.Add(name, name, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	return &Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: boxID.SigKey()}
}

// guestOf adds a member with an invite of b.
func (h *hub) guestOf(t *testing.T, name string, b *box) *peer {
	t.Helper()
	return h.add(t, name, Config{Invite: inviteOf(t, b.book, name, b.id)})
}

// pairedRoom is a room of two boxes that list each other (box-a, the
// lower key, leads) and a guest of each, settled.
func pairedRoom(t *testing.T) (h *hub, a, b *box, ga, gb *peer) {
	t.Helper()
	ids := boxIdentities(t, 2)
	h = newHub()
	a = h.addBox(t, "box-a", ids[0], ids[1])
	b = h.addBox(t, "box-b", ids[1], ids[0])
	ga = h.guestOf(t, "anna", a)
	gb = h.guestOf(t, "bert", b)
	h.settle(time.Second)
	return h, a, b, ga, gb
}

// checkOneCall: every pair of peers holds each other's current keys, and
// all show the same members, verification string and leader.
func checkOneCall(t *testing.T, leader string, peers ...*peer) {
	t.Helper()
	for _, s := range peers {
		for _, r := range peers {
			if s != r && !holdsKeyOf(r, s) {
				t.Errorf("%s does not hold the key %s sends with", r.id, s.id)
			}
		}
	}
	var names []string
	for _, p := range peers {
		names = append(names, p.id)
	}
	slices.Sort(names)
	want := peers[0].group.Status()
	for _, p := range peers {
		st := p.group.Status()
		if !st.Admitted || st.Leader != leader || !slices.Equal(st.Members, names) ||
			len(st.Verification) != VerificationSize || !bytes.Equal(st.Verification, want.Verification) {
			t.Errorf("%s: %+v, want members %v led by %s and the check %x", p.id, st, names, leader, want.Verification)
		}
	}
}

// TestTwoBoxesOneCall: two boxes that list each other make one call: the
// one with the lower key leads, the other joins it and vouches for its own
// guests, and everyone holds everyone's keys. Either box may come first.
func TestTwoBoxesOneCall(t *testing.T) {
	for _, lowFirst := range []bool{true, false} {
		name := map[bool]string{true: "the leader first", false: "the leader last"}[lowFirst]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ids := boxIdentities(t, 2)
				h := newHub()
				var a, b *box
				if lowFirst {
					a = h.addBox(t, "box-a", ids[0], ids[1])
					b = h.addBox(t, "box-b", ids[1], ids[0])
				} else {
					b = h.addBox(t, "box-b", ids[1], ids[0])
					h.settle(time.Second)
					a = h.addBox(t, "box-a", ids[0], ids[1])
				}
				h.settle(time.Second)
				ga := h.guestOf(t, "anna", a)
				gb := h.guestOf(t, "bert", b)
				h.settle(time.Second)
				checkOneCall(t, "box-a", a.peer, b.peer, ga, gb)
			})
		})
	}
}

// TestBoxNotListedGetsNoKeys: a third box that lists the two, but that
// they do not list, is refused by both: no keys, an outsider everywhere.
func TestBoxNotListedGetsNoKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := boxIdentities(t, 3)
		h := newHub()
		// The stranger has the lowest key: were it trusted, it would lead.
		a := h.addBox(t, "box-a", ids[1], ids[2])
		b := h.addBox(t, "box-b", ids[2], ids[1])
		ga := h.guestOf(t, "anna", a)
		c := h.addBox(t, "box-c", ids[0], ids[1], ids[2])
		gc := h.guestOf(t, "carl", c)
		h.settle(2 * time.Second)
		checkOneCall(t, "box-a", a.peer, b.peer, ga)
		for _, p := range []*peer{c.peer, gc} {
			for _, s := range []*peer{a.peer, b.peer, ga} {
				if _, m := s.keys.current(); p.keys.everSeen(m) {
					t.Errorf("%s holds the key of %s", p.id, s.id)
				}
			}
		}
		for _, p := range []*peer{a.peer, b.peer, ga} {
			if st := p.group.Status(); !slices.Contains(st.Outsiders, "box-c") || !slices.Contains(st.Outsiders, "carl") {
				t.Errorf("%s does not see box-c and carl as outsiders: %+v", p.id, st)
			}
		}
	})
}

// TestLeaderLeaves: the box that leads leaves; the other takes over with
// the members it followed, every sender makes a new key, and the leaver
// holds none of them.
func TestLeaderLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, a, b, ga, gb := pairedRoom(t)
		before := ga.group.Status().Verification
		h.leave("box-a")
		h.settle(DefaultSwitchDeadline + time.Second)
		checkOneCall(t, "box-b", b.peer, ga, gb)
		if bytes.Equal(ga.group.Status().Verification, before) {
			t.Error("the check did not change when the leader left")
		}
		for _, s := range []*peer{b.peer, ga, gb} {
			if _, m := s.keys.current(); a.keys.canReach(m) {
				t.Errorf("the box that left holds the key %s sends with, or can ratchet to it", s.id)
			}
		}
		// A newcomer of the box that left cannot get in now: its invite
		// is checked by no one.
		rec, err := a.book.Add("carl", "carl", time.Hour, false)
		if err != nil {
			t.Fatal(err)
		}
		gc := h.add(t, "carl", Config{Invite: &Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: a.id.SigKey()}})
		h.settle(time.Second)
		if st := gc.group.Status(); st.Admitted || len(gc.keys.seen) != 0 {
			t.Errorf("carl got in without his box: %+v", st)
		}
	})
}

// TestRevokedAtTheOtherBox: the box that does not lead revokes its guest's
// invite: it stops vouching for her, the leader takes her off the roster.
func TestRevokedAtTheOtherBox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, a, b, ga, gb := pairedRoom(t)
		checkOneCall(t, "box-a", a.peer, b.peer, ga, gb)
		for _, inv := range b.book.List() {
			id, _ := ParseInviteName(inv.Name)
			if _, err := b.book.Revoke(id); err != nil {
				t.Fatal(err)
			}
		}
		b.group.InvitesChanged()
		h.settle(DefaultSwitchDeadline + time.Second)
		checkOneCall(t, "box-a", a.peer, b.peer, ga)
		if st := gb.group.Status(); st.Admitted {
			t.Errorf("bert is still a member after his invite was revoked: %+v", st)
		}
		for _, s := range []*peer{a.peer, b.peer, ga} {
			if _, m := s.keys.current(); gb.keys.everSeen(m) {
				t.Errorf("bert holds %s's key after the revocation", s.id)
			}
		}
	})
}

// TestForgedVouches: a vouch changed on the way, one signed by a box that
// is not listed, and one replayed from before are refused: nobody they
// name is admitted.
func TestForgedVouches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, a, _, _, _ := pairedRoom(t)
		stranger, err := NewIdentity()
		if err != nil {
			t.Fatal(err)
		}
		var last *message
		h.mu.Lock()
		for _, d := range h.log {
			if m, err := parse(d.msg); err == nil && m.T == typeVouch {
				last = m
			}
		}
		h.mu.Unlock()
		if last == nil || len(last.Members) != 1 || last.Members[0].ID != "bert" {
			t.Fatalf("box-b sent no vouch for bert: %+v", last)
		}
		eve, _ := NewIdentity()
		eveAsMember := member{ID: "eve", Sig: eve.SigKey(), KEM: eve.kemKey(), Nonce: random(nonceSize)}
		a.group.ParticipantJoined("eve")

		before := a.group.Stats()
		changed := *last
		changed.Epoch++
		changed.Members = append(slices.Clone(last.Members), eveAsMember)
		a.group.Receive("box-b", changed.encode()) // the old signature

		signed := changed
		signed.S = stranger.signBytes(signed.vouchTranscript())
		a.group.Receive("box-b", signed.encode()) // signed by a box not listed

		a.group.Receive("box-b", last.encode()) // replayed
		after := a.group.Stats()
		if after.Forged-before.Forged != 2 || after.Stale-before.Stale != 1 {
			t.Errorf("refused %+v, before %+v: want 2 more forged, 1 more stale", after, before)
		}
		if st := a.group.Status(); slices.Contains(st.Members, "eve") {
			t.Errorf("a forged vouch admitted eve: %+v", st)
		}
	})
}

// TestLostMessagesAreSentAgain: LiveKit drops a data message for a
// participant whose data channel is not open yet. Whichever kind of
// message is lost, and for whom, the room still ends in one call: the
// first two of that kind to each recipient are lost, for each join order.
func TestLostMessagesAreSentAgain(t *testing.T) {
	kinds := []string{typeHello, typeChallenge, typeJoin, typeRoster, typeVouch, typeKey, typeAck}
	for _, kind := range kinds {
		for _, guestsFirst := range []bool{false, true} {
			name := kind + map[bool]string{false: ", boxes first", true: ", guests first"}[guestsFirst]
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					h := newHub()
					lost := map[string]int{}
					h.lose = func(d delivery, to string) bool {
						m, err := parse(d.msg)
						if err != nil || m.T != kind || lost[to] >= 2 {
							return false
						}
						lost[to]++
						return true
					}
					ids := boxIdentities(t, 2)
					var a, b *box
					var ga, gb *peer
					if guestsFirst {
						// Guests before their boxes: their hellos find nobody.
						bookA, bookB := newInviteBook(t), newInviteBook(t)
						ga = h.add(t, "anna", Config{Invite: inviteOf(t, bookA, "anna", ids[0])})
						gb = h.add(t, "bert", Config{Invite: inviteOf(t, bookB, "bert", ids[1])})
						h.settle(time.Second)
						b = h.addBoxWith(t, "box-b", ids[1], bookB, Timing{}, ids[0])
						a = h.addBoxWith(t, "box-a", ids[0], bookA, Timing{}, ids[1])
					} else {
						a = h.addBox(t, "box-a", ids[0], ids[1])
						b = h.addBox(t, "box-b", ids[1], ids[0])
						ga = h.guestOf(t, "anna", a)
						gb = h.guestOf(t, "bert", b)
					}
					h.settle(4 * DefaultRepairEvery)
					if len(lost) == 0 {
						t.Fatalf("no %s message was lost: the test lost nothing", kind)
					}
					checkOneCall(t, "box-a", a.peer, b.peer, ga, gb)
				})
			})
		}
	}
}

// TestLeaderListsAMemberOnceItIsPresent: the leader comes and takes the
// other box's vouch for a member before the server shows it that member
// (and before any of the member's messages reach it); the member is
// listed once it is present, without any message sent again.
func TestLeaderListsAMemberOnceItIsPresent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := boxIdentities(t, 2)
		h := newHub()
		noRepair := Timing{RepairEvery: time.Hour}
		b := h.addBoxWith(t, "box-b", ids[1], newInviteBook(t), noRepair, ids[0])
		gb := h.add(t, "bert", Config{Invite: inviteOf(t, b.book, "bert", b.id), Timing: noRepair})
		h.settle(time.Second)
		late := true
		h.lose = func(d delivery, to string) bool { return late && d.from == "bert" && to == "box-a" }
		a := h.addBoxWith(t, "box-a", ids[0], newInviteBook(t), noRepair, ids[1])
		a.group.Present([]string{"box-b"}, time.Now()) // the server's list at box-a lags
		h.settle(time.Second)
		if st := a.group.Status(); slices.Contains(st.Members, "bert") || !slices.Contains(st.Members, "box-b") {
			t.Fatalf("box-a lists %v before bert is present; want box-b, not bert", st.Members)
		}
		late = false
		a.group.ParticipantJoined("bert")
		h.settle(time.Second)
		checkOneCall(t, "box-a", a.peer, b.peer, gb)
	})
}

// TestALaggingListKeepsWhoCameSince: the server's list of participants,
// asked for before anna came, reaches the box after she joined (after her
// hello, as happens after the call server was lost): she is not taken
// for gone, which would drop her and make the box send with a new key she
// gets only once she says hello again.
func TestALaggingListKeepsWhoCameSince(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRoom(t)
		asked := time.Now()
		time.Sleep(time.Millisecond)
		a := r.join(t, "anna")
		r.settle(time.Second)
		_, before := r.box.keys.current()
		r.box.group.Present(nil, asked)
		r.flush()
		if st := r.box.group.Status(); !slices.Contains(st.Members, "anna") {
			t.Fatalf("after a list asked for before anna came, the box lists %v", st.Members)
		}
		r.settle(time.Second)
		if _, after := r.box.keys.current(); !bytes.Equal(after, before) {
			t.Error("the box sends with a new key after a list asked for before anna came")
		}
		if !holdsKeyOf(a, r.box) || !holdsKeyOf(r.box, a) {
			t.Error("the box and anna do not hold each other's keys")
		}
	})
}
