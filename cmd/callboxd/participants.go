package main

import (
	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/config"
	"github.com/callbox/callbox/provisioning"
)

// Names from the network (a participant chooses their own name; a token's
// maker their identity) go through these before any log line, the screen
// or the page: cut, and cleaned of what does not show as itself.
func shownName(m call.Member) string {
	if m.Name == "" {
		return shownIdentity(m.Identity)
	}
	return config.CleanName(m.Name, config.MaxNameLength)
}

func shownIdentity(identity string) string { return config.CleanName(identity, config.MaxRoomLength) }

// participantsOf are the others in the call as the status page lists them
// (call.Session.Members), in join order, with the pictures of each the
// screen has shown and the decoder it used; an empty list, never null.
func participantsOf(members []call.Member, shown func(identity string) int, decoder func(identity string) string) []provisioning.Participant {
	out := make([]provisioning.Participant, 0, len(members))
	for _, m := range members {
		p := provisioning.Participant{Identity: shownIdentity(m.Identity), Muted: m.AudioMuted, Video: m.VideoCodec,
			Pictures: shown(m.Identity), Decoder: decoder(m.Identity)}
		if m.Name != "" {
			p.Name = shownName(m)
		}
		out = append(out, p)
	}
	return out
}
