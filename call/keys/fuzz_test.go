package keys

import (
	"testing"
	"time"
)

// seedMessages are real messages of each type, from a room of a box and
// two members.
func seedMessages(f *testing.F) [][]byte {
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
	mk("box", Config{Identity: boxID, Invites: book}).Joined(nil)
	for _, id := range []string{"anna", "bert"} {
		rec, _ := book.Add(id, id, time.Hour, false)
		g := mk(id, Config{Invite: &Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: boxID.SigKey()}})
		for other, p := range h.members {
			if other != id {
				p.group.ParticipantJoined(id)
			}
		}
		g.Joined([]string{"box", "anna", "bert"})
		h.flush()
	}
	for _, d := range collect {
		msgs = append(msgs, d.msg)
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
	box, err := NewGroup(Config{Room: testRoom, Self: "box", Identity: boxID, Invites: book, Keys: newSink(), Send: nop, Log: quiet()})
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
