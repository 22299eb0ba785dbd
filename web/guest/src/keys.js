// The key exchange of Callbox's calls, a member's side (a box is the
// authority; of several boxes in one room, the one that leads): the same
// protocol as call/keys in Go, whose doc.go describes it. Ed25519, X25519, HKDF, HMAC and AES-GCM are the browser's Web Crypto;
// HPKE (RFC 9180, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM)
// is @hpke/core over Web Crypto. Nothing here is our own cryptography:
// only these primitives, combined as doc.go writes down.
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

export const TOPIC = 'callbox-e2ee-v1';
const RING = 16; // livekit-client's keyringSize
const LOOKAHEAD = 3;
export const LEAVE_BATCH_MS = 250;
export const SWITCH_DEADLINE_MS = 4000;
export const ROTATE_EVERY_MS = 15 * 60 * 1000;
export const REPAIR_EVERY_MS = 2000;
const MAX_MESSAGE = 64 << 10;
const MAX_BOXES = 16;

const enc = new TextEncoder();
const subtle = crypto.subtle;
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

const D = {
  hello: 'callbox-e2ee-v1 hello',
  join: 'callbox-e2ee-v1 join',
  roster: 'callbox-e2ee-v1 roster',
  key: 'callbox-e2ee-v1 key',
  keyAAD: 'callbox-e2ee-v1 key aad',
  ack: 'callbox-e2ee-v1 ack',
  members: 'callbox-e2ee-v1 members',
  inviteProof: 'callbox-e2ee-v1 invite proof',
  senderKey: 'callbox-e2ee-v1 sender key',
  ratchet: 'callbox-e2ee-v1 ratchet',
};

// transcript: a domain and fields, each as a 4-byte big-endian length and
// its bytes (wire.go's transcript).
export function transcript(domain, ...fields) {
  const parts = [enc.encode(domain), ...fields.map((f) => (typeof f === 'string' ? enc.encode(f) : f))];
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

const u32 = (v) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v); return b; };
const u64 = (v) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v)); return b; };
const random = (n) => crypto.getRandomValues(new Uint8Array(n));
const equal = (a, b) => a && b && a.length === b.length && a.every((v, i) => v === b[i]);
const hex = (b) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
const compare = (a, b) => { for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]; return a.length - b.length; };

// Bytes travel as standard base64 in JSON (Go's []byte), and as base64url in links.
export const b64 = (b) => btoa(String.fromCharCode(...b));
export function unb64(s, n) {
  if (typeof s !== 'string') throw new Error('not base64');
  const b = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  if (n !== undefined && b.length !== n) throw new Error(`want ${n} bytes`);
  return b;
}
export const unb64url = (s, n) => unb64(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4), n);

async function hkdf(ikm, salt, info, bytes) {
  const k = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: enc.encode(info) }, k, bytes * 8));
}

export const ratchet = (material) => hkdf(material, new Uint8Array(), D.ratchet, 32);

async function inviteMAC(secret, room, p, invite, c) {
  const key = await hkdf(secret, new Uint8Array(), D.inviteProof, 32);
  const k = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', k, transcript(D.join, room, p.id, p.sig, p.kem, p.nonce, invite, c)));
}

async function verify(sigKey, data, sig) {
  try {
    const k = await subtle.importKey('raw', sigKey, { name: 'Ed25519' }, false, ['verify']);
    return await subtle.verify('Ed25519', k, sig, data);
  } catch {
    return false;
  }
}

// verification is the members' check: SHA-256 of the room and the sorted
// signing keys, its first five bytes.
export async function verification(room, sigKeys) {
  const sorted = [...sigKeys].sort(compare);
  const sum = new Uint8Array(await subtle.digest('SHA-256', transcript(D.members, room, ...sorted)));
  return sum.slice(0, 5);
}

const keyAAD = (room, from, to, index, gen) =>
  transcript(D.keyAAD, room, from.id, from.sig, from.nonce, to.id, to.kem, to.nonce, new Uint8Array([index]), u32(gen));

const SIZES = { sig: 32, kem: 32, nonce: 16, to_nonce: 16, from_nonce: 16, c: 16, invite: 16, mac: 32, enc: 32, ct: 48, s: 64 };

