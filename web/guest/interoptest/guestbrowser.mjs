// What interop.mjs and freeze.mjs share: their settings from the
// environment, and Debian's chromium (through playwright-core) started as
// a guest's browser with a fake camera and microphone.
import { chromium } from 'playwright-core';

// env is the variable name's value; it must be set.
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// launchGuestBrowser starts a headless chromium that may open invite.
export function launchGuestBrowser(invite) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      // The test serves the page over plain http on the namespace's address.
      `--unsafely-treat-insecure-origin-as-secure=${new URL(invite).origin}`],
  });
}
