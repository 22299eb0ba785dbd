// Debian's chromium, headless, with a fake camera and microphone, for the
// harnesses here (interop.mjs, freeze.mjs, publish.mjs): a page on origin
// (plain http on the test's address) is treated as secure, for
// getUserMedia and E2EE. And their settings from the environment.
import { chromium } from 'playwright-core';

// env is the variable name's value; it must be set.
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// launchChromium starts Chromium for pages on origin. Without fakeDevices
// it has no camera or microphone, and a screen share captures a real tab
// (the fake devices would stand in for the screen too).
export function launchChromium(origin, extraArgs = [], { fakeDevices = true } = {}) {
  const devices = fakeDevices ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] : [];
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...devices, `--unsafely-treat-insecure-origin-as-secure=${origin}`, ...extraArgs],
  });
}