// parse reads one message and checks every field it will use (wire.go's
// parse and check); it throws, saying what is wrong but never quoting it.
export function parse(data) {
  if (data.length > MAX_MESSAGE) throw new Error('key message too long');
  let m;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw new Error('key message malformed: not JSON');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error('key message malformed');
  const out = { t: m.t };
  const bytes = (name) => { out[name] = unb64(m[name], SIZES[name]); };
  const id = (name) => {
    if (typeof m[name] !== 'string' || m[name] === '' || m[name].length > 256) throw new Error(`${name}: not an identity`);
    out[name] = m[name];
  };
  const num = (name, max) => {
    const v = m[name] ?? 0;
    if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new Error(`${name}: not a number`);
    out[name] = v;
  };
  try {
    switch (m.t) {
      case 'hello':
        id('room'); id('id'); bytes('sig'); bytes('kem'); bytes('nonce'); num('time', Number.MAX_SAFE_INTEGER); bytes('s');
        if (m.boxes !== undefined && m.boxes !== null && (!Array.isArray(m.boxes) || m.boxes.length > MAX_BOXES)) throw new Error('boxes');
        out.boxes = (m.boxes || []).map((b) => unb64(b, 32));
        break;
      case 'challenge': id('to'); bytes('to_nonce'); bytes('c'); break;
      case 'roster':
        id('room'); bytes('nonce'); num('epoch', Number.MAX_SAFE_INTEGER); bytes('s');
        if (!Array.isArray(m.members) || m.members.length < 1 || m.members.length > 100) throw new Error('members');
        out.members = m.members.map((e) => {
          if (typeof e.id !== 'string' || e.id === '' || e.id.length > 256) throw new Error('member id');
          return { id: e.id, sig: unb64(e.sig, 32), kem: unb64(e.kem, 32), nonce: unb64(e.nonce, 16) };
        });
        break;
      case 'key': id('from'); id('to'); bytes('from_nonce'); bytes('to_nonce'); num('index', 255); num('gen', 0xffffffff); bytes('enc'); bytes('ct'); bytes('s'); break;
      case 'ack': id('from'); id('to'); bytes('from_nonce'); bytes('to_nonce'); num('index', 255); num('gen', 0xffffffff); bytes('s'); break;
      case 'join': case 'vouch': return null; // for boxes
      default: throw new Error('unknown type');
    }
  } catch (e) {
    throw new Error(`key message malformed: ${m.t}: ${e.message}`);
  }
  if ((out.t === 'key' || out.t === 'ack') && out.gen === 0) throw new Error('key message malformed: gen 0');
  return out;
}

// encode writes a message as Go's encoding/json reads it: bytes as base64.
function encode(m) {
  const o = {};
  for (const [k, v] of Object.entries(m)) o[k] = v instanceof Uint8Array ? b64(v) : v;
  return enc.encode(JSON.stringify(o));
}

// Member is one guest's side of the exchange. keys receives the media keys:
// setOwnKey(index, material) switches what this page sends with;
// setRemoteKey(identity, index, material) is another member's key.
export class Member {
  constructor({ room, self, invite, send, keys, onStatus, log }) {
    Object.assign(this, { room, invite, send, keys, onStatus: onStatus || (() => {}), log: log || (() => {}) });
    this.selfID = self;
    this.queue = Promise.resolve();
    this.present = new Set();
    // hellos: the latest of each participant present; newest: the time of
    // the newest hello of each box's signing key; myBox: the latest hello of the
    // invite's box, kept while it is away (its list of boxes says whom to
    // follow); lead: the box whose roster is followed; rosters: the newest
    // of each box trusted.
    this.hellos = new Map();
    this.newest = new Map();
    this.myBox = null;
    this.lead = null;
    this.rosters = new Map();
    this.roster = null;
    this.rosterNonce = null;
    this.rosterEpoch = 0;
    this.inRoster = false;
    this.sendTo = new Map();
    // newcomers have not acked the key this page sends with.
    this.newcomers = new Set();
    this.inRoom = false; // joined was called: there is a room to send to
    this.remote = new Map();
    this.pending = null;
    this.leaveAt = 0;
    this.timers = {};
    this.stats = { dropped: 0 };
    this.closed = false;
  }

