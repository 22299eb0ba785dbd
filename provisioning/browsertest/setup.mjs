// Goes through the box's first-boot setup as a person on a phone would,
// saving a screenshot of each step, and waits for the status page to say
// the box is in the call. Run by browser_test.go inside the test's network
// namespace; everything comes from the environment.
import { env, openPhone } from './browser.mjs';

const pageURL = env('BOX_URL');
const { page, shot, run } = await openPhone();

await run(async () => {
  await page.goto(pageURL);
  await page.getByRole('heading', { name: 'Set up this box' }).waitFor();
  await shot('setup-code');

  // A mistyped code first: the page says so and stays.
  await page.getByLabel('Setup code', { exact: true }).fill('ZZZZ-ZZZZ');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('not the setup code').waitFor();
  await shot('wrong-code');

  await page.getByLabel('Setup code', { exact: true }).fill(env('SETUP_CODE'));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Admin password' }).waitFor();
  await page.getByLabel('Admin password (at least 8 characters)', { exact: true }).fill(env('ADMIN_PASSWORD'));
  await page.getByLabel('The password again', { exact: true }).fill(env('ADMIN_PASSWORD'));
  await shot('password');
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.getByRole('heading', { name: 'Name, call server and room' }).waitFor();
  await page.getByLabel('Box name (people in the call see it)', { exact: true }).fill('Kitchen');
  await page.getByLabel(/^Call server address/).fill(env('LK_URL')); // one server, or a cluster's
  await page.getByLabel('API key', { exact: true }).fill(env('LK_KEY'));
  await page.getByLabel('API secret').fill(env('LK_SECRET'));
  await page.getByLabel('Room', { exact: true }).fill(env('ROOM'));
  // Encryption stays end-to-end, the default: nothing to type.
  // A contact for speed dial.
  await page.getByRole('button', { name: 'Add a contact' }).click();
  await page.getByLabel('Name of contact 1', { exact: true }).fill('Grandma');
  await page.getByLabel('Room of contact 1', { exact: true }).fill('grandma');
  await shot('server');
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.getByRole('heading', { name: 'Camera and microphone' }).waitFor();
  await page.getByLabel('Camera', { exact: true }).selectOption('testpattern');
  await page.getByLabel('Microphone', { exact: true }).selectOption('tone');
  // The live preview: a picture from the test pattern arrives.
  await page.waitForFunction(() => {
    const img = document.getElementById('preview');
    return img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 15000 });
  await shot('camera');
  await page.getByRole('button', { name: 'Continue' }).click();

  // Wi-Fi: the box is on a wire here (the test's veth), so the step may be
  // skipped; a network is chosen anyway, from the box's scan.
  await page.getByRole('heading', { name: 'Wi-Fi' }).waitFor();
  await page.getByText('The box is on a wired network: Wi-Fi is optional.').waitFor();
  await page.getByRole('button', { name: 'Finish without Wi-Fi' }).waitFor();
  await page.locator('#ssid option', { hasText: 'Home Wi-Fi' }).waitFor({ state: 'attached', timeout: 15000 });
  await page.getByLabel('Network', { exact: true }).selectOption('Home Wi-Fi');
  await page.getByLabel('Password (empty for an open network)').fill('short');
  await page.getByRole('button', { name: 'Finish setup' }).click();
  await page.getByText('A Wi-Fi password has 8 to 63 characters.').waitFor();
  await page.getByLabel('Password (empty for an open network)').fill(env('WIFI_PASSPHRASE'));
  await shot('wifi');
  await page.getByRole('button', { name: 'Finish setup' }).click();

  await page.getByRole('heading', { name: 'Status' }).waitFor();
  await page.getByText('The box is joining Home Wi-Fi.').waitFor();
  await shot('status-joining');
  await page.getByText('The box is in the call').waitFor({ timeout: 60000 });
  await shot('status-in-call');
  // Someone joins (the Go test's viewer): the status page lists them.
  await page.locator('#st-participants').getByText('Ada on a laptop (no camera)').waitFor({ timeout: 30000 });
  await page.locator('#st-network').getByText('wired').waitFor();
  await shot('participants');

  // Signed out and back in, the status is the same.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('textbox', { name: 'Admin password', exact: true }).fill(env('ADMIN_PASSWORD'));
  await shot('sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The box is in the call').waitFor({ timeout: 30000 });

  // Hang up and call again.
  await page.getByRole('button', { name: 'Hang up' }).click();
  await page.getByText('The box is idle').waitFor({ timeout: 30000 });
  await shot('hung-up');
  await page.getByRole('button', { name: 'Call now' }).click();
  await page.getByText('The box is in the call').waitFor({ timeout: 60000 });
}, 'setup done: the box is in the call');
