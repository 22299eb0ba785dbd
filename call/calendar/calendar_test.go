package calendar

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbox/callbox/internal/daemontest"
)

// ics is a calendar with the given events.
func ics(events ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//callbox//test//EN\r\n" + strings.Join(events, "") + "END:VCALENDAR\r\n"
}

func event(uid, summary, location string, start, end time.Time, extra ...string) string {
	const f = "20060102T150405Z"
	return fmt.Sprintf("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nLOCATION:%s\r\n%sEND:VEVENT\r\n",
		uid, start.UTC().Format(f), start.UTC().Format(f), end.UTC().Format(f), summary, location, strings.Join(extra, ""))
}

func TestParseListsMeetingsWithRooms(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	cal := ics(
		event("soon", "Stand-up", "https://meet.example/rooms/standup", now.Add(5*time.Second), now.Add(20*time.Second)),
		event("later", "Review", "board-room", now.Add(time.Hour), now.Add(2*time.Hour)),
		event("gone", "Yesterday", "x", now.Add(-25*time.Hour), now.Add(-24*time.Hour)),
		event("off", "Cancelled", "y", now.Add(time.Minute), now.Add(2*time.Minute), "STATUS:CANCELLED\r\n"),
		// Every day from yesterday, but not tomorrow.
		event("daily", "Daily", "Room: https://meet.example/join?room=daily-sync", now.Add(-24*time.Hour+30*time.Minute), now.Add(-24*time.Hour+45*time.Minute),
			"RRULE:FREQ=DAILY;COUNT=5\r\n", "EXDATE:"+now.Add(24*time.Hour+30*time.Minute).UTC().Format("20060102T150405Z")+"\r\n"),
	)
	meetings, err := Parse(strings.NewReader(cal), now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range meetings {
		got = append(got, fmt.Sprintf("%s in %s at %s", m.Title, m.Room, m.Start.Sub(now)))
	}
	want := []string{
		"Stand-up in standup at 5s",
		"Daily in daily-sync at 30m0s",
		"Review in board-room at 1h0m0s",
		"Daily in daily-sync at 48h30m0s",
		"Daily in daily-sync at 72h30m0s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("meetings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A meeting in a time zone neither the system nor the Windows names
	// know is left out, said, and the others are kept.
	outlook := strings.Replace(cal, "BEGIN:VEVENT\r\nUID:later", "BEGIN:VEVENT\r\nUID:zone\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Nowhere Standard Time:20260101T100000\r\nSUMMARY:Zoned\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:later", 1)
	kept, err := Parse(strings.NewReader(outlook), now)
	if err == nil || !strings.Contains(err.Error(), `meeting "Zoned" left out`) || len(kept) != len(meetings) {
		t.Errorf("a meeting in an unknown time zone: %d meetings, error %v; want it left out, said, and the %d others", len(kept), err, len(meetings))
	}
	current, next := Now(meetings, now.Add(6*time.Second))
	if current == nil || current.Room != "standup" || len(next) != 2 || next[0].Title != "Daily" || next[1].Title != "Review" {
		t.Errorf("at 6 s: under way %v, next %v; want the stand-up, then Daily and Review", current, next)
	}
}

// A broken calendar, a missing file and an address nobody answers are
// each one line naming the calendar (an address by its host only: it
// may hold a secret), never a crash.
func TestUnreadableCalendarIsOneLine(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.ics")
	if err := os.WriteFile(broken, []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:yesterday-ish\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.ics")
	if err := os.WriteFile(garbage, []byte("\x00\x01 not a calendar at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed := daemontest.ClosedAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct{ source, says string }{
		{broken, broken},
		{garbage, garbage},
		{filepath.Join(dir, "missing.ics"), "no such file"},
		{"https://" + closed + "/private/s3cr3t/basic.ics", "https://" + closed + "/… cannot be read"},
	} {
		_, err := Load(ctx, http.DefaultClient, tt.source, time.Now())
		if err == nil {
			t.Errorf("%s: no error", tt.source)
			continue
		}
		msg := err.Error()
		t.Logf("%s", msg)
		if !strings.Contains(msg, tt.says) || strings.Contains(msg, "\n") || strings.Contains(msg, "s3cr3t") {
			t.Errorf("%s: error %q, want one line saying %q, without the address's path", tt.source, msg, tt.says)
		}
	}
}

func TestLoadOverHTTPS(t *testing.T) {
	now := time.Now()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/room.ics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, ics(event("a", "Planning", "planning", now.Add(time.Minute), now.Add(time.Hour))))
	}))
	defer srv.Close()
	ctx := context.Background()
	meetings, err := Load(ctx, srv.Client(), srv.URL+"/room.ics", now)
	if err != nil || len(meetings) != 1 || meetings[0].Room != "planning" {
		t.Errorf("Load = %v, %v; want the planning meeting", meetings, err)
	}
	if _, err := Load(ctx, srv.Client(), srv.URL+"/other.ics", now); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a calendar not found: %v, want the server's answer", err)
	}
}

