// What every browser test here starts with: Debian's chromium, headless,
// as a phone, with a screenshot per step and the page's script errors
// gathered. Everything comes from the environment.
import { chromium } from 'playwright-core';
import path from 'node:path';

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

export async function openPhone() {
  const shots = env('SHOTS');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let step = 0;
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, // a phone
    deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    ignoreHTTPSErrors: true, // the box's certificate is self-signed: a person accepts it once
  });
  const page = await context.newPage();
  const problems = [];
  // Answers of 4xx are part of the tests (a wrong code); script errors are not.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  const shot = async (name) => {
    step++;
    const file = path.join(shots, `${String(step).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log('screenshot', file);
  };
  // run runs the test's steps and exits 1 when one fails or the page's
  // script had an error.
  const run = async (steps, done) => {
    try {
      await steps();
    } catch (e) {
      await shot('failed').catch(() => {});
      console.error('FAILED at step', step, e.message);
      console.error(problems.join('\n'));
      await browser.close();
      process.exit(1);
    }
    if (problems.length) {
      console.error(problems.join('\n'));
      await browser.close();
      process.exit(1);
    }
    console.log(done);
    await browser.close();
  };
  return { page, shot, run };
}
