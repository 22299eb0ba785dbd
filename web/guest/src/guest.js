// The guest page: join the box's call from a browser, end-to-end encrypted.
// The invite link carries everything after '#', which browsers never send
// to a server: u = the call server, t = a time-limited token, and either
// i, s, b = the invite's id and secret and the box's signing key (the
// default: every member encrypts with a key of its own, ./keys.js), or
// k = the room's shared key (shared-key encryption). Nothing is loaded from
// anywhere but this box.
import {
  BaseKeyProvider,
  ConnectionState,
  DisconnectReason,
  ExternalE2EEKeyProvider,
  Room,
  RoomEvent,
  Track,
  VideoPresets,
  createKeyMaterialFromBuffer,
  isE2EESupported,
} from 'livekit-client';
import { fingerprint, fingerprintWords, emojiTable } from './fingerprint.js';
import { Member, TOPIC, unb64url } from './keys.js';

const $ = (id) => document.getElementById(id);

function say(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

// readInvite reads the link's fragment.
export function readInvite(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const invite = { url: p.get('u') ?? '', token: p.get('t') ?? '', key: p.get('k') ?? '' };
  if (!invite.url || !invite.token) return null;
  if (p.get('i')) {
    try {
      invite.member = { id: unb64url(p.get('i'), 16), secret: unb64url(p.get('s') ?? '', 32), boxKey: unb64url(p.get('b') ?? '', 32) };
    } catch {
      return null;
    }
  } else if (!invite.key) {
    return null;
  }
  return invite;
}

// MemberKeyProvider is livekit-client's own per-participant key provider
// (sharedKey false) with a way in for key material as bytes, which it
// derives frame keys from with HKDF as it does for any buffer. No ratchet
// of its own and no giving up on a key: the key exchange decides.
class MemberKeyProvider extends BaseKeyProvider {
  constructor() {
    super({ sharedKey: false, ratchetWindowSize: 0, failureTolerance: -1, keyringSize: 16 });
  }

  async setRawKey(identity, material, index) {
    this.onSetEncryptionKey(await createKeyMaterialFromBuffer(material), identity, index);
  }
}

// state is for people reading the page's code and for the interop test.
// rings lists what a box that rings (its line) said of this call, in order.
const state = { joined: false, encrypted: false, mode: '', fingerprint: '', words: '', admitted: false, members: [], decryptErrors: 0, room: null, ring: '', rings: [],
  // canShare: this browser can share a screen (phones mostly cannot); sharing: it does.
  canShare: !!navigator.mediaDevices?.getDisplayMedia, sharing: false,
  // ends: why each call of this page ended (the name of livekit-client's
  // DisconnectReason, or 'lost': the page found its call dead and left it);
  // rejoins: how often the page tried to join again by itself; away: the call was
  // lost for a while (the page then says who is back).
  ends: [], rejoins: 0, away: false };
window.callboxGuest = state;

// RING_TOPIC carries what a box that rings says to those who call it
// (call/line.go): {"ring": "ringing" | "answered" | "declined" |
// "no answer" | "not available" | "ended"}.
const RING_TOPIC = 'callbox.ring';

const ringWords = {
  ringing: 'Ringing the box…',
  declined: 'The box declined the call.',
  'no answer': 'Nobody answered.',
  'not available': 'The box is not available now.',
  ended: 'The box hung up.',
};

// heardRing takes what the box said of the call: a call that did not
// happen is left, and the page says why.
function heardRing(room, payload) {
  let ring;
  try {
    ring = JSON.parse(new TextDecoder().decode(payload)).ring;
  } catch {
    return;
  }
  if (typeof ring !== 'string' || !(ring in ringWords || ring === 'answered')) return;
  state.ring = ring;
  state.rings.push(ring);
  if (ring === 'answered') {
    say(state.admitted ? admittedText() : 'Answered.');
    return;
  }
  say(ringWords[ring], ring !== 'ringing');
  if (ring !== 'ringing') {
    state.ended = ring;
    room.disconnect();
  }
}

function showCheck(emoji) {
  state.fingerprint = emoji;
  state.words = emoji ? fingerprintWords(emoji) : '';
  $('fingerprint').textContent = emoji || '…';
  $('fingerprint-words').textContent = state.words;
}

// rejoinAfter are the reasons a call ends that the guest did not ask for
// and a new join may mend: the call server went away (a cluster's node
// died, a restart) or the network did. Not the guest's Leave, nor the box
// ending, declining or removing them, nor their identity joining elsewhere.
const rejoinAfter = new Set([
  DisconnectReason.UNKNOWN_REASON, DisconnectReason.SERVER_SHUTDOWN, DisconnectReason.STATE_MISMATCH,
  DisconnectReason.JOIN_FAILURE, DisconnectReason.MIGRATION, DisconnectReason.SIGNAL_CLOSE,
  DisconnectReason.CONNECTION_TIMEOUT, DisconnectReason.MEDIA_FAILURE,
]);

// rejoin joins again after the call was lost, waiting longer after each
// attempt that fails (1 s, 2 s, 4 s, then every 5 s), until one works or
// the guest presses Leave. The new call is a new session of the same
// identity: a new Room, its own keys, admitted by the box again.
function rejoin(invite, wait = 1000) {
  state.away = true;
  say('Reconnecting…', true);
  const timer = setTimeout(() => {
    state.rejoins++;
    join(invite).catch(() => rejoin(invite, Math.min(2 * wait, 5000)));
  }, wait);
  $('leave').onclick = () => {
    clearTimeout(timer);
    say('You left the call.');
    $('leave').hidden = true;
    $('join').disabled = false;
  };
}

// A call that livekit-client holds for connected or reconnecting, but that
// is dead: when a cluster's node that holds the room dies while this
// page's signalling goes through another node, livekit-client may neither
// get back nor give up for minutes. The page leaves such a call and joins
// again when it has been reconnecting for longer than RECONNECTING_FOR_MS,
// or connected with others' sound and pictures subscribed of which no
// byte came for NO_MEDIA_FOR_MS.
const RECONNECTING_FOR_MS = 6000;
const NO_MEDIA_FOR_MS = 5000;

// watchCall looks at the room every second and calls lost once, when the
// call is dead; it stops with the room's Disconnected.
function watchCall(room, lost) {
  let reconnectingSince = 0;
  let bytes = -1;
  let bytesSince = Date.now();
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = Date.now();
      if (room.state === ConnectionState.Reconnecting || room.state === ConnectionState.SignalReconnecting) {
        reconnectingSince ||= now;
        bytes = -1;
        if (now - reconnectingSince > RECONNECTING_FOR_MS) stop('reconnecting for too long');
        return;
      }
      reconnectingSince = 0;
      const tracks = [...room.remoteParticipants.values()]
        .flatMap((p) => [...p.trackPublications.values()])
        .filter((pub) => pub.isSubscribed && !pub.isMuted && pub.track)
        .map((pub) => pub.track);
      if (room.state !== ConnectionState.Connected || tracks.length === 0) {
        bytes = -1;
        return;
      }
      let sum = 0;
      for (const t of tracks) sum += (await t.getReceiverStats())?.bytesReceived ?? 0;
      if (sum !== bytes) {
        bytes = sum;
        bytesSince = now;
      } else if (now - bytesSince > NO_MEDIA_FOR_MS) {
        stop('no media from anyone');
      }
    } finally {
      busy = false;
    }
  }, 1000);
  const stop = (why) => {
    clearInterval(timer);
    console.info(`the call is lost (${why}): joining again`);
    lost();
  };
  room.on(RoomEvent.Disconnected, () => clearInterval(timer));
}

