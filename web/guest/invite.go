package guest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/livekit/protocol/auth"
)

// InviteOptions say whom an invite admits, where, and for how long.
type InviteOptions struct {
	ServerURL         string // the call server, as guests reach it
	APIKey, APISecret string // the call server's, to sign the token
	Room              string
	RoomKey           string // the room's end-to-end encryption key
	Name              string // shown to the others; "Guest" when empty
	ValidFor          time.Duration
}

// MaxValidFor is the longest an invite lasts.
const MaxValidFor = 30 * 24 * time.Hour

// NewInvite makes a token for one guest: join Room, publish and subscribe,
// until ValidFor has passed; the identity is "guest-" and a random suffix,
// so that two guests never push each other out.
func NewInvite(o InviteOptions) (Invite, error) {
	switch {
	case o.ServerURL == "" || o.Room == "":
		return Invite{}, errors.New("invite: the call server's URL and the room are needed")
	case o.APIKey == "" || o.APISecret == "":
		return Invite{}, errors.New("invite: an API key and secret are needed to sign the guest's token")
	case o.RoomKey == "":
		return Invite{}, errors.New("invite: the room has no key (call.room_key): guests join only encrypted calls")
	case o.ValidFor <= 0 || o.ValidFor > MaxValidFor:
		return Invite{}, fmt.Errorf("invite: valid for %v: want more than 0 and at most %v", o.ValidFor, MaxValidFor)
	}
	if o.Name == "" {
		o.Name = "Guest"
	}
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	yes := true
	token, err := auth.NewAccessToken(o.APIKey, o.APISecret).
		SetIdentity("guest-" + hex.EncodeToString(suffix[:])).
		SetName(o.Name).
		SetValidFor(o.ValidFor).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: o.Room, CanPublish: &yes, CanSubscribe: &yes}).
		ToJWT()
	if err != nil {
		return Invite{}, fmt.Errorf("invite: token: %w", err)
	}
	return Invite{ServerURL: o.ServerURL, Token: token, RoomKey: o.RoomKey}, nil
}
