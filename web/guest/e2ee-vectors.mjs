// e2ee-vectors.mjs runs livekit-client's own frame encryption code (the
// FrameCryptor that browsers run in their E2EE worker, from the npm
// package's src/e2ee) in Node, so that the box's Go side can be checked
// against it byte for byte.
//
//   node e2ee-vectors.mjs make FILE      encrypt fixed frames with a fixed key
//                                        and IV; write them, with what the JS
//                                        side decrypts them to, as JSON to FILE
//   node e2ee-vectors.mjs decrypt FILE   decrypt the frames listed in FILE
//                                        (made by the Go side) with the JS
//                                        code; print the results as JSON
//   node e2ee-vectors.mjs fingerprint KEY
//                                        print the guest page's fingerprint
//                                        of a room key (src/fingerprint.js),
//                                        in emoji and on a second line in words
//
// `make e2ee-vectors` rewrites call/testdata/e2ee/vectors.json; the Go tests
// in call/e2ee_jsclient_test.go read it and run the decrypt direction.
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const e2eeSrc = './node_modules/livekit-client/src/e2ee';

// Bundle the worker's TypeScript sources as they are; nothing is copied.
async function loadCryptor() {
  const out = await esbuild.build({
    stdin: {
      contents: `
        export { FrameCryptor, encryptionEnabledMap } from '${e2eeSrc}/worker/FrameCryptor.ts';
        export { ParticipantKeyHandler } from '${e2eeSrc}/worker/ParticipantKeyHandler.ts';
        export { processNALUsForEncryption } from '${e2eeSrc}/worker/naluUtils.ts';
        export { createKeyMaterialFromString, parseRbsp } from '${e2eeSrc}/utils.ts';
        export { KEY_PROVIDER_DEFAULTS } from '${e2eeSrc}/constants.ts';
        export { setLogLevel } from './node_modules/livekit-client/src/logger.ts';
      `,
      resolveDir: here,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'error',
  });
  const code = out.outputFiles[0].text;
  return import('data:text/javascript;base64,' + Buffer.from(code).toString('base64'));
}

const lk = await loadCryptor();
lk.setLogLevel('silent');

// The options of ExternalE2EEKeyProvider, the key provider a guest page uses.
const keyProviderOptions = {
  ...lk.KEY_PROVIDER_DEFAULTS,
  sharedKey: true,
  ratchetWindowSize: 0,
  failureTolerance: -1,
};

async function newCryptor(passphrase, keyIndex) {
  const identity = 'js-participant';
  const keys = new lk.ParticipantKeyHandler(identity, keyProviderOptions);
  await keys.setKey(await lk.createKeyMaterialFromString(passphrase), keyIndex);
  lk.encryptionEnabledMap.set(identity, true);
  return new lk.FrameCryptor({ keys, participantIdentity: identity, keyProviderOptions });
}

const mimeTypes = { h264: 'video/H264', vp8: 'video/VP8', opus: 'audio/opus' };

// An object shaped like RTCEncodedVideoFrame / RTCEncodedAudioFrame: the
// cryptor tells video from audio by the presence of `type`.
function encodedFrame(codec, type, bytes, ssrc, timestamp) {
  const frame = {
    data: new Uint8Array(bytes).buffer,
    timestamp,
    getMetadata: () => ({ synchronizationSource: ssrc, payloadType: 96, mimeType: mimeTypes[codec] }),
  };
  if (codec !== 'opus') frame.type = type;
  return frame;
}

async function run(fn, cryptor, frame) {
  let out = null;
  await cryptor[fn](frame, { enqueue: (f) => (out = new Uint8Array(f.data)) });
  return out;
}

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));

// Frames chosen to exercise each rule: start codes of 3 and 4 bytes before
// the first slice, SEI before it, zero runs in the encrypted part (RBSP
// escaping), key and delta frames, a second key index.
function fill(n, seed) {
  const b = [];
  for (let i = 0; i < n; i++) b.push((i * 37 + seed) % 251);
  return b;
}
const zeros = [0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 0];
const sc4 = [0, 0, 0, 1];
const sc3 = [0, 0, 1];
const sps = [0x67, 0x42, 0xe0, 0x1f, 0x8c, 0x8d, 0x40, 0x50, 0x1e, 0xd0, 0x0f, 0x08, 0x84, 0x6a];
const pps = [0x68, 0xce, 0x3c, 0x80];
const sei = [0x06, 0x05, 0x04, 0x11, 0x22, 0x33, 0x44, 0x80];

