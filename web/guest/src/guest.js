// The guest page: join the box's call from a browser, end-to-end encrypted.
// The invite link carries everything after '#', which browsers never send
// to a server: u = the call server, t = a time-limited token, k = the room
// key. Nothing is loaded from anywhere but this box.
import {
  ExternalE2EEKeyProvider,
  Room,
  RoomEvent,
  Track,
  VideoPresets,
  isE2EESupported,
} from 'livekit-client';
import { fingerprint, fingerprintWords } from './fingerprint.js';

const $ = (id) => document.getElementById(id);

function say(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

// readInvite reads the link's fragment.
export function readInvite(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const invite = { url: p.get('u') ?? '', token: p.get('t') ?? '', key: p.get('k') ?? '' };
  if (!invite.url || !invite.token || !invite.key) return null;
  return invite;
}

// state is for people reading the page's code and for the interop test.
const state = { joined: false, encrypted: false, fingerprint: '', decryptErrors: 0, room: null };
window.callboxGuest = state;

async function join(invite) {
  $('join').disabled = true;
  say('Joining…');
  const keyProvider = new ExternalE2EEKeyProvider();
  await keyProvider.setKey(invite.key);
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
      const el = track.attach();
      el.dataset.identity = participant.identity;
      el.dataset.kind = track.kind;
      if (track.kind === Track.Kind.Video) {
        el.muted = true;
        el.playsInline = true;
        $('videos').append(el);
      } else {
        document.body.append(el);
      }
    })
    .on(RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((el) => el.remove()))
    .on(RoomEvent.EncryptionError, () => {
      state.decryptErrors++;
      say('Some of the call does not decrypt: does everyone have the same key? Compare the emoji.', true);
    })
    .on(RoomEvent.ParticipantEncryptionStatusChanged, () => {
      state.encrypted = room.isE2EEEnabled;
    })
    .on(RoomEvent.Disconnected, () => {
      state.joined = false;
      say('The call has ended.');
      $('join').disabled = false;
    });
  await room.setE2EEEnabled(true);
  await room.connect(invite.url, invite.token);
  await room.localParticipant.enableCameraAndMicrophone();
  state.joined = true;
  state.encrypted = room.isE2EEEnabled;
  say(state.encrypted ? 'In the call, end-to-end encrypted.' : 'In the call, NOT encrypted.', !state.encrypted);
  $('leave').hidden = false;
  $('leave').onclick = () => room.disconnect();
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
  state.fingerprint = await fingerprint(invite.key);
  $('fingerprint').textContent = state.fingerprint;
  $('fingerprint-words').textContent = fingerprintWords(state.fingerprint);
  $('join').disabled = false;
  $('join').onclick = () =>
    join(invite).catch((e) => {
      say('Could not join: ' + e.message, true);
      $('join').disabled = false;
    });
  say('Compare these emoji with the ones on the box, then join.');
}

main();
