// Package calendar reads a meeting room's calendar: iCalendar (RFC 5545)
// from a file or an https address, parsed by github.com/emersion/go-ical,
// with recurring meetings (RRULE, EXDATE) expanded. It says which meetings
// come and which room each is in; it joins nothing (callboxd does).
package calendar

//go:generate go run gen_windowszones.go

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// Meeting is one meeting on the calendar, a recurring one's each time.
type Meeting struct {
	Title      string
	Room       string // from LOCATION: a room's name, or a link naming it
	Start, End time.Time
}

// maxSize is the most of a calendar read: a room's calendar is far smaller.
const maxSize = 4 << 20

// Window is how far ahead recurring meetings are expanded.
const Window = 14 * 24 * time.Hour

// Load reads the calendar at source (a file's absolute path or an https
// address) and lists the meetings that have not ended by now, or start
// within Window of it, by start. Its errors are one line and name the
// source by its file or host only: an address may hold a secret.
func Load(ctx context.Context, client *http.Client, source string, now time.Time) ([]Meeting, error) {
	name, body, err := open(ctx, client, source)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	meetings, err := Parse(io.LimitReader(body, maxSize), now)
	if err != nil {
		return meetings, fmt.Errorf("the calendar %s: %w", name, err)
	}
	return meetings, nil
}

// Name is how source is named in messages: a file by its path, an
// address by its host.
func Name(source string) string {
	if u, err := url.Parse(source); err == nil && u.Scheme != "" {
		return u.Scheme + "://" + u.Host + "/…"
	}
	return source
}

func open(ctx context.Context, client *http.Client, source string) (string, io.ReadCloser, error) {
	name := Name(source)
	if !strings.Contains(source, "://") {
		f, err := os.Open(source)
		if err != nil {
			return name, nil, fmt.Errorf("the calendar %s: %w", name, errors.Unwrap(err))
		}
		return name, f, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return name, nil, fmt.Errorf("the calendar %s: not an address", name)
	}
	resp, err := client.Do(req)
	if err != nil {
		// Not err itself: a url.Error quotes the whole address.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return name, nil, fmt.Errorf("the calendar %s cannot be read: %w", name, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return name, nil, fmt.Errorf("the calendar %s answered %s", name, resp.Status)
	}
	return name, resp.Body, nil
}

// Parse lists the meetings of an iCalendar stream as Load does. A
// meeting it cannot read (a time zone the system does not know, a broken
// rule) is left out and the first such is the error, returned with the
// others; a stream that is not iCalendar is an error alone.
func Parse(r io.Reader, now time.Time) ([]Meeting, error) {
	cal, err := ical.NewDecoder(r).Decode()
	if err != nil {
		return nil, fmt.Errorf("not iCalendar: %w", err)
	}
	windowsZoneNames(cal.Component)
	events := cal.Events()
	// A meeting moved from its series (RECURRENCE-ID) replaces that one time.
	moved := map[string][]time.Time{}
	for _, e := range events {
		if p := e.Props.Get(ical.PropRecurrenceID); p != nil {
			if t, err := p.DateTime(time.Local); err == nil {
				uid, _ := e.Props.Text(ical.PropUID)
				moved[uid] = append(moved[uid], t)
			}
		}
	}
	var out []Meeting
	var skipped error
	skip := func(title string, err error) {
		if skipped == nil {
			skipped = fmt.Errorf("meeting %q left out: %w", title, err)
		}
	}
	for _, e := range events {
		if status, _ := e.Status(); status == ical.EventCancelled {
			continue
		}
		title, _ := e.Props.Text(ical.PropSummary)
		title = strings.TrimSpace(title)
		start, err := e.DateTimeStart(time.Local)
		if err != nil {
			skip(title, err)
			continue
		}
		end, err := e.DateTimeEnd(time.Local)
		if err != nil {
			skip(title, err)
			continue
		}
		location, _ := e.Props.Text(ical.PropLocation)
		m := Meeting{Title: title, Room: RoomOf(location), Start: start, End: end}
		set, err := e.RecurrenceSet(time.Local)
		if err != nil {
			skip(title, err)
			continue
		}
		extra, err := extraDates(e.Props[ical.PropRecurrenceDates], end.Sub(start))
		if err != nil {
			skip(title, err)
			continue
		}
		if (set == nil && len(extra) == 0) || e.Props.Get(ical.PropRecurrenceID) != nil {
			out = append(out, m)
			continue
		}
		uid, _ := e.Props.Text(ical.PropUID)
		length := end.Sub(start)
		var times []Meeting
		var excluded []time.Time
		if set != nil {
			excluded = set.GetExDate()
			for _, t := range set.Between(now.Add(-length), now.Add(Window), true) {
				times = append(times, Meeting{Start: t, End: t.Add(length)})
			}
		} else {
			// Without RRULE the set is DTSTART and the RDATEs (RFC 5545 §3.8.5.2).
			times = append(times, Meeting{Start: start, End: end})
		}
		for _, t := range times {
			if slices.ContainsFunc(moved[uid], t.Start.Equal) {
				continue
			}
			m.Start, m.End = t.Start, t.End
			out = append(out, m)
		}
		for _, t := range extra {
			if slices.ContainsFunc(moved[uid], t.Start.Equal) || slices.ContainsFunc(excluded, t.Start.Equal) ||
				slices.ContainsFunc(times, func(o Meeting) bool { return o.Start.Equal(t.Start) }) {
				continue
			}
			m.Start, m.End = t.Start, t.End
			out = append(out, m)
		}
	}
	out = slices.DeleteFunc(out, func(m Meeting) bool { return !m.End.After(now) || m.Start.After(now.Add(Window)) })
	slices.SortStableFunc(out, func(a, b Meeting) int { return a.Start.Compare(b.Start) })
	return out, skipped
}

