package main

// A meeting room's calendar (meetings.calendar): read again every
// refresh_s (a file also as soon as it changes), its next meetings on the idle screen and the page, the call
// button joining the one under way, and with meetings.auto_join the box
// joining each at its start and leaving at its end.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/calendar"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/pipeline/compose"
	"github.com/callbox/callbox/provisioning"
)

// meetingRoom follows the calendar. Its methods may be called from any
// goroutine; run is owned by the daemon's run.
type meetingRoom struct {
	cfg    config.Meetings
	log    *slog.Logger
	client *http.Client

	mu       sync.Mutex
	meetings []calendar.Meeting // guarded by mu: from the last read that worked
	err      error              // guarded by mu: the last read's, nil when it worked
	readOnce bool               // guarded by mu: a read has worked
}

// newMeetingRoom follows cfg's calendar; nil without one.
func newMeetingRoom(cfg config.Config, log *slog.Logger) *meetingRoom {
	if cfg.Meetings.Calendar == "" {
		return nil
	}
	return &meetingRoom{cfg: cfg.Meetings, log: log, client: &http.Client{Timeout: 30 * time.Second}}
}

// read reads the calendar once; a failure keeps the meetings read before.
func (m *meetingRoom) read(ctx context.Context) {
	meetings, err := calendar.Load(ctx, m.client, m.cfg.Calendar, time.Now())
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if m.err == nil || m.err.Error() != err.Error() {
			m.log.Warn("the meetings calendar cannot be read", "err", err) // names the host only
		}
		m.err = err
		if meetings != nil { // read, but for a meeting left out
			m.meetings, m.readOnce = meetings, true
		}
		return
	}
	if !m.readOnce || m.err != nil || !slices.Equal(m.meetings, meetings) {
		m.log.Info("the meetings calendar is read", "calendar", calendar.Name(m.cfg.Calendar), "meetings", len(meetings))
	}
	m.meetings, m.err, m.readOnce = meetings, nil, true
}

// now is the meeting under way and the next two.
func (m *meetingRoom) now(t time.Time) (*calendar.Meeting, []calendar.Meeting) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return calendar.Now(m.meetings, t)
}

// room is the room of the meeting under way, "" for none: what the call
// button joins.
func (m *meetingRoom) room() string {
	if cur, _ := m.now(time.Now()); cur != nil {
		return cur.Room
	}
	return ""
}

// run reads the calendar every refresh_s and, with auto_join, joins each
// meeting at its start and leaves at its end, until ctx ends.
func (m *meetingRoom) run(ctx context.Context, session *call.Session) {
	m.read(ctx)
	refresh := time.NewTicker(time.Duration(m.cfg.RefreshS) * time.Second)
	defer refresh.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var joined *calendar.Meeting // the meeting auto_join joined, until it ends
	modified := fileModified(m.cfg.Calendar)
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			m.read(ctx)
		case now := <-tick.C:
			// A calendar file is read again as soon as it changes.
			if t := fileModified(m.cfg.Calendar); !t.Equal(modified) {
				modified = t
				m.read(ctx)
			}
			if !m.cfg.AutoJoin {
				continue
			}
			if joined != nil && !now.Before(joined.End) {
				// Left only if the box is still in that meeting's room:
				// a person who moved on keeps the call they chose.
				if room, inCall := session.Wanted(); inCall && room == joined.Room {
					m.log.Info("the meeting ended: leaving", "meeting", joined.Title, "room", joined.Room)
					session.Leave()
				}
				joined = nil
			}
			cur, _ := m.now(now)
			if cur != nil && (joined == nil || *joined != *cur) && cur.Room != "" {
				m.log.Info("the meeting starts: joining", "meeting", cur.Title, "room", cur.Room)
				session.Join(cur.Room)
				c := *cur
				joined = &c
			}
		}
	}
}

// fileModified is when the calendar file at source last changed; zero
// for an address, or a file that cannot be read (read says why).
func fileModified(source string) time.Time {
	if strings.Contains(source, "://") {
		return time.Time{}
	}
	fi, err := os.Stat(source)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// status is what the page shows.
func (m *meetingRoom) status(t time.Time) *provisioning.MeetingsStatus {
	cur, next := m.now(t)
	st := &provisioning.MeetingsStatus{Next: []provisioning.Meeting{}, AutoJoin: m.cfg.AutoJoin}
	if cur != nil {
		st.Now = &provisioning.Meeting{Title: cur.Title, Room: cur.Room, Start: cur.Start, End: cur.End}
	}
	for _, n := range next {
		st.Next = append(st.Next, provisioning.Meeting{Title: n.Title, Room: n.Room, Start: n.Start, End: n.End})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		st.Error = oneLine(m.err)
	}
	return st
}

// card is what the idle screen shows: the meeting under way and the
// next, or why the calendar cannot be read.
func (m *meetingRoom) card(t time.Time) *compose.Card {
	cur, next := m.now(t)
	card := &compose.Card{Title: "No meetings coming", Headline: true}
	if cur != nil {
		card.Title = cur.Title
		card.Lines = append(card.Lines, fmt.Sprintf("Now, until %s, in %s. Join: the call button.", cur.End.Format("15:04"), cur.Room))
	} else if len(next) > 0 {
		card.Title = next[0].Title
		card.Lines = append(card.Lines, fmt.Sprintf("Next, at %s, in %s.", next[0].Start.Format("15:04"), next[0].Room))
		next = next[1:]
	}
	if len(next) > 0 {
		card.Lines = append(card.Lines, fmt.Sprintf("Then %s at %s, in %s.", next[0].Title, next[0].Start.Format("15:04"), next[0].Room))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		card.Lines = append(card.Lines, oneLine(m.err))
	}
	return card
}
