package config

import (
	"net/url"
	"path/filepath"
	"strings"
)

// Meetings is a meeting room's calendar: the screen shows the next
// meeting and the one after, the call button joins the one under way,
// and with AutoJoin the box joins each at its start and leaves at its end.
type Meetings struct {
	// Calendar is where the meetings are, in iCalendar (RFC 5545): a
	// file's absolute path, or an https:// address. Each meeting's room
	// is its LOCATION, or the last part of a link in it. Empty: none. An
	// address may hold a secret (a private calendar's link): it is never
	// logged or shown, only its host.
	Calendar string `toml:"calendar,omitempty"`
	// RefreshS is how often the calendar is read again, in seconds.
	RefreshS int `toml:"refresh_s"`
	// AutoJoin joins each meeting at its start and leaves at its end.
	// Off by default: the call button joins.
	AutoJoin bool `toml:"auto_join"`
}

func defaultMeetings() Meetings { return Meetings{RefreshS: 300} }

func (m Meetings) validate(c Config, bad func(field, format string, args ...any)) {
	if m.RefreshS < 5 || m.RefreshS > 86400 {
		bad("meetings.refresh_s", "%d is not from 5 to 86400 seconds", m.RefreshS)
	}
	switch {
	case m.Calendar == "":
		if m.AutoJoin {
			bad("meetings.auto_join", "needs meetings.calendar: the meetings to join")
		}
		return
	case strings.Contains(m.Calendar, "://"):
		u, err := url.Parse(m.Calendar)
		// Never the address in the message: it may hold a secret.
		if err != nil || u.Scheme != "https" || u.Host == "" {
			bad("meetings.calendar", "is not an https:// address with a host, nor a file's absolute path")
		}
	case !filepath.IsAbs(m.Calendar):
		bad("meetings.calendar", "%q is not a file's absolute path (nor an https:// address)", m.Calendar)
	}
	if c.Call.Token != "" {
		bad("meetings.calendar", "needs call.api_key and call.api_secret: the box makes a token for each meeting's room, a call.token is for one room")
	}
}
