package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
)

// The status page's list of participants with a real call server is
// checked by provisioning/browsertest (a viewer joins; the page names it).

func TestParticipantsOf(t *testing.T) {
	shown := map[string]int{"guest-7f3a": 42}
	decoders := map[string]string{"guest-7f3a": "hardware, /dev/video10 (bcm2835-codec-decode)"}
	got := participantsOf([]call.Member{
		{Identity: "guest-7f3a", Name: "Ada", VideoCodec: "H264"},
		{Identity: "callbox-kitchen", AudioMuted: true},
	}, func(id string) int { return shown[id] }, func(id string) string { return decoders[id] })
	want := []provisioning.Participant{
		{Identity: "guest-7f3a", Name: "Ada", Video: "H264", Pictures: 42, Decoder: "hardware, /dev/video10 (bcm2835-codec-decode)"},
		{Identity: "callbox-kitchen", Muted: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("participants %+v, want %+v", got, want)
	}
}

func TestStatusParticipantsIsAList(t *testing.T) {
	s := newSupervisor(slog.Default(), provisioning.Boot{Config: config.Default()})
	for _, d := range []*daemon{nil, {session: call.New(call.Options{})}} {
		s.daemon = d
		data, _ := json.Marshal(s.Status())
		if !strings.Contains(string(data), `"participants":[]`) {
			t.Errorf("out of a room, the status says %s; want an empty list", data)
		}
	}
}

// TestNamesFromTheNetworkAreCleaned: a participant chooses their own name
// (and a token's maker their identity). What the box logs, draws on the
// screen and lists on the status page is cut to a sensible length and
// holds no control or text-direction characters.
func TestNamesFromTheNetworkAreCleaned(t *testing.T) {
	hostileName := "Mallory\x1b[2J\u202eexe.gpj\u0085" + strings.Repeat("A", 3000)
	hostileID := "guest-" + strings.Repeat("x", 500) + "\a"
	var logged bytes.Buffer
	rx := newReceiver(config.Default(), slog.New(slog.NewTextHandler(&logged, nil)))
	defer rx.mixer.Close()
	members := []call.Member{{Identity: hostileID, Name: hostileName}, {Identity: "guest-\u202e2"}}
	rx.setMembers(members)
	onScreen := rx.members
	rx.setMembers(nil) // and they leave
	for _, line := range strings.Split(strings.TrimSpace(logged.String()), "\n") {
		if len(line) > 400 {
			t.Errorf("a log line of %d bytes: %.120s…", len(line), line)
		}
		for _, hidden := range []string{"\x1b", "\\x1b", "\u202e", "\\u202e", "\u0085", "\\u0085", "\a", "\\a"} {
			if strings.Contains(line, hidden) {
				t.Errorf("a log line holds %q: %.200s", hidden, line)
			}
		}
	}
	shown := map[string]string{"screen": onScreen[0].Name, "screen, without a name": onScreen[1].Name}
	for i, p := range participantsOf(members, rx.shown, rx.decoderOf) {
		shown[fmt.Sprintf("status page, participant %d's name", i+1)] = p.Name
		shown[fmt.Sprintf("status page, participant %d's identity", i+1)] = p.Identity
	}
	for where, name := range shown {
		if err := config.CheckName(name, config.MaxRoomLength); err != nil {
			t.Errorf("%s: %q %v", where, name, err)
		}
	}
	if onScreen[1].Name == "" {
		t.Errorf("a participant without a name has none on the screen, which then draws the identity as it came")
	}
	if n := utf8.RuneCountInString(onScreen[0].Name); n > config.MaxNameLength {
		t.Errorf("the screen shows a name of %d characters", n)
	}
}
