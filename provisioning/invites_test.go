package provisioning

import (
	"strings"
	"testing"

	"github.com/callbox/callbox/call/keys"
)

// TestPageListsAndRevokesInvites: the signed-in admin sees the invites
// (no secret in the answer) and revokes one; a name that is not one, or
// no sign-in, changes nothing.
func TestPageListsAndRevokesInvites(t *testing.T) {
	b := newBox(t)
	name := strings.Repeat("ab", 16)
	invites := &fakeInvites{list: []keys.InviteInfo{{Name: name, Guest: "Anna", Identity: "guest-1", State: "in use"}}}
	b.srv.opts.Invites = invites
	if r := b.get("/api/invites"); r.status != 401 && r.status != 403 {
		t.Errorf("invites before sign-in: status %d", r.status)
	}
	b.setUp()
	r := b.get("/api/invites")
	b.expect(r, 200, "invites")
	if !strings.Contains(string(r.body), name) || !strings.Contains(string(r.body), `"state":"in use"`) {
		t.Errorf("the page lists %s", r.body)
	}
	b.expect(b.post("/api/invites/revoke", RevokeRequest{Name: "garbage"}), 400, "a name that is not one")
	b.expect(b.post("/api/invites/revoke", RevokeRequest{Name: name}), 200, "revoke")
	if len(invites.revoked) != 1 || invites.revoked[0] != name {
		t.Errorf("revoked %v", invites.revoked)
	}
	b.srv.opts.Invites = nil
	b.expect(b.post("/api/invites/revoke", RevokeRequest{Name: name}), 409, "a box without invites")
}
