// Package keys is the key exchange of Callbox's end-to-end encrypted calls:
// who is a member of the call, the media key of each sender, how those keys
// reach the other members and when they change. It knows nothing of
// LiveKit, frames or codecs: messages go out through Config.Send and come in
// through Group.Receive (package call carries them in LiveKit data messages,
// which the SFU forwards without being able to read or forge them), and keys
// go to a KeySink (package call's per-sender key providers). The guest page
// speaks the same protocol (web/guest/src/keys.js).
//
// # The protocol (version 1)
//
// Primitives, all from maintained libraries (Go's crypto/ed25519,
// crypto/ecdh, crypto/hpke, crypto/hkdf, crypto/hmac; Web Crypto and
// @hpke/core in the page): Ed25519 signatures; HPKE (RFC 9180) in base
// mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM;
// HMAC-SHA256; HKDF-SHA256. Every signed or MACed byte string is a
// transcript: a domain string naming the message and the protocol version,
// then each field, each as a 4-byte big-endian length and its bytes
// (transcript in wire.go), so no two messages or field splits sign alike.
//
// Every participant has an identity: an Ed25519 key (sig) that signs what
// it says, and an X25519 key (kem) to which keys are sealed. A box keeps
// its identity in its data directory; a guest's page and any other member
// make a new one for each call. A session nonce (16 random bytes) names
// one presence in the room: a participant that joins again gets a new
// one.
//
// The box is the authority of its room: it admits members and publishes
// the roster, the signed list of who they are. A member knows the box's
// sig key from its invite link. A room may have several boxes (see
// "Several boxes" below): then one of them leads. An invite is an id (16 bytes), a secret
// (32 bytes) and the LiveKit identity it admits; only the box and the
// link hold the secret, which never becomes a media key. The messages, in
// JSON, each with "t" naming it:
//
//   - hello (broadcast): room, id (the LiveKit identity), sig, kem, nonce,
//     time (ms, rising with each session of one identity key), for a box
//     boxes (the sig keys of the other boxes it trusts, at most 16), and s,
//     the sender's signature over all of them (boxes after time, each a
//     field of the transcript). It proves possession of sig, binds kem, the
//     identity and the session to it. Sent on joining, after a
//     reconnection, and in answer to a hello of a new session of the box (a
//     box answers every new session's hello with its own). A hello of an
//     earlier time than the newest of the same sig key is refused.
//   - challenge (box to one participant): c, 16 fresh random bytes, for a
//     participant that said hello and is not a member. Unsigned: a forged
//     challenge only makes a join that fails.
//   - join (participant to box): the invite's id, c and mac =
//     HMAC-SHA256(HKDF-SHA256(secret, info "callbox-e2ee-v1 invite proof"),
//     transcript of room, id, sig, kem, nonce, invite id, c). Proves that
//     the participant holds the invite, for these keys, this session and
//     this challenge: a join replayed (by the SFU, or by a member that left)
//     meets a challenge that was used up or never made. The box checks that
//     the invite exists, is not revoked or expired, admits this LiveKit
//     identity, and if it is for one use, that it was not used by another
//     identity key, and not spent by a visit that ended.
//   - roster (box, broadcast): room, the box's session nonce, epoch (rising
//     within a session), and each member's id, sig, kem and nonce; signed by
//     the box. Members take a roster only from the box's current session
//     (its newest hello), only with a higher epoch than the last, and only
//     once it lists themselves with their own session: so an old roster
//     replayed to a newcomer is refused.
//   - key (member to member): index, gen, and the sender's 32-byte key
//     material sealed with HPKE to the recipient's kem, with info
//     "callbox-e2ee-v1 sender key" and as associated data the transcript of
//     room, the sender's id, sig and nonce, the recipient's id, kem and
//     nonce, index and gen; the whole signed by the sender. Only the
//     recipient opens it, and the signature under the sender's roster key
//     over the HPKE output, whose associated data names both ends, says
//     who sent it to whom (another member re-signing it fails the
//     associated data). A recipient takes keys only from roster members,
//     addressed to its own current session, and never an older gen of a
//     sender's session than it has.
//   - ack (member to member): index and gen received; signed. The sender of
//     a new random key switches to it once every member acked it.
//   - vouch (a box to the box that leads): room, the sender's session
//     nonce, to_nonce (the leader's session), c (the leader's challenge
//     that admitted it), epoch (rising within the sender's session), and
//     the members the sender admitted (id, sig, kem, nonce; none or more);
//     signed by the sender.
//
// # Several boxes
//
// A box's settings may list the sig keys of the room's other boxes
// (call.boxes); its hello carries that list, signed. Two boxes trust each
// other when each lists the other: a box trusts no box that does not list
// it, so one side's typo makes two calls, not one call half-trusted. A
// member trusts its own box (the invite's key) and every box that its box
// lists and that lists its box back, as the box's latest signed hello says.
//
// Of the boxes present that the participant trusts (its own included), the
// one with the lowest sig key (bytes in order) leads: it admits and
// publishes the roster as a single box does. Every participant computes
// this from the same signed hellos, so all agree without a vote. A box that
// does not lead joins the leader as a member: when it sees the leader's
// hello it sends its own; the leader answers with a challenge, and the box
// answers with a vouch carrying that challenge, signed with its sig key
// instead of an invite's proof. In the same vouch it names the members it
// admitted itself: a box checks only its own invites (the secrets never
// leave it), challenging every newcomer that says hello as the leader
// does, and a member answers only the challenge of its own box. Each
// change of those members (an admission, a leave, a revoked invite) sends
// a new vouch with a higher epoch; the leader puts exactly the members of
// the newest vouch of each box's session in its roster. A vouch is taken
// only from a trusted box, for the leader's current session, after an
// open challenge (the first of a session) or with the challenge that
// admitted it (the next ones), and with a higher epoch: a replayed or
// changed vouch admits nobody.
//
// Members keep the newest roster of each trusted box's current session
// and follow the leader's. A roster of a new leader that does not list the
// member yet while its own box is present and unlisted (the leader has not
// admitted that box yet) leaves the roster followed until then in place;
// one that lists the box without the member, or comes while the member's
// box is away, ends its membership.
//
// When the leader leaves, the next lowest trusted box leads. It keeps the
// members of the roster it followed (a box it trusts admitted them),
// publishes its own roster, and the others follow it: their own box lists
// it. A member whose box left stays a member while it stays; nobody can
// then revoke its invite, and its box's invites admit nobody new until the
// box is back. The leader's leave is a leave like any other: every sender
// makes a new key, and the box that left holds none of them.

