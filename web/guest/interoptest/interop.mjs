// Opens an invite link in Debian's chromium (through playwright-core), as a
// guest would, joins the box's call end-to-end encrypted with the fake
// camera and microphone, and reads the box's pictures back off the page.
// Run by interop_test.go inside the test's network namespace; it prints
// one JSON object: the page's fingerprint and state, and the luma planes of
// some of the box's pictures as the page shows them, for Go's
// camera.ReadStamp.
import { env, launchChromium } from './chromium.mjs';

const invite = env('INVITE');
const boxIdentity = env('BOX_IDENTITY');
const samples = Number(process.env.SAMPLES || '20');
const sampleGapMs = Number(process.env.SAMPLE_GAP_MS || '100');

// The test serves the page over plain http on the namespace's address.
const browser = await launchChromium(new URL(invite).origin, ['--autoplay-policy=no-user-gesture-required']);
const problems = [];
const result = { problems };
// EXPECTED_CONSOLE: errors the test expects the page to log, '|' between.
const expected = (process.env.EXPECTED_CONSOLE || '').split('|').filter(Boolean);
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  result.missingKeyErrors = 0;
  // KEEP_CONSOLE: all the page logs, timed, for a test to show when it fails.
  if (process.env.KEEP_CONSOLE) result.console = [];
  page.on('console', (m) => {
    result.console?.push(`${new Date().toISOString()} ${m.type()}: ${m.text()}`);
    if (m.type() !== 'error') return;
    // Frames of a member whose key has not come yet: expected, just after joining.
    if (m.text().startsWith('MissingKey:')) result.missingKeyErrors++;
    else if (expected.some((e) => m.text().includes(e))) return;
    else problems.push('console: ' + m.text());
  });
  await page.goto(invite);
  await page.waitForFunction(() => window.callboxGuest && window.callboxGuest.mode !== '', null, { timeout: 20000 });
  const joinClicked = Date.now();
  await page.getByRole('button', { name: 'Join' }).click();
  if (process.env.RING) {
    // A box that rings: the page says so until the box answers.
    await page.waitForFunction(() => window.callboxGuest.rings.includes('ringing'), null, { timeout: 30000 });
    result.ringingStatus = await page.locator('#status').textContent();
  }
  await page.waitForFunction(() => window.callboxGuest.joined, null, { timeout: 30000 });
  // Admitted by the box, with everyone's keys: the check is the members'.
  const members = Number(process.env.MEMBERS || '3');
  await page.waitForFunction((n) => window.callboxGuest.admitted && window.callboxGuest.members.length === n, members, { timeout: 30000 });
  result.fingerprint = await page.locator('#fingerprint').textContent();
  result.words = await page.locator('#fingerprint-words').textContent();
  result.admitted = true;
  result.members = await page.evaluate(() => window.callboxGuest.members);
  result.status = await page.locator('#status').textContent();

  // The box's video, playing.
  const video = `video[data-identity="${boxIdentity}"]`;
  await page.waitForFunction((sel) => {
    const v = document.querySelector(sel);
    return v && v.videoWidth > 0 && v.currentTime > 0;
  }, video, { timeout: 30000 });
  // From the click on Join to the box's first picture playing.
  result.joinToFirstPictureMs = Date.now() - joinClicked;

  // Luma as the box's encoder saw it (BT.601, limited range), from the
  // picture the page shows.
  result.pictures = [];
  for (let i = 0; i < samples; i++) {
    result.pictures.push(await page.evaluate((sel) => {
      const v = document.querySelector(sel);
      // None for a moment while the page joins again (a call server lost).
      if (!v || !v.videoWidth) return { width: 0, height: 0, luma: '' };
      const w = v.videoWidth, h = v.videoHeight;
      const c = new OffscreenCanvas(w, h);
      const ctx = c.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(v, 0, 0, w, h);
      const rgba = ctx.getImageData(0, 0, w, h).data;
      const y = new Uint8Array(w * h);
      for (let p = 0; p < w * h; p++) {
        y[p] = Math.round(16 + 0.257 * rgba[4 * p] + 0.504 * rgba[4 * p + 1] + 0.098 * rgba[4 * p + 2]);
      }
      let s = '';
      for (let p = 0; p < y.length; p += 0x8000) s += String.fromCharCode(...y.subarray(p, p + 0x8000));
      return { width: w, height: h, luma: btoa(s) };
    }, video));
    await page.waitForTimeout(sampleGapMs);
  }
  const st = await page.evaluate(() => ({
    rings: window.callboxGuest.rings,
    encrypted: window.callboxGuest.encrypted,
    decryptErrors: window.callboxGuest.decryptErrors,
    ends: window.callboxGuest.ends,
    endStatus: document.getElementById('status').textContent,
    endWords: document.getElementById('fingerprint-words').textContent,
    publishing: [...window.callboxGuest.room.localParticipant.trackPublications.values()].map((p) => ({
      kind: p.kind, encrypted: p.trackInfo?.encryption ?? null, mime: p.mimeType ?? '',
    })),
  }));
  Object.assign(result, st);
  result.decoded = {};
  for (const p of (await page.evaluate(() => [...window.callboxGuest.room.remoteParticipants.keys()]))) {
    result.decoded[p] = await page.evaluate(async (id) => {
      let n = 0;
      for (const pub of window.callboxGuest.room.remoteParticipants.get(id).videoTrackPublications.values()) {
        n += (await pub.track?.getReceiverStats())?.framesDecoded ?? 0;
      }
      return n;
    }, p);
  }
  // Stay a little so the box receives more of the guest's pictures.
  await page.waitForTimeout(Number(process.env.STAY_MS || '2000'));
  await page.getByRole('button', { name: 'Leave' }).click(); // as a guest leaves
  await page.waitForFunction(() => !window.callboxGuest.joined, null, { timeout: 10000 });
} catch (e) {
  problems.push('harness: ' + (e.stack || e.message));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
