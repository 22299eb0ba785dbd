package guest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/callbox/callbox/call/keys"
)

// InviteOptions say whom an invite admits, where, and for how long.
type InviteOptions struct {
	ServerURL         string // the call server, as guests reach it
	APIKey, APISecret string // the call server's, to sign the token
	Room              string
	Name              string // shown to the others; "Guest" when empty
	ValidFor          time.Duration
	// Either the box's invites and its signing key (per-member keys: the
	// invite is added to the book)...
	Invites *keys.InviteBook
	BoxKey  []byte
	Once    bool // for one visit
	// ...or the room's shared key (shared-key encryption).
	RoomKey string
}

// MaxValidFor is the longest an invite lasts.
const MaxValidFor = keys.MaxInviteLife

// NewInvite makes a token for one guest: join Room, publish and subscribe,
// until ValidFor has passed; the identity is "guest-" and a random suffix,
// so that two guests never push each other out. With per-member keys the
// invite's id and secret are made and kept in the book.
func NewInvite(o InviteOptions) (Invite, error) {
	switch {
	case o.ServerURL == "" || o.Room == "":
		return Invite{}, errors.New("invite: the call server's URL and the room are needed")
	case o.APIKey == "" || o.APISecret == "":
		return Invite{}, errors.New("invite: an API key and secret are needed to sign the guest's token")
	case o.Invites == nil && o.RoomKey == "":
		return Invite{}, errors.New("invite: the call is not encrypted (call.encryption = none): guests join only encrypted calls")
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
	identity := "guest-" + hex.EncodeToString(suffix[:])
	yes := true
	token, err := auth.NewAccessToken(o.APIKey, o.APISecret).
		SetIdentity(identity).
		SetName(o.Name).
		SetValidFor(o.ValidFor).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: o.Room, CanPublish: &yes, CanSubscribe: &yes, CanPublishData: &yes}).
		ToJWT()
	if err != nil {
		return Invite{}, fmt.Errorf("invite: token: %w", err)
	}
	inv := Invite{ServerURL: o.ServerURL, Token: token, Identity: identity, Room: o.Room, RoomKey: o.RoomKey}
	if o.Invites != nil {
		rec, err := o.Invites.Add(identity, o.Name, o.ValidFor, o.Once)
		if err != nil {
			return Invite{}, fmt.Errorf("invite: %w", err)
		}
		inv.RoomKey = ""
		inv.Member = &keys.Invite{ID: rec.ID, Secret: rec.Secret, BoxKey: o.BoxKey}
	}
	return inv, nil
}

// ParseLink reads an invite link as the guest page does: for a participant
// in Go that joins with one (tests, other tools).
func ParseLink(link string) (Invite, error) {
	u, err := url.Parse(link)
	if err != nil {
		return Invite{}, errors.New("invite link: not a link")
	}
	v, err := url.ParseQuery(u.Fragment)
	if err != nil {
		return Invite{}, errors.New("invite link: its fragment is not an invite")
	}
	inv := Invite{ServerURL: v.Get("u"), Token: v.Get("t"), RoomKey: v.Get("k")}
	if inv.ServerURL == "" || inv.Token == "" {
		return Invite{}, errors.New("invite link: no call server or token")
	}
	tok, err := auth.ParseAPIToken(inv.Token)
	if err != nil {
		return Invite{}, errors.New("invite link: the token is broken")
	}
	inv.Identity = tok.Identity()
	inv.Room = tokenRoom(inv.Token)
	if v.Get("i") != "" {
		var m keys.Invite
		var errs []error
		m.ID, err = keys.DecodeBytes(v.Get("i"), keys.InviteIDSize)
		errs = append(errs, err)
		m.Secret, err = keys.DecodeBytes(v.Get("s"), keys.InviteSecretSize)
		errs = append(errs, err)
		m.BoxKey, err = keys.DecodeBytes(v.Get("b"), keys.BoxKeySize)
		errs = append(errs, err)
		if errors.Join(errs...) != nil {
			return Invite{}, errors.New("invite link: its invite (i, s, b) is broken")
		}
		inv.Member = &m
	}
	if inv.Member == nil && inv.RoomKey == "" {
		return Invite{}, errors.New("invite link: neither an invite nor a room key")
	}
	return inv, nil
}

// Name names the invite for a list and for revoking; "" for shared-key ones.
func (inv Invite) Name() string {
	if inv.Member == nil {
		return ""
	}
	return keys.InviteName(inv.Member.ID)
}

// tokenRoom reads the room a token grants without checking its signature
// (only the server can): the guest needs its name, as the page does.
func tokenRoom(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Video struct {
			Room string `json:"room"`
		} `json:"video"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Video.Room
}

func fragment(inv Invite) string {
	v := url.Values{}
	v.Set("u", inv.ServerURL)
	v.Set("t", inv.Token)
	if inv.Member != nil {
		v.Set("i", keys.EncodeBytes(inv.Member.ID))
		v.Set("s", keys.EncodeBytes(inv.Member.Secret))
		v.Set("b", keys.EncodeBytes(inv.Member.BoxKey))
	} else {
		v.Set("k", inv.RoomKey)
	}
	return v.Encode()
}
