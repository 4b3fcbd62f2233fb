// End-to-end with --auth on: a deep link signs in first and comes back to the same view; a user sees only
// the experiments they may read; the session's CSRF token makes changes work; sign-out ends the session.
//   node web/e2e/ui_auth.e2e.mjs --tamga=build/tamga [--out=DIR]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { arg, check, client, eventually, launchBrowser, startServer } from './harness.mjs';

const bin = arg('tamga');
const out = arg('out', '');
if (out) mkdirSync(out, { recursive: true });
const basic = (u, p) => ({ Authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });

const server = await startServer(bin, ['--auth', 'on', '--default-permission', 'NO_PERMISSIONS'],
  { TAMGA_ADMIN_USERNAME: 'admin', TAMGA_ADMIN_PASSWORD: 'admin-pass-123' });
const browser = await launchBrowser();
let failed = false;
let page = null;
try {
  const admin = client(server.url, basic('admin', 'admin-pass-123'));
  const ml = '/api/2.0/mlflow';
  const secret = (await admin.post(`${ml}/experiments/create`, { name: 'admins-only' })).experiment_id;
  await admin.post(`${ml}/users/create`, { username: 'bob', password: 'bob-pass-456' });
  const bob = client(server.url, basic('bob', 'bob-pass-456'));
  const mine = (await bob.post(`${ml}/experiments/create`, { name: 'bobs-experiment' })).experiment_id;
  const run = (await bob.post(`${ml}/runs/create`, { experiment_id: mine, run_name: 'bob-run' })).run.info;
  await bob.post(`${ml}/runs/log-batch`, { run_id: run.run_id, metrics: [{ key: 'loss', value: 0.25, timestamp: 1, step: 0 }] });

  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => d.accept());

  // A deep link before signing in: the sign-in page, then back to the link.
  const deep = `/#/experiments/${mine}/runs?filter=metrics.loss%20%3C%201`;
  await page.goto(server.url + deep);
  await page.waitForURL(/\/login\?/);
  if (out) await page.screenshot({ path: join(out, 'login.png') });
  await page.fill('input[name=username]', 'bob');
  await page.fill('input[name=password]', 'bob-pass-456');
  await page.click('button[type=submit], input[type=submit]');
  await page.waitForSelector('.vt-row[data-row="0"] .run-link:text-is("bob-run")');
  check(page.url() === server.url + deep, `returned to the deep link: ${page.url()}`);
  check((await page.inputValue('input[name=filter]')) === 'metrics.loss < 1', 'filter from the link');
  check((await page.textContent('[data-testid=user]')).startsWith('bob'), 'signed in as bob');
  console.log('ok - deep link survives sign-in');

  // Only readable experiments are listed; an unreadable one answers with an error, not a crash.
  await page.goto(server.url + '/#/experiments');
  await page.waitForSelector('[data-testid=experiments] a:text-is("bobs-experiment")');
  const names = await page.$$eval('[data-testid=experiments] tbody a', (as) => as.map((a) => a.textContent));
  check(!names.includes('admins-only'), `admins-only hidden from bob: ${names}`);
  await page.goto(`${server.url}/#/experiments/${secret}/runs`);
  await page.waitForSelector('.error:has-text("PERMISSION_DENIED")');
  console.log('ok - unreadable objects never appear');

  // A change through the session cookie (needs the CSRF token the UI sends).
  await page.goto(`${server.url}/#/runs/${run.run_id}`);
  await page.click('[data-action=edit-description]');
  await page.fill('textarea.note', 'signed-in edit');
  await page.click('[data-action=save-description]');
  await page.waitForSelector('.md p:text-is("signed-in edit")');
  const tags = (await bob.get(`${ml}/runs/get?run_id=${run.run_id}`)).run.data.tags;
  check(tags.some((t) => t.key === 'mlflow.note.content' && t.value === 'signed-in edit'), 'description saved');
  // Without the token the same change is refused (the cookie alone is not enough).
  const cookie = (await page.context().cookies()).find((c) => c.name === 'tamga_session');
  const bare = await fetch(`${server.url}${ml}/runs/set-tag`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: `tamga_session=${cookie.value}` },
    body: JSON.stringify({ run_id: run.run_id, key: 'x', value: 'y' }) });
  check(bare.status === 403, `cookie without X-CSRF-Token refused: ${bare.status}`);
  console.log('ok - changes carry the CSRF token');

  await page.click('header button.link:text-is("Sign out")');
  await page.waitForURL(/\/login/);
  const after = await fetch(`${server.url}/api/2.0/tamga/session`, { headers: { Cookie: `tamga_session=${cookie.value}` } });
  check(after.status === 401, 'session ended: ' + after.status);
  console.log('ok - sign out ends the session');
  check(errors.length === 0, 'no page errors: ' + errors.join(' | '));
} catch (e) {
  failed = true;
  console.error('FAIL:', e.stack || e.message);
  if (page && out) await page.screenshot({ path: join(out, 'FAILED-auth.png') }).catch(() => {});
  console.error('server log tail:', server.stderr().slice(-3000));
} finally {
  await browser.close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
