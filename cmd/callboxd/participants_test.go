package main

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
)

// The status page's list of participants with a real call server is
// checked by provisioning/browsertest (a viewer joins; the page names it).

func TestParticipantsOf(t *testing.T) {
	got := participantsOf([]call.Member{
		{Identity: "guest-7f3a", Name: "Ada", VideoCodec: "H264"},
		{Identity: "callbox-kitchen", AudioMuted: true},
	})
	want := []provisioning.Participant{
		{Identity: "guest-7f3a", Name: "Ada", Video: "H264"},
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