  // start makes the identity and the first key; nothing is sent yet.
  async start() {
    this.sigPair = await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    this.kemPair = await suite.kem.generateKeyPair();
    this.self = {
      id: this.selfID,
      sig: new Uint8Array(await subtle.exportKey('raw', this.sigPair.publicKey)),
      kem: new Uint8Array(await suite.kem.serializePublicKey(this.kemPair.publicKey)),
      nonce: random(16),
    };
    this.time = Date.now();
    this.gen = 1;
    this.material = random(32);
    await this.keys.setOwnKey(this.gen % RING, this.material);
    this.timers.rotate = setTimeout(() => this.run(() => this.periodic()), ROTATE_EVERY_MS);
    this.timers.repair = setTimeout(() => this.run(() => this.repair()), REPAIR_EVERY_MS);
  }

  close() {
    this.closed = true;
    for (const t of Object.values(this.timers)) clearTimeout(t);
  }

  // run queues f after everything before it: the Go side's lock. After
  // each step the roster of the box that leads is followed.
  run(f) {
    const step = async () => {
      if (this.closed) return;
      await f();
      await this.follow();
    };
    this.queue = this.queue.then(step).catch((e) => this.log('key exchange: ' + e.message));
    return this.queue;
  }

  async sign(data) { return new Uint8Array(await subtle.sign('Ed25519', this.sigPair.privateKey, data)); }

  async hello() {
    const m = { t: 'hello', room: this.room, id: this.self.id, sig: this.self.sig, kem: this.self.kem, nonce: this.self.nonce, time: this.time };
    m.s = await this.sign(transcript(D.hello, m.room, m.id, m.sig, m.kem, m.nonce, u64(m.time)));
    return m;
  }

  // joined: in the room with these others; says hello (again after a reconnection).
  joined(present) {
    return this.run(async () => {
      this.present = new Set(present.filter((id) => id !== this.selfID));
      this.inRoom = true;
      this.forgetAbsent();
      this.send(null, encode(await this.hello()));
      await this.membersChanged();
    });
  }

  participantJoined(id) {
    return this.run(async () => {
      if (id === this.selfID || this.present.has(id)) return;
      this.present.add(id);
      await this.membersChanged();
    });
  }

  participantLeft(id) {
    return this.run(async () => {
      if (!this.present.delete(id)) return;
      this.forgetAbsent();
      await this.membersChanged();
    });
  }

  receive(from, data) {
    return this.run(async () => {
      let m;
      try {
        m = parse(data);
      } catch (e) {
        this.stats.dropped++;
        this.log(e.message);
        return;
      }
      if (!m || from === this.selfID) return;
      // A message relayed from a participant shows it is in the room,
      // often before the room's list says so (as in group.go).
      const arrived = !this.present.has(from);
      if (arrived) this.present.add(from);
      const handle = { hello: this.onHello, challenge: this.onChallenge, roster: this.onRoster, key: this.onKey, ack: this.onAck }[m.t];
      const why = await handle.call(this, from, m);
      if (why) {
        this.stats.dropped++;
        this.log(`dropped a key message (${m.t}) from ${from}: ${why}`);
      }
      if (arrived) await this.membersChanged();
    });
  }

  async onHello(from, m) {
    if (m.id !== from || m.room !== this.room) return 'a hello for another participant or room';
    const fields = [m.room, m.id, m.sig, m.kem, m.nonce, u64(m.time), ...m.boxes];
    if (!(await verify(m.sig, transcript(D.hello, ...fields), m.s))) return 'forged';
    const h = { id: m.id, sig: m.sig, kem: m.kem, nonce: m.nonce, time: m.time, boxes: m.boxes };
    const old = this.hellos.get(from);
    if (!old || !equal(old.nonce, h.nonce) || !equal(old.sig, h.sig)) {
      // A box's key lasts; a member's is new each call.
      if (equal(h.sig, this.invite.boxKey) || (this.myBox && this.myBox.boxes.some((b) => equal(b, h.sig)))) {
        const newest = this.newest.get(hex(h.sig));
        if (newest !== undefined && h.time < newest) return 'a hello of an earlier session of a box';
        this.newest.set(hex(h.sig), h.time);
      }
      this.hellos.set(from, h);
      this.rosters.delete(from);
    }
    if (equal(h.sig, this.invite.boxKey) && !(this.myBox && equal(this.myBox.nonce, h.nonce))) {
      this.myBox = h;
      this.send([from], encode(await this.hello())); // so it challenges us
    } else if (old !== this.hellos.get(from) && this.trusted(h)) {
      this.send([from], encode(await this.hello())); // another box of the room: it may lead
    }
    return null;
  }

