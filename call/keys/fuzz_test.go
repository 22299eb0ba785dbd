package keys

import (
	"testing"
	"time"
)

// seedMessages are real messages of each type, from a room of a box and
// two members.
func seedMessages(f *testing.F) [][]byte {
	f.Helper()
	var msgs [][]byte
	book, _ := NewInviteBook(nil, nil)
	boxID, _ := NewIdentity()
	h := newHub()
	var collect []delivery
	mk := func(id string, cfg Config) *Group {
		cfg.Room, cfg.Self, cfg.Keys, cfg.Log = testRoom, id, newSink(), quiet()
		if cfg.Identity == nil {
			cfg.Identity, _ = NewIdentity()
		}
		cfg.Send = func(to []string, msg []byte) {
			h.mu.Lock()
			h.queue = append(h.queue, delivery{from: id, to: to, msg: msg})
			collect = append(collect, delivery{msg: msg})
			h.mu.Unlock()
		}
		g, err := NewGroup(cfg)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(g.Close)
		h.members[id] = &peer{id: id, group: g}
		return g
	}
	// Two boxes that list each other (vouch messages, hellos with boxes),
	// a guest of each.
	bookB, _ := NewInviteBook(nil, nil)
	boxBID, _ := NewIdentity()
	everyone := []string{"box", "box-b", "anna", "bert"}
	join := func(id string, cfg Config) {
		g := mk(id, cfg)
		for other, p := range h.members {
			if other != id {
				p.group.ParticipantJoined(id)
			}
		}
		g.Joined(everyone)
		h.flush()
	}
	join("box", Config{Identity: boxID, Invites: book, Boxes: [][]byte{boxBID.SigKey()}})
	join("box-b", Config{Identity: boxBID, Invites: bookB, Boxes: [][]byte{boxID.SigKey()}})
	for _, guest := range []struct {
		id   string
		book *InviteBook
		key  []byte
	}{{"anna", book, boxID.SigKey()}, {"bert", bookB, boxBID.SigKey()}} {
		rec, _ := guest.book.Add(guest.id, guest.id, time.Hour, false)
		join(guest.id, Config{Invite: &Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: guest.key}})
	}
	types := map[string]bool{}
	for _, d := range collect {
		msgs = append(msgs, d.msg)
		if m, err := parse(d.msg); err == nil {
			types[m.T] = true
		}
	}
	for _, t := range []string{typeHello, typeChallenge, typeJoin, typeRoster, typeKey, typeAck, typeVouch} {
		if !types[t] {
			f.Fatalf("the seed room sent no %s message", t)
		}
	}
	return msgs
}

// FuzzParse: no input makes the parser panic, and what it takes has every
// field of its type at its size.
func FuzzParse(f *testing.F) {
	for _, m := range seedMessages(f) {
		f.Add(m)
	}
	f.Add([]byte(`{"t":"roster","members":[{}]}`))
	f.Add([]byte(`{"t":"vouch","boxes":[""],"members":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parse(data)
		if err != nil {
			return
		}
		if err := m.check(); err != nil {
			t.Fatalf("parse took a message that check refuses: %v", err)
		}
	})
}

// FuzzReceive: the box and a member take any bytes from anyone without a
// panic, and garbage never admits anyone.
func FuzzReceive(f *testing.F) {
	for _, m := range seedMessages(f) {
		f.Add("anna", m)
		f.Add("box", m)
	}
	book, _ := NewInviteBook(nil, nil)
	boxID, _ := NewIdentity()
	rec, _ := book.Add("anna", "Anna", time.Hour, false)
	nop := func([]string, []byte) {}
	otherBox, _ := NewIdentity()
	box, err := NewGroup(Config{Room: testRoom, Self: "box", Identity: boxID, Invites: book, Boxes: [][]byte{otherBox.SigKey()},
		Keys: newSink(), Send: nop, Log: quiet()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(box.Close)
	box.Joined([]string{"anna", "eve"})
	memberID, _ := NewIdentity()
	member, err := NewGroup(Config{Room: testRoom, Self: "anna", Identity: memberID, Keys: newSink(), Send: nop, Log: quiet(),
		Invite: &Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: boxID.SigKey()}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(member.Close)
	member.Joined([]string{"box", "eve"})
	f.Fuzz(func(t *testing.T, from string, data []byte) {
		box.Receive(from, data)
		member.Receive(from, data)
		if st := box.Status(); len(st.Members) != 1 {
			t.Fatalf("garbage admitted someone: %+v", st)
		}
	})
}
