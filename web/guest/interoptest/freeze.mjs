// Joins the box's call from the guest page once for each invite link in
// INVITES (one a line), one guest after the other, as guests would, and
// records when the page shows each of the box's pictures for WATCH_MS
// after the first: the first when the video element has a picture to show
// (loadeddata), the next ones as they are presented
// (requestVideoFrameCallback). The longest a picture stayed is what a
// guest sees as a freeze. Each guest then leaves. Run by interop_test.go
// inside the test's network namespace; prints one JSON object.
import { env, launchChromium } from './chromium.mjs';

const invites = env('INVITES').split('\n');
const boxIdentity = env('BOX_IDENTITY');
const watchMs = Number(process.env.WATCH_MS || '10000');

// The test serves the page over plain http on the namespace's address.
const browser = await launchChromium(new URL(invites[0]).origin, ['--autoplay-policy=no-user-gesture-required']);
const result = { problems: [], joins: [] };
try {
  for (const [i, invite] of invites.entries()) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => result.problems.push(`join ${i + 1}: page error: ${e.message}`));
    await page.goto(invite);
    await page.waitForFunction(() => window.callboxGuest && window.callboxGuest.mode !== '', null, { timeout: 20000 });
    // Watch the box's video element from the moment the page adds it.
    await page.evaluate((identity) => {
      const seen = { clicked: performance.now(), first: 0, shown: [] };
      window.freezeWatch = seen;
      new MutationObserver((changes) => {
        for (const change of changes) {
          for (const v of change.addedNodes) {
            if (v.tagName !== 'VIDEO' || v.dataset.identity !== identity) continue;
            v.addEventListener('loadeddata', () => { seen.first ||= performance.now(); });
            const onFrame = (now) => {
              seen.first ||= now;
              seen.shown.push(now);
              v.requestVideoFrameCallback(onFrame);
            };
            v.requestVideoFrameCallback(onFrame);
          }
        }
      }).observe(document.getElementById('videos'), { childList: true });
    }, boxIdentity);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForFunction((ms) => {
      const w = window.freezeWatch;
      return w.first > 0 && performance.now() - w.first >= ms;
    }, watchMs, { timeout: watchMs + 30000, polling: 500 });
    const seen = await page.evaluate(() => window.freezeWatch);
    const end = seen.first + watchMs;
    const times = [seen.first, ...seen.shown.filter((t) => t > seen.first && t <= end), end];
    let held = 0, heldAt = 0;
    for (let k = 1; k < times.length; k++) {
      if (times[k] - times[k - 1] > held) { held = times[k] - times[k - 1]; heldAt = times[k - 1] - seen.first; }
    }
    result.joins.push({
      firstPictureMs: Math.round(seen.first - seen.clicked),
      pictures: times.length - 1,
      heldMs: Math.round(held),
      heldAtMs: Math.round(heldAt),
    });
    await page.getByRole('button', { name: 'Leave' }).click(); // as a guest leaves
    await page.waitForFunction(() => !window.callboxGuest.joined, null, { timeout: 10000 });
    await context.close();
  }
} catch (e) {
  result.problems.push('harness: ' + (e.stack || e.message));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