  async onChallenge(from, m) {
    if (!this.myBox || from !== this.myBox.id) return 'a challenge not from the box';
    if (m.to !== this.self.id || !equal(m.to_nonce, this.self.nonce)) return 'not for us';
    const mac = await inviteMAC(this.invite.secret, this.room, this.self, this.invite.id, m.c);
    this.send([from], encode({ t: 'join', invite: this.invite.id, c: m.c, mac }));
    return null;
  }

  // trusted: h is the invite's box, or a box that the invite's box lists
  // and that lists it back (the boxes' signed hellos say so).
  trusted(h) {
    const mine = this.invite.boxKey;
    if (equal(h.sig, mine)) return true;
    const listed = (keys, k) => keys.some((b) => equal(b, k));
    return !!this.myBox && listed(this.myBox.boxes, h.sig) && listed(h.boxes, mine);
  }

  // leader: of the trusted boxes present, the lowest signing key leads.
  leader() {
    let best = null;
    for (const [id, h] of this.hellos) {
      if (this.present.has(id) && this.trusted(h) && (!best || compare(h.sig, best.sig) < 0)) best = h;
    }
    return best;
  }

  forgetAbsent() {
    for (const id of [...this.hellos.keys()]) {
      if (!this.present.has(id)) {
        this.hellos.delete(id);
        this.rosters.delete(id);
      }
    }
  }

  // onRoster keeps the newest roster of each trusted box; follow applies
  // the leader's.
  async onRoster(from, m) {
    const h = this.hellos.get(from);
    if (!h || !this.trusted(h)) return 'a roster not from a box of the room';
    if (m.room !== this.room || !equal(m.nonce, h.nonce)) return 'a roster of another session';
    const fields = [m.room, m.nonce, u64(m.epoch)];
    for (const e of m.members) fields.push(e.id, e.sig, e.kem, e.nonce);
    if (!(await verify(h.sig, transcript(D.roster, ...fields), m.s))) return 'forged';
    const last = this.rosters.get(from);
    if (last && m.epoch <= last.epoch) return 'stale';
    this.rosters.set(from, m);
    return null;
  }

  // follow takes the roster of the box that leads (group.go's follow).
  async follow() {
    const lead = this.leader();
    if (!lead) return;
    if (!this.lead || this.lead.id !== lead.id || !equal(this.lead.nonce, lead.nonce)) this.lead = lead;
    const r = this.rosters.get(lead.id);
    if (!r || (equal(r.nonce, this.rosterNonce) && r.epoch <= this.rosterEpoch)) return;
    const same = (e, p) => e.id === p.id && equal(e.sig, p.sig) && equal(e.nonce, p.nonce);
    const self = r.members.some((e) => same(e, this.self));
    const box = r.members.some((e) => equal(e.sig, this.invite.boxKey));
    const myBoxHere = !!this.myBox && this.present.has(this.myBox.id) && equal(this.hellos.get(this.myBox.id)?.nonce, this.myBox.nonce);
    if (self) {
      this.roster = r.members;
      this.rosterNonce = r.nonce;
      this.rosterEpoch = r.epoch;
      this.inRoster = true;
      await this.membersChanged();
    } else if (this.inRoster && (equal(r.nonce, this.rosterNonce) || box || !myBoxHere)) {
      this.roster = null;
      this.inRoster = false;
      this.rosterNonce = r.nonce;
      this.rosterEpoch = r.epoch;
      await this.membersChanged();
    }
  }

  rosterMember(id) {
    return id === this.self.id ? null : this.roster?.find((e) => e.id === id) ?? null;
  }

