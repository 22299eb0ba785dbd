// Signs in to a box whose calls ring and turns do not disturb on and off
// with the status page's button, reading the state the page shows. Run by
// browser_test.go inside the test's network namespace.
import { env, openPhone } from './browser.mjs';

const { page, shot, run } = await openPhone();

await run(async () => {
  await page.goto(env('BOX_URL'));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('textbox', { name: 'Admin password', exact: true }).fill(env('ADMIN_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The box is waiting for calls').waitFor({ timeout: 60000 });
  await page.locator('#st-dnd').getByText('off: calls ring').waitFor();
  await shot('waiting-for-calls');

  await page.getByRole('button', { name: 'Turn do not disturb on' }).click();
  await page.getByText('Do not disturb: calls are declined').waitFor({ timeout: 10000 });
  await page.locator('#st-dnd').getByText('on: calls are declined as not available').waitFor();
  await shot('do-not-disturb-on');
  // Read again, the page still says so: it is the box's state.
  await page.reload();
  await page.getByText('Do not disturb: calls are declined').waitFor({ timeout: 10000 });

  await page.getByRole('button', { name: 'Turn do not disturb off' }).click();
  await page.getByText('The box is waiting for calls').waitFor({ timeout: 10000 });
  await page.locator('#st-dnd').getByText('off: calls ring').waitFor();
  await shot('do-not-disturb-off');
}, 'do not disturb: on and off');
