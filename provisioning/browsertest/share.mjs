// Signs in to a box whose content input (video.content_camera) is the
// test pattern, in a call, and stops and starts its share with the status
// page's button, reading what the page says the box shares. Run by
// browser_test.go inside the test's network namespace.
import { env, openPhone } from './browser.mjs';

const { page, shot, run } = await openPhone();

const sharing = 'Sharing the content input (testpattern), 1920x1080@5, sent at 5 fps';
await run(async () => {
  await page.goto(env('BOX_URL'));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('textbox', { name: 'Admin password', exact: true }).fill(env('ADMIN_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#st-share').getByText(sharing).waitFor({ timeout: 60000 });
  await shot('sharing');

  await page.getByRole('button', { name: 'Stop sharing' }).click();
  await page.locator('#st-share').getByText('Not sharing: the share was stopped by hand').waitFor({ timeout: 10000 });
  await shot('share-stopped');
  // Read again, the page still says so: it is the box's state.
  await page.reload();
  await page.locator('#st-share').getByText('Not sharing: the share was stopped by hand').waitFor({ timeout: 10000 });

  await page.getByRole('button', { name: 'Share HDMI input' }).click();
  await page.locator('#st-share').getByText(sharing).waitFor({ timeout: 10000 });
  await page.getByRole('button', { name: 'Stop sharing' }).waitFor();
  await shot('sharing-again');
}, 'share: stop and start');