// windowsZoneNames replaces, in every TZID of comp and its children, a
// Windows time zone name (Outlook's "W. Europe Standard Time") that the
// system does not know with its IANA zone, so that go-ical finds it.
func windowsZoneNames(comp *ical.Component) {
	for name, props := range comp.Props {
		for i := range props {
			tzid := props[i].Params.Get(ical.PropTimezoneID)
			if tzid == "" {
				continue
			}
			if _, err := time.LoadLocation(tzid); err == nil {
				continue
			}
			if zone, ok := windowsZones[tzid]; ok {
				comp.Props[name][i].Params.Set(ical.PropTimezoneID, zone)
			}
		}
	}
	for _, child := range comp.Children {
		windowsZoneNames(child)
	}
}

// extraDates reads a meeting's RDATE properties, which go-ical's
// RecurrenceSet skips (it reads EXDATE in their place): each holds one or
// more comma-separated DATE-TIMEs, DATEs or PERIODs (start/end or
// start/duration), with the property's TZID. An extra time lasts length,
// a PERIOD until its end.
func extraDates(props []ical.Prop, length time.Duration) ([]Meeting, error) {
	var out []Meeting
	for _, p := range props {
		period := p.ValueType() == ical.ValuePeriod
		for value := range strings.SplitSeq(p.Value, ",") {
			one := ical.Prop{Name: p.Name, Params: ical.Params{}, Value: strings.TrimSpace(value)}
			if tzid := p.Params.Get(ical.PropTimezoneID); tzid != "" {
				one.Params.Set(ical.PropTimezoneID, tzid)
			}
			if vt := p.ValueType(); vt == ical.ValueDate {
				one.SetValueType(vt)
			}
			var until string
			if period {
				var ok bool
				one.Value, until, ok = strings.Cut(one.Value, "/")
				if !ok {
					return nil, fmt.Errorf("RDATE period %q has no end", value)
				}
			}
			start, err := one.DateTime(time.Local)
			if err != nil {
				return nil, fmt.Errorf("RDATE %q: %w", value, err)
			}
			m := Meeting{Start: start, End: start.Add(length)}
			if period {
				m.End, err = periodEnd(one, start, until)
				if err != nil || !m.End.After(start) {
					return nil, fmt.Errorf("RDATE period %q: the end is not after the start", value)
				}
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// periodEnd is the end of a PERIOD that starts at start (read from
// startProp): a date-time (in startProp's TZID) or a duration (P1H)
// after start.
func periodEnd(startProp ical.Prop, start time.Time, until string) (time.Time, error) {
	if strings.HasPrefix(until, "P") || strings.HasPrefix(until, "+P") {
		d, err := (&ical.Prop{Value: until}).Duration()
		return start.Add(d), err
	}
	startProp.Value = until
	return startProp.DateTime(time.Local)
}

// RoomOf is the room a meeting's LOCATION names: the last part of a link
// in it (https://meet.example/rooms/standup: standup), or the location
// itself.
func RoomOf(location string) string {
	for _, word := range strings.Fields(location) {
		u, err := url.Parse(word)
		if err != nil || u.Host == "" {
			continue
		}
		if room := u.Query().Get("room"); room != "" {
			return room
		}
		if base := path.Base(strings.TrimSuffix(u.Path, "/")); base != "/" && base != "." {
			return base
		}
	}
	return strings.TrimSpace(location)
}

// Now is the meeting under way at now, if one is; Next are the next two
// that start after now.
func Now(meetings []Meeting, now time.Time) (current *Meeting, next []Meeting) {
	for i, m := range meetings {
		switch {
		case !m.Start.After(now) && m.End.After(now):
			if current == nil {
				current = &meetings[i]
			}
		case m.Start.After(now) && len(next) < 2:
			next = append(next, m)
		}
	}
	return current, next
}