// othersNames: who else is in the call, as the page shows them.
function othersNames(room) {
  const names = [...room.remoteParticipants.values()].map((p) => p.name || p.identity).sort();
  return names.length ? names.join(', ') : 'nobody else yet';
}

async function join(invite) {
  $('join').disabled = true;
  say('Joining…');
  Object.assign(state, { ring: '', rings: [], ended: '', admitted: false, members: [] });
  const keyProvider = invite.member ? new MemberKeyProvider() : new ExternalE2EEKeyProvider();
  if (!invite.member) await keyProvider.setKey(invite.key);
  const room = new Room({
    adaptiveStream: false,
    dynacast: false,
    videoCaptureDefaults: { resolution: VideoPresets.h360.resolution },
    // H.264: what the box decodes in hardware, and the box's own codec.
    publishDefaults: { videoCodec: 'h264', simulcast: false, backupCodec: false },
    e2ee: { keyProvider, worker: new Worker('e2ee-worker.js') },
  });
  state.room = room;
  room
    .on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
      // One element for each of a participant's sources: after a
      // reconnection, livekit-client may subscribe again without saying
      // the old track went, which would stay frozen beside the new one.
      const source = `[data-identity="${CSS.escape(participant.identity)}"][data-source="${track.source}"]`;
      document.querySelectorAll(source).forEach((old) => old.remove());
      const el = track.attach();
      el.dataset.identity = participant.identity;
      el.dataset.kind = track.kind;
      el.dataset.source = track.source;
      if (track.kind === Track.Kind.Video) {
        el.muted = true;
        el.playsInline = true;
        $('videos').append(el);
      } else {
        document.body.append(el);
      }
    })
    .on(RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((el) => el.remove()))
    .on(RoomEvent.DataReceived, (payload, _participant, _kind, topic) => {
      if (topic === RING_TOPIC) heardRing(room, payload);
    })
    .on(RoomEvent.EncryptionError, () => {
      state.decryptErrors++;
      // With a key per member, frames from one whose key has not come yet
      // do not decrypt for a moment: that is no news.
      if (!invite.member) say('Some of the call does not decrypt: does everyone have the same key? Compare the emoji.', true);
    })
    .on(RoomEvent.ParticipantEncryptionStatusChanged, () => {
      state.encrypted = room.isE2EEEnabled;
    })
    .on(RoomEvent.Reconnecting, () => {
      state.away = true;
      say('Reconnecting…', true);
    })
    .on(RoomEvent.Reconnected, () => say(state.admitted ? admittedText() : 'Back in the call.'))
    .on(RoomEvent.ParticipantConnected, () => { if (state.away && state.admitted && !state.ring) say(admittedText()); })
    .on(RoomEvent.ParticipantDisconnected, () => { if (state.away && state.admitted && !state.ring) say(admittedText()); })
    .on(RoomEvent.Disconnected, (reason) => {
      // A join that failed: join's caller says so; a call found dead: the
      // page is joining again already.
      if (!connected || lost) return;
      state.joined = false;
      state.ends.push(DisconnectReason[reason] ?? 'UNKNOWN_REASON');
      if (!state.ended && rejoinAfter.has(reason)) {
        rejoin(invite);
        return;
      }
      if (!state.ended) say('The call has ended.');
      $('join').disabled = false;
    });
  let connected = false;
  let lost = false; // the page found the call dead and left it
  await room.setE2EEEnabled(true);
  try {
    await room.connect(invite.url, invite.token);
  } catch (e) {
    room.disconnect();
    throw e;
  }
  connected = true;
  watchCall(room, () => {
    lost = true;
    state.joined = false;
    state.ends.push('lost');
    for (const p of room.remoteParticipants.values()) {
      for (const pub of p.trackPublications.values()) pub.track?.detach().forEach((el) => el.remove());
    }
    room.disconnect(); // not waited for: a dead call may take its time to end
    rejoin(invite);
  });
  let member = null;
  if (invite.member) member = await startMember(room, keyProvider, invite.member);
  try {
    await room.localParticipant.enableCameraAndMicrophone();
  } catch (e) {
    // Still in the call, to see and hear the others, and to share a screen.
    $('devices').hidden = false;
    $('devices').textContent = 'Your camera and microphone are not in the call: ' + e.message;
  }
  state.joined = true;
  state.encrypted = room.isE2EEEnabled;
  if (state.ring) {
    // The box rings (or has answered) already: its words stand.
  } else if (member) {
    say(state.admitted ? admittedText() : 'In the call; waiting for the box to admit you…', !state.encrypted);
  } else {
    say(state.encrypted ? 'In the call, shared-key encryption.' : 'In the call, NOT end-to-end encrypted.', !state.encrypted);
  }
  $('leave').hidden = false;
  $('leave').onclick = () => room.disconnect();
  if (state.canShare) offerShare(room);
}

