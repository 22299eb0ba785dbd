// Shares a screen from the guest page, as a guest on a laptop would: opens
// an invite link in Debian's chromium without a camera or microphone (the
// page joins to see and share), joins, and shares its own tab (Chromium
// accepts it without a prompt: --auto-accept-this-tab-capture, with
// preferCurrentTab added to the page's request by this harness). The tab
// shows known content over the page: the whole window magenta and cyan in
// turn every second, with a line of 14 px text. It prints "sharing" once
// the share is published, keeps changing the colour until its standard
// input closes, then stops sharing with the page's button and prints one
// JSON object: what the page said and did.
import { env, launchChromium } from './chromium.mjs';

const invite = env('INVITE');
const browser = await launchChromium(new URL(invite).origin, ['--auto-accept-this-tab-capture', '--autoplay-policy=no-user-gesture-required'],
  { fakeDevices: false });
const problems = [];
const result = { problems };
try {
  // A phone's browser, which cannot share a screen, offers no button.
  const phone = await browser.newPage();
  await phone.addInitScript(() => { delete MediaDevices.prototype.getDisplayMedia; });
  await phone.goto(invite);
  await phone.waitForFunction(() => window.callboxGuest && window.callboxGuest.mode !== '', null, { timeout: 20000 });
  result.phoneCanShare = await phone.evaluate(() => window.callboxGuest.canShare);
  await phone.close();

  const page = await browser.newPage();
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  await page.addInitScript(() => {
    const getDisplayMedia = MediaDevices.prototype.getDisplayMedia;
    MediaDevices.prototype.getDisplayMedia = function (options) {
      return getDisplayMedia.call(this, { ...options, preferCurrentTab: true });
    };
  });
  await page.goto(invite);
  await page.waitForFunction(() => window.callboxGuest && window.callboxGuest.mode !== '', null, { timeout: 20000 });
  result.canShare = await page.evaluate(() => window.callboxGuest.canShare);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.waitForFunction(() => window.callboxGuest.joined && window.callboxGuest.admitted, null, { timeout: 30000 });
  result.devices = await page.locator('#devices').textContent();
  await page.getByRole('button', { name: 'Share screen' }).click();
  await page.waitForFunction(() => window.callboxGuest.sharing, null, { timeout: 20000 });
  result.buttonWhileSharing = await page.locator('#share').textContent();
  await page.evaluate(() => {
    const slide = document.createElement('div');
    slide.id = 'slide';
    slide.style.cssText = 'position:fixed;inset:0;z-index:10;background:#f0f;font:14px sans-serif;color:#000;padding:8px';
    slide.textContent = 'Quarterly figures: 14 px text that must stay readable';
    document.body.append(slide);
    let cyan = false;
    window.slideTimer = setInterval(() => {
      cyan = !cyan;
      slide.style.background = cyan ? '#0ff' : '#f0f';
    }, 1000);
  });
  process.stdout.write('sharing\n');
  await new Promise((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume();
  });
  await page.evaluate(() => {
    clearInterval(window.slideTimer);
    document.getElementById('slide').remove();
  });
  await page.getByRole('button', { name: 'Stop sharing' }).click();
  await page.waitForFunction(() => !window.callboxGuest.sharing, null, { timeout: 20000 });
  result.stopped = true;
  result.buttonAfter = await page.locator('#share').textContent();
} catch (e) {
  problems.push('harness: ' + (e.stack || e.message));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