// A weekly meeting as Google exports it, across the change to summer time
// (Berlin, 29 March 2026): an EXDATE takes one Monday out, RDATEs add
// times (a DATE-TIME in the meeting's zone keeping its half hour, another
// that an EXDATE takes out again, two PERIODs in one property, one with
// an end and one with a duration).
func TestRDateAddsTimesAndExDateRemoves(t *testing.T) {
	const google = "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n" +
		"X-WR-CALNAME:Board room\r\nX-WR-TIMEZONE:Europe/Berlin\r\n" +
		"BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20260316T100000\r\nDTEND;TZID=Europe/Berlin:20260316T103000\r\n" +
		"RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20260323T100000\r\n" +
		"RDATE;TZID=Europe/Berlin:20260401T140000,20260402T140000\r\nEXDATE;TZID=Europe/Berlin:20260402T140000\r\n" +
		"RDATE;VALUE=PERIOD:20260325T160000Z/20260325T180000Z,20260327T070000Z/PT1H\r\n" +
		"DTSTAMP:20260301T120000Z\r\nUID:0k3v9q@google.com\r\nCREATED:20260301T115900Z\r\n" +
		"LOCATION:https://meet.example/rooms/weekly\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nSUMMARY:Weekly\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	now := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	meetings, err := Parse(strings.NewReader(google), now)
	if err != nil {
		t.Fatal(err)
	}
	// Mon 23 Mar and Thu 2 Apr are taken out by EXDATE.
	wantInUTC(t, meetings,
		"Weekly Wed 25 Mar 16:00 to 18:00", // PERIOD with an end
		"Weekly Fri 27 Mar 07:00 to 08:00", // PERIOD with a duration
		"Weekly Mon 30 Mar 08:00 to 08:30", // summer time: 10:00 in Berlin
		"Weekly Wed 01 Apr 12:00 to 12:30", // RDATE in Berlin time, the meeting's half hour
	)
	// An RDATE that is no date is said, never a crash.
	broken := strings.Replace(google, "RDATE;TZID=Europe/Berlin:20260401T140000,20260402T140000", "RDATE;VALUE=PERIOD:tomorrow", 1)
	if _, err := Parse(strings.NewReader(broken), now); err == nil || !strings.Contains(err.Error(), `meeting "Weekly" left out: RDATE`) {
		t.Errorf("a broken RDATE: %v, want it named", err)
	}
}

// A weekly meeting as Outlook exports it: Windows time zone names in TZID
// with their VTIMEZONE, across the change to summer time (Berlin, 29
// March 2026), an EXDATE and an RDATE. A Pacific Standard Time meeting
// and a GMT Standard Time one too.
func TestOutlookWindowsTimeZones(t *testing.T) {
	const outlook = "BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\nX-WR-CALNAME:Board room\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n" +
		"BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n" +
		"BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:Pacific Standard Time\r\n" +
		"BEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0700\r\nTZOFFSETTO:-0800\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n" +
		"BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0800\r\nTZOFFSETTO:-0700\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n" +
		"BEGIN:VEVENT\r\nRRULE:FREQ=WEEKLY;UNTIL=20261228T090000Z;INTERVAL=1;BYDAY=MO;WKST=MO\r\n" +
		"EXDATE;TZID=W. Europe Standard Time:20260323T100000\r\nRDATE;TZID=W. Europe Standard Time:20260401T140000\r\n" +
		"UID:040000008200E00074C5B7101A82E0080000000010A1B2C3D4E5F6\r\nSUMMARY;LANGUAGE=en-US:Weekly\r\n" +
		"DTSTART;TZID=W. Europe Standard Time:20260316T100000\r\nDTEND;TZID=W. Europe Standard Time:20260316T103000\r\n" +
		"CLASS:PUBLIC\r\nPRIORITY:5\r\nDTSTAMP:20260301T120000Z\r\nTRANSP:OPAQUE\r\nSTATUS:CONFIRMED\r\nSEQUENCE:0\r\n" +
		"LOCATION;LANGUAGE=en-US:https://meet.example/rooms/weekly\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E0080000000020A1B2C3D4E5F6\r\nSUMMARY;LANGUAGE=en-US:West coast\r\n" +
		"DTSTART;TZID=Pacific Standard Time:20260324T090000\r\nDTEND;TZID=Pacific Standard Time:20260324T100000\r\n" +
		"DTSTAMP:20260301T120000Z\r\nLOCATION:west\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E0080000000030A1B2C3D4E5F6\r\nSUMMARY:London\r\n" +
		"DTSTART;TZID=GMT Standard Time:20260331T090000\r\nDTEND;TZID=GMT Standard Time:20260331T093000\r\n" +
		"DTSTAMP:20260301T120000Z\r\nLOCATION:london\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	now := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	meetings, err := Parse(strings.NewReader(outlook), now)
	if err != nil {
		t.Fatal(err)
	}
	wantInUTC(t, meetings,
		"West coast Tue 24 Mar 16:00 to 17:00", // Pacific summer time, UTC-7
		"Weekly Mon 30 Mar 08:00 to 08:30",     // Berlin summer time; Mon 23 Mar taken out
		"London Tue 31 Mar 08:00 to 08:30",     // British summer time
		"Weekly Wed 01 Apr 12:00 to 12:30",     // the RDATE
	)
}

// wantInUTC checks meetings are want, each "Title Mon 02 Jan 15:04 to
// 15:04" in UTC.
func wantInUTC(t *testing.T, meetings []Meeting, want ...string) {
	t.Helper()
	var got []string
	for _, m := range meetings {
		got = append(got, m.Title+" "+m.Start.UTC().Format("Mon 02 Jan 15:04")+" to "+m.End.UTC().Format("15:04"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("meetings (UTC):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
