package guest

import (
	"errors"

	"github.com/callbox/callbox/call"
	"github.com/callbox/callbox/call/keys"
)

// MemberOptions are what a participant in Go joins a call with from an
// invite link, as the guest page does: its token, and with per-member keys
// a new identity and the invite (callboxctl view, tests, the bench).
func MemberOptions(link string) (call.Options, error) {
	inv, err := ParseLink(link)
	if err != nil {
		return call.Options{}, err
	}
	opts := call.Options{URL: inv.ServerURL, Token: inv.Token, Room: inv.Room, Identity: inv.Identity}
	if inv.Member == nil {
		if opts.RoomKey, err = call.NewRoomKey(inv.RoomKey); err != nil {
			return call.Options{}, err
		}
		return opts, nil
	}
	if inv.Room == "" {
		return call.Options{}, errors.New("invite link: the token names no room")
	}
	id, err := keys.NewIdentity()
	if err != nil {
		return call.Options{}, err
	}
	opts.Group = &call.GroupOptions{Identity: id, Invite: inv.Member}
	return opts, nil
}
