package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/internal/daemontest"
	"github.com/callbox/callbox/internal/lkserver"
	"github.com/callbox/callbox/provisioning"
)

// meetingCalendar writes a calendar of one meeting in room, from start
// to end, and says where.
func meetingCalendar(t *testing.T, title, room string, start, end time.Time) string {
	t.Helper()
	const f = "20060102T150405Z"
	ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//callbox//test//EN\r\n"+
		"BEGIN:VEVENT\r\nUID:meeting-1\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nLOCATION:https://meet.example/rooms/%s\r\nEND:VEVENT\r\n"+
		"END:VCALENDAR\r\n", start.UTC().Format(f), start.UTC().Format(f), end.UTC().Format(f), title, room)
	path := filepath.Join(t.TempDir(), "room.ics")
	if err := os.WriteFile(path, []byte(ics), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// inRoom says whether identity is in room on the LiveKit server.
func inRoom(srv *lkserver.Server, room, identity string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := lksdk.NewRoomServiceClient(srv.URL, srv.APIKey, srv.APISecret).ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room})
	if err != nil {
		if strings.Contains(err.Error(), "not_found") || strings.Contains(err.Error(), "does not exist") {
			return false, nil // no room yet: nobody in it
		}
		return false, err
	}
	return slices.ContainsFunc(resp.Participants, func(p *livekit.ParticipantInfo) bool { return p.Identity == identity }), nil
}

// TestMeetingJoinsAndLeaves: a meeting room's box with auto_join, once
// in its line, is given a calendar with a meeting starting in 5 s and
// ending 15 s later: it joins the meeting's room (the last part of the
// link in its LOCATION) on the LiveKit server at its start, not before,
// and leaves it at its end.
func TestMeetingJoinsAndLeaves(t *testing.T) {
	srv := startServer(t)
	cfg := ringSettings(t, srv, "lobby", "room-box", "Board room", toneA)
	// No meetings yet: the box reads the file again when it changes.
	cfg.Meetings.Calendar = meetingCalendar(t, "Long ago", "old", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	cfg.Meetings.AutoJoin = true
	box := startProcessBox(t, cfg)
	box.said(t, "the meetings calendar is read")
	waitIn := func(what, room string, timeout time.Duration, want bool) time.Time {
		t.Helper()
		err := daemontest.Poll(timeout, 100*time.Millisecond, func() error {
			if in, err := inRoom(srv, room, "room-box"); err != nil || in != want {
				return fmt.Errorf("%s: the box is in %s: %v, want %v (%w)", what, room, in, want, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}
	waitIn("started", "lobby", 30*time.Second, true)

	start := time.Now().Add(5 * time.Second).Truncate(time.Second)
	end := start.Add(15 * time.Second)
	meeting := meetingCalendar(t, "Stand-up", "standup", start, end)
	if err := os.Rename(meeting, cfg.Meetings.Calendar); err != nil {
		t.Fatal(err)
	}
	// Not in the meeting's room before it starts.
	for time.Until(start) > 300*time.Millisecond {
		if in, err := inRoom(srv, "standup", "room-box"); err != nil || in {
			t.Fatalf("the box is in the meeting's room %v before it starts (%v)", time.Until(start), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	joined := waitIn("after the start", "standup", 10*time.Second, true)
	t.Logf("in the meeting's room %v after its start", joined.Sub(start).Round(10*time.Millisecond))
	box.said(t, "the meeting starts: joining")
	if time.Until(end) < time.Second {
		t.Fatalf("joining took until %v before the end: the test cannot see the box stay", time.Until(end))
	}
	time.Sleep(time.Until(end) - 500*time.Millisecond)
	if in, err := inRoom(srv, "standup", "room-box"); err != nil || !in {
		t.Fatalf("the box left the meeting's room before its end (%v)", err)
	}
	left := waitIn("after the end", "standup", 10*time.Second, false)
	t.Logf("out of the meeting's room %v after its end", left.Sub(end).Round(10*time.Millisecond))
	box.said(t, "the meeting ended: leaving")
	waitIn("after the meeting", "lobby", 30*time.Second, true)
}

// TestMeetingsCalendarUnreadable: a broken calendar and an address where
// nothing answers are each one line on the status page (an address named
// by its host only: it may hold a secret), and the box goes on.
func TestMeetingsCalendarUnreadable(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.ics")
	if err := os.WriteFile(broken, []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:soon\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed := daemontest.ClosedAddr(t)
	for _, tt := range []struct{ calendar, says string }{
		{broken, "the calendar " + broken + ": not iCalendar: EOF"},
		{"https://" + closed + "/private/s3cr3t/room.ics", "the calendar https://" + closed + "/… cannot be read: dial tcp " + closed + ": connect: connection refused"},
	} {
		cfg := config.Default()
		cfg.Call.URL, cfg.Call.Room, cfg.Call.Identity, cfg.Call.APIKey, cfg.Call.APISecret = config.ServerURLs{"ws://127.0.0.1:1"}, "line", "box", "key", "secret"
		cfg.Meetings.Calendar = tt.calendar
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		s := newSupervisor(quietLog, provisioning.Boot{Config: cfg})
		d, err := newDaemon(cfg, quietLog, nil, &boxKeyStore{})
		if err != nil {
			t.Fatal(err)
		}
		s.daemon = d
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d.meetings.read(ctx)
		cancel()
		st := s.Status().Meetings
		if st == nil || st.Error != tt.says {
			t.Errorf("%s: the page's meetings %+v, want the error %q", tt.calendar, st, tt.says)
		}
		if card := d.meetings.card(time.Now()); !slices.Contains(card.Lines, tt.says) {
			t.Errorf("%s: the screen's card %+v does not say %q", tt.calendar, card, tt.says)
		}
		d.rx.close()
	}
}

// TestMeetingCallButton: the call button of a box with a meeting under
// way joins the meeting's room, not the box's own.
func TestMeetingCallButton(t *testing.T) {
	srv := startServer(t)
	cfg := ringSettings(t, srv, "lobby", "room-box", "Board room", toneA)
	cfg.Meetings.Calendar = meetingCalendar(t, "Planning", "planning", time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	box := startProcessBox(t, cfg)
	box.said(t, "the meetings calendar is read")
	box.said(t, "local API")
	var did string
	err := daemontest.Poll(10*time.Second, 100*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		did, err = box.api.Act(ctx, "call")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if did != "joining planning" && !strings.HasSuffix(did, "; joining planning") {
		t.Errorf("the call button did %q, want joining planning", did)
	}
	err = daemontest.Poll(20*time.Second, 200*time.Millisecond, func() error {
		if in, err := inRoom(srv, "planning", "room-box"); err != nil || !in {
			return fmt.Errorf("not in the meeting's room (%w)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