// offerShare shows the button that shares a screen, a window or a tab
// (end-to-end encrypted as the camera is), and stops sharing.
function offerShare(room) {
  const button = $('share');
  const show = () => {
    state.sharing = room.localParticipant.isScreenShareEnabled;
    button.textContent = state.sharing ? 'Stop sharing' : 'Share screen';
    button.hidden = !state.joined;
  };
  button.onclick = async () => {
    button.disabled = true;
    try {
      // Content: sharp text rather than motion, sent at up to 1080p.
      await room.localParticipant.setScreenShareEnabled(!state.sharing, {
        audio: true, contentHint: 'detail', resolution: { width: 1920, height: 1080, frameRate: 15 },
      });
    } catch (e) {
      say(e.name === 'NotAllowedError' ? 'The screen was not shared.' : 'Could not share the screen: ' + e.message, e.name !== 'NotAllowedError');
    }
    button.disabled = false;
    show();
  };
  // The browser's own "Stop sharing" ends it too.
  room.on(RoomEvent.LocalTrackPublished, show).on(RoomEvent.LocalTrackUnpublished, show).on(RoomEvent.Disconnected, show);
  show();
}

// admittedText is the page's word for a call it is admitted to; once the
// call was lost for a while, it says who is back.
function admittedText() {
  const where = state.away && state.room ? `Back in the call with ${othersNames(state.room)}` : 'In the call';
  return where + ', end-to-end encrypted. Check that the box\'s screen shows the same as this page.';
}

