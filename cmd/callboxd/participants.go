package main

import (
	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/provisioning"
)

// participantsOf are the others in the call as the status page lists them
// (call.Session.Members), in join order; an empty list, never null.
func participantsOf(members []call.Member) []provisioning.Participant {
	out := make([]provisioning.Participant, 0, len(members))
	for _, m := range members {
		out = append(out, provisioning.Participant{Identity: m.Identity, Name: m.Name, Muted: m.AudioMuted, Video: m.VideoCodec})
	}
	return out
}