// Media keys: each sender encrypts with key material of its own (32 random
// bytes) in livekit-client's frame format: the frame key is
// HKDF-SHA256(material, salt "LKFrameEncryptionKey", info 128 zero bytes)
// as livekit-client derives it for a key set from bytes. A key's index in
// the frame trailer is its gen modulo 16, livekit-client's key ring size.
//
//   - A member comes: every sender ratchets, material' = HKDF-SHA256(material,
//     info "callbox-e2ee-v1 ratchet"), switches at once, and sends the new
//     key to every member. The newcomer cannot compute the key before it
//     (HKDF is one-way): no look back. The others already hold the next
//     three ratchets of each sender's latest key, so the switch needs no
//     wait. (livekit-client's own ratchet is not used: its output's first
//     16 bytes equal the frame key of the key it ratchets.)
//   - A member leaves or is removed: every sender waits LeaveBatch (0.25 s)
//     for more leaves, makes new random material, sends it to the members
//     that remain, and switches when all acked or SwitchDeadline (4 s)
//     after the first leave, whichever comes first. A leave during that
//     wait makes yet another key.
//   - Every RotateEvery (15 min) a sender makes a new random key as on a
//     leave.
//
// Verification: the first five bytes of SHA-256 over the transcript of the
// room and the members' sig keys in byte order, written as five emoji (on
// pages) or their names (on the screen). Every member computes it from the
// same signed roster, so the box's screen, the guest pages and the Go
// participants show the same string; it changes with the members.
//
// What it does not do: stop a member from recording what it sees while it
// is a member; protect against the box itself or a box it trusts (the
// authority: a box that is compromised can admit anyone); or make the SFU
// forward what it should. The SFU sees who talks to whom and when, the identity keys and
// the roster, never a key or a secret.
package keys