const cases = [
  { name: 'h264-keyframe', codec: 'h264', type: 'key', keyIndex: 0,
    plain: [...sc4, ...sps, ...sc4, ...pps, ...sc4, 0x65, 0x88, 0x84, ...fill(200, 1), ...zeros, ...fill(50, 2)] },
  { name: 'h264-keyframe-sei-short-start-codes', codec: 'h264', type: 'key', keyIndex: 0,
    plain: [...sc4, ...sps, ...sc3, ...pps, ...sc3, ...sei, ...sc3, 0x65, 0x88, 0x80, ...fill(300, 3)] },
  { name: 'h264-delta', codec: 'h264', type: 'delta', keyIndex: 0,
    plain: [...sc4, 0x41, 0x9a, 0x02, ...zeros, ...fill(120, 4), ...zeros] },
  { name: 'h264-two-slices', codec: 'h264', type: 'delta', keyIndex: 0,
    plain: [...sc4, 0x41, 0x9a, ...fill(90, 5), ...sc3, 0x41, 0x9b, ...fill(90, 6)] },
  { name: 'h264-key-index-3', codec: 'h264', type: 'delta', keyIndex: 3,
    plain: [...sc4, 0x41, 0x9a, 0x04, ...fill(64, 7)] },
  { name: 'vp8-keyframe', codec: 'vp8', type: 'key', keyIndex: 0,
    plain: [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, ...fill(180, 8)] },
  { name: 'vp8-delta', codec: 'vp8', type: 'delta', keyIndex: 0,
    plain: [0x31, 0x0b, 0x00, ...fill(90, 9), ...zeros] },
  { name: 'opus', codec: 'opus', keyIndex: 0, plain: [0x78, ...fill(80, 10)] },
  { name: 'opus-key-index-1', codec: 'opus', keyIndex: 1, plain: [0xfc, ...fill(40, 11)] },
];

const passphrase = 'callbox test room key: not a secret';

// The IV sits before the trailer's two bytes; in H.264 after RBSP unescaping.
function ivOf(codec, enc) {
  const b = codec === 'h264' ? lk.parseRbsp(enc) : enc;
  return b.slice(b.length - 14, b.length - 2);
}

async function make(file) {
  // Fix the IV: FrameCryptor's IV is SSRC | RTP timestamp | timestamp minus a
  // send counter that starts at Math.random() * 0xffff.
  Math.random = () => 0;
  const vectors = [];
  let ts = 90000;
  for (const c of cases) {
    const ssrc = 0x11223344;
    ts += 3000;
    const enc = await run('encodeFunction', await newCryptor(passphrase, c.keyIndex),
      encodedFrame(c.codec, c.type, c.plain, ssrc, ts));
    const dec = await run('decodeFunction', await newCryptor(passphrase, c.keyIndex),
      encodedFrame(c.codec, c.type, enc, ssrc, ts));
    if (!dec) throw new Error(`${c.name}: the JS side cannot decrypt its own frame`);
    let header = 1; // Opus: the TOC byte
    if (c.codec === 'h264') header = lk.processNALUsForEncryption(new Uint8Array(c.plain), 'h264').unencryptedBytes;
    if (c.codec === 'vp8') header = c.type === 'key' ? 10 : 3;
    vectors.push({
      name: c.name, codec: c.codec, frame_type: c.type ?? 'audio', key_index: c.keyIndex,
      plain: hex(c.plain), header_bytes: header,
      iv: hex(ivOf(c.codec, enc)),
      encrypted: hex(enc), decrypted: hex(dec),
    });
  }
  const doc = {
    comment: 'Made by web/guest/e2ee-vectors.mjs with livekit-client ' +
      JSON.parse(readFileSync(join(here, 'node_modules/livekit-client/package.json'))).version +
      "'s FrameCryptor; do not edit by hand.",
    passphrase, vectors,
  };
  writeFileSync(file, JSON.stringify(doc, null, 1) + '\n');
}

// decrypt reads {passphrase, frames: [{codec, frame_type, key_index, encrypted}]}
// and prints [{decrypted}] or [{error}] in the same order.
async function decrypt(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const results = [];
  for (const f of doc.frames) {
    try {
      const out = await run('decodeFunction', await newCryptor(doc.passphrase, f.key_index),
        encodedFrame(f.codec, f.frame_type, unhex(f.encrypted), 1, 1));
      results.push(out ? { decrypted: hex(out) } : { error: 'dropped' });
    } catch (e) {
      results.push({ error: String(e) });
    }
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

// printFingerprint runs the guest page's own fingerprint code.
async function printFingerprint(roomKey) {
  const out = await esbuild.build({
    entryPoints: [join(here, 'src/fingerprint.js')],
    bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'error',
    loader: { '.txt': 'text' },
  });
  const fp = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
  const emoji = await fp.fingerprint(roomKey);
  process.stdout.write(emoji + '\n' + fp.fingerprintWords(emoji) + '\n');
}

const [cmd, file] = process.argv.slice(2);
if (cmd === 'make' && file) await make(file);
else if (cmd === 'fingerprint' && file) await printFingerprint(file);
else if (cmd === 'decrypt' && file) await decrypt(file);
else {
  process.stderr.write('usage: node e2ee-vectors.mjs make FILE | decrypt FILE | fingerprint KEY\n');
  process.exit(2);
}