  async onKey(from, m) {
    if (m.from !== from || m.to !== this.self.id || !equal(m.to_nonce, this.self.nonce)) return 'not for us';
    const sender = this.rosterMember(from);
    if (!this.inRoster || !sender) return 'a key from one who is not a member';
    if (!equal(sender.nonce, m.from_nonce)) return 'a key of another session';
    if (m.index !== m.gen % RING) return 'forged index';
    const aad = keyAAD(this.room, sender, this.self, m.index, m.gen);
    if (!(await verify(sender.sig, transcript(D.key, aad, m.enc, m.ct), m.s))) return 'forged';
    const r = this.remote.get(from);
    if (r && equal(r.nonce, m.from_nonce) && m.gen < r.gen) return 'stale';
    let material;
    try {
      const recipient = await suite.createRecipientContext({ recipientKey: this.kemPair, enc: m.enc, info: enc.encode(D.senderKey) });
      material = new Uint8Array(await recipient.open(m.ct, aad));
    } catch {
      return 'forged';
    }
    if (!r || !equal(r.nonce, m.from_nonce) || m.gen > r.gen) {
      this.remote.set(from, { nonce: m.from_nonce, gen: m.gen });
      await this.keys.setRemoteKey(from, m.index, material);
      let next = material;
      for (let k = 1; k <= LOOKAHEAD; k++) {
        next = await ratchet(next);
        await this.keys.setRemoteKey(from, (m.gen + k) % RING, next);
      }
    }
    const ack = { t: 'ack', from: this.self.id, from_nonce: this.self.nonce, to: from, to_nonce: m.from_nonce, index: m.index, gen: m.gen };
    ack.s = await this.sign(transcript(D.ack, this.room, ack.from, ack.from_nonce, ack.to, ack.to_nonce, new Uint8Array([ack.index]), u32(ack.gen)));
    this.send([from], encode(ack));
    return null;
  }

  async onAck(from, m) {
    if (m.from !== from || m.to !== this.self.id || !equal(m.to_nonce, this.self.nonce)) return 'not for us';
    const sender = this.rosterMember(from);
    if (!sender || !equal(sender.nonce, m.from_nonce)) return 'an ack from one who is not a member';
    const ok = await verify(sender.sig, transcript(D.ack, this.room, m.from, m.from_nonce, m.to, m.to_nonce, new Uint8Array([m.index]), u32(m.gen)), m.s);
    if (!ok) return 'forged';
    if (m.gen === this.gen) this.newcomers.delete(from);
    if (!this.pending || m.gen !== this.pending.gen) return null;
    this.pending.acked.add(from);
    await this.switchIfAcked();
    return null;
  }

  // membersChanged: a newcomer makes this sender ratchet, a leaver rotate.
  async membersChanged() {
    const now = new Map();
    if (this.inRoster) {
      for (const e of this.roster) if (e.id !== this.self.id && this.present.has(e.id)) now.set(e.id, e);
    }
    const same = (a, b) => a && b && equal(a.nonce, b.nonce) && equal(a.sig, b.sig);
    const added = [...now.keys()].filter((id) => !same(this.sendTo.get(id), now.get(id))).sort();
    const removed = [...this.sendTo.keys()].filter((id) => !same(this.sendTo.get(id), now.get(id)));
    this.sendTo = now;
    for (const id of removed) if (!now.has(id)) { this.remote.delete(id); }
    for (const id of removed) this.newcomers.delete(id);
    for (const id of added) this.newcomers.add(id);
    if (removed.length) {
      this.log(`members left (${removed.join(', ')}): a new key follows`);
      await this.startRotation(true);
      await this.sendPendingTo(added);
    } else if (added.length && (this.pending || this.leaveAt)) {
      await this.sendPendingTo(added);
    } else if (added.length) {
      this.gen++;
      this.material = await ratchet(this.material);
      await this.keys.setOwnKey(this.gen % RING, this.material);
      for (const id of [...now.keys()].sort()) await this.sendKey(now.get(id), this.gen, this.material);
    }
    await this.tellStatus();
  }

