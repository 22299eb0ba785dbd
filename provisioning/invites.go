package provisioning

// The guests' invites on the status page and in the local API: a list
// (never a secret: keys.InviteInfo has none) and a revoke button. Revoking
// takes the guest out of the call and makes everyone change keys.

import (
	"context"
	"net/http"
	"time"

	"github.com/callbox/callbox/call/keys"
)

// RevokeRequest names the invite to revoke (keys.InviteName).
type RevokeRequest struct {
	Name string `json:"name"`
}

func (s *Server) handleInvites(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	list := []keys.InviteInfo{}
	if s.opts.Invites != nil {
		list = append(list, s.opts.Invites.ListInvites()...)
	}
	writeJSON(w, http.StatusOK, map[string][]keys.InviteInfo{"invites": list})
}

func (s *Server) handleRevokeInvite(w http.ResponseWriter, r *http.Request, _ string, _ *session) {
	var req RevokeRequest
	if err := decodeJSON(r, &req); err != nil {
		writeRequestError(w, err)
		return
	}
	if err := revokeInvite(r.Context(), s.opts.Invites, req.Name); err != nil {
		writeLocalError(w, err)
		return
	}
	s.log.Info("the admin revoked an invite", "invite", req.Name)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// revokeInvite is the one way both APIs revoke: the name is checked first.
func revokeInvite(ctx context.Context, invites Invites, name string) error {
	if invites == nil {
		return &LocalError{Status: http.StatusConflict, Message: "the box makes no invites: call.encryption is not end-to-end"}
	}
	if _, err := keys.ParseInviteName(name); err != nil {
		return &LocalError{Status: http.StatusBadRequest, Message: "name: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return invites.RevokeInvite(ctx, name)
}