// startMember runs this guest's side of the key exchange in the room.
async function startMember(room, keyProvider, invite) {
  const self = room.localParticipant.identity;
  const member = new Member({
    room: room.name,
    self,
    invite,
    send: (to, data) => {
      room.localParticipant.publishData(data, { reliable: true, topic: TOPIC, destinationIdentities: to ?? undefined }).catch(() => {});
    },
    keys: {
      setOwnKey: (index, material) => keyProvider.setRawKey(self, material, index),
      setRemoteKey: (identity, index, material) => keyProvider.setRawKey(identity, material, index),
    },
    onStatus: (st) => {
      const was = state.admitted;
      state.admitted = st.admitted;
      state.members = st.members;
      showCheck(st.verification ? Array.from(st.verification, (b) => emojiTable[b]).join(' ') : '');
      if (st.admitted && state.ring !== 'ringing') say(admittedText());
      else if (was) say('The box no longer admits you: you get no keys (was the invite revoked?).', true);
    },
    log: (text) => console.debug(text),
  });
  await member.start();
  room
    .on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
      if (topic === TOPIC && participant) member.receive(participant.identity, payload);
    })
    .on(RoomEvent.Disconnected, () => member.close());
  // Who is here, compared with before on every change and twice a second:
  // one who comes back as a new participant under the same identity has
  // left, and joined again.
  const present = () => new Map([...room.remoteParticipants].map(([id, p]) => [id, p.sid]));
  let sids = new Map();
  const compare = () => {
    const now = present();
    for (const [id, sid] of sids) if (now.get(id) !== sid) member.participantLeft(id);
    for (const [id, sid] of now) if (sids.get(id) !== sid) member.participantJoined(id);
    sids = now;
  };
  room.on(RoomEvent.ParticipantConnected, compare).on(RoomEvent.ParticipantDisconnected, compare);
  const timer = setInterval(compare, 500);
  room.on(RoomEvent.Disconnected, () => clearInterval(timer));
  // Back after livekit-client's own reconnection: hello again to whoever
  // is here now; those who come after are compare's.
  room.on(RoomEvent.Reconnected, () => {
    sids = present();
    member.joined([...sids.keys()]);
  });
  sids = present();
  await member.joined([...sids.keys()]);
  state.member = member;
  return member;
}

async function main() {
  const invite = readInvite(location.hash);
  if (!invite) {
    say('This link is incomplete: ask for a new invite.', true);
    return;
  }
  if (!window.isSecureContext || !isE2EESupported()) {
    say('This browser cannot join an encrypted call here (it needs HTTPS and a recent browser).', true);
    return;
  }
  if (invite.member) {
    state.mode = 'end-to-end';
    $('fingerprint-label').textContent = 'Check (once in the call):';
  } else {
    state.mode = 'shared-key';
    showCheck(await fingerprint(invite.key));
  }
  $('join').disabled = false;
  $('join').onclick = () =>
    join(invite).catch((e) => {
      say('Could not join: ' + e.message, true);
      $('join').disabled = false;
    });
  say(invite.member ? 'Join, then compare the check with the box\'s screen.' : 'Shared-key encryption: compare these emoji with the ones on the box, then join.');
}

main();