  async sendPendingTo(ids) {
    if (!this.pending) return;
    for (const id of ids) await this.sendKey(this.sendTo.get(id), this.pending.gen, this.pending.material);
  }

  async sendKey(to, gen, material) {
    const index = gen % RING;
    const aad = keyAAD(this.room, this.self, to, index, gen);
    const pk = await suite.kem.deserializePublicKey(to.kem);
    const sender = await suite.createSenderContext({ recipientPublicKey: pk, info: enc.encode(D.senderKey) });
    const ct = new Uint8Array(await sender.seal(material, aad));
    const encBytes = new Uint8Array(sender.enc);
    const m = { t: 'key', from: this.self.id, from_nonce: this.self.nonce, to: to.id, to_nonce: to.nonce, index, gen, enc: encBytes, ct };
    m.s = await this.sign(transcript(D.key, aad, encBytes, ct));
    this.send([to.id], encode(m));
  }

  async startRotation(leave) {
    if (!this.leaveAt) {
      this.leaveAt = Date.now();
      this.timers.switchAt = setTimeout(() => this.run(() => this.switchNow()), SWITCH_DEADLINE_MS);
    }
    if (!leave || this.pending) {
      await this.makePending();
      return;
    }
    if (!this.timers.batch) {
      this.timers.batch = setTimeout(() => this.run(async () => {
        this.timers.batch = null;
        if (this.leaveAt && !this.pending) await this.makePending();
      }), LEAVE_BATCH_MS);
    }
  }

  async makePending() {
    const gen = (this.pending ? this.pending.gen : this.gen) + 1;
    this.pending = { gen, material: random(32), acked: new Set() };
    for (const id of [...this.sendTo.keys()].sort()) await this.sendKey(this.sendTo.get(id), gen, this.pending.material);
    await this.switchIfAcked();
  }

  async switchIfAcked() {
    if (!this.pending) return;
    for (const id of this.sendTo.keys()) if (!this.pending.acked.has(id)) return;
    await this.switchNow();
  }

  async switchNow() {
    if (!this.pending && this.leaveAt && !this.timers.batch) await this.makePending();
    if (!this.pending) return;
    this.gen = this.pending.gen;
    this.material = this.pending.material;
    for (const id of this.pending.acked) this.newcomers.delete(id);
    this.pending = null;
    await this.keys.setOwnKey(this.gen % RING, this.material);
    this.leaveAt = 0;
    clearTimeout(this.timers.switchAt);
    clearTimeout(this.timers.batch);
    this.timers.switchAt = this.timers.batch = null;
    clearTimeout(this.timers.rotate);
    this.timers.rotate = setTimeout(() => this.run(() => this.periodic()), ROTATE_EVERY_MS);
    await this.tellStatus();
  }

  async periodic() {
    await this.startRotation(false);
  }

  // repair sends again what a lost message left undone (group.go's repair):
  // a hello while not admitted, a key not acked.
  async repair() {
    this.timers.repair = setTimeout(() => this.run(() => this.repair()), REPAIR_EVERY_MS);
    if (!this.inRoom) return;
    if (!this.inRoster) this.send(null, encode(await this.hello()));
    if (this.pending) {
      for (const id of [...this.sendTo.keys()].sort()) {
        if (!this.pending.acked.has(id)) await this.sendKey(this.sendTo.get(id), this.pending.gen, this.pending.material);
      }
    } else if (!this.leaveAt) {
      // Not while a leave's new key is being made: the key in use was used before the newcomer came.
      for (const id of [...this.newcomers].sort()) if (this.sendTo.has(id)) await this.sendKey(this.sendTo.get(id), this.gen, this.material);
    }
  }

  // status: admitted or not, the members and their check (five bytes).
  async status() {
    const st = { admitted: this.inRoster, members: [], verification: null, outsiders: [], gen: this.gen, leader: this.lead?.id ?? '' };
    if (this.inRoster) {
      st.members = this.roster.map((e) => e.id).sort();
      st.verification = await verification(this.room, this.roster.map((e) => e.sig));
    }
    const ids = new Set(st.members);
    st.outsiders = [...this.present].filter((id) => !ids.has(id)).sort();
    return st;
  }

  async tellStatus() {
    this.onStatus(await this.status());
  }
}
