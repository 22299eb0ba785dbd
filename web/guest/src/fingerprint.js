// The room key's fingerprint: four emoji that people compare between the
// box's screen and this page. The same derivation as call.Fingerprint in
// Go (call/e2ee.go): the frame key that livekit-client derives from the
// room key (PBKDF2, SHA-256, 100 000 rounds, salt "LKFrameEncryptionKey",
// 128 bits), hashed with SHA-256 after a domain string; the first four
// bytes pick from the 256 emoji of call/e2ee_emoji.txt. The same
// fingerprint in words (call.FingerprintWords) names each emoji from
// call/e2ee_emoji_names.txt, as the box's screen, whose font has no emoji,
// writes it.
import table from '../../../call/e2ee_emoji.txt';
import names from '../../../call/e2ee_emoji_names.txt';

export const emojiTable = table.split('\n').filter((e) => e !== '');
if (emojiTable.length !== 256) throw new Error(`emoji table has ${emojiTable.length} entries, want 256`);
export const emojiNames = names.split('\n').filter((e) => e !== '');
if (emojiNames.length !== 256) throw new Error(`emoji names has ${emojiNames.length} entries, want 256`);

// fingerprintWords writes a fingerprint in words: "tiger face / bank / cow / dvd".
export function fingerprintWords(fp) {
  return fp
    .split(' ')
    .filter((e) => e !== '')
    .map((e) => emojiNames[emojiTable.indexOf(e)] ?? '?')
    .join(' / ');
}

const domain = 'callbox room key fingerprint v1\0';

export async function fingerprint(roomKey) {
  const enc = new TextEncoder();
  const material = await crypto.subtle.importKey('raw', enc.encode(roomKey), 'PBKDF2', false, ['deriveBits']);
  const frameKey = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', salt: enc.encode('LKFrameEncryptionKey'), iterations: 100000, hash: 'SHA-256' },
    material,
    128,
  );
  const prefix = enc.encode(domain);
  const input = new Uint8Array(prefix.length + 16);
  input.set(prefix);
  input.set(new Uint8Array(frameKey), prefix.length);
  const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
  return Array.from(sum.slice(0, 4), (b) => emojiTable[b]).join(' ');
}
