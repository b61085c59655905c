// 8. Users and assignment: a county admin creates a field worker, a township
// supervisor hands a whole village to them, the worker signs in and sees
// exactly those households; the admin disables the worker and the worker's
// next request is refused. Phone and desktop screenshots.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import {
  assertNoPageErrors,
  byTestId,
  collectAllPages,
  householdCount,
  installHydrationProbe,
  open,
  signIn,
} from '../support/app.mjs';

const COUNTY = '621102000000';
const TOWNSHIP = '621102100000';
const VILLAGE = '621102100202';
const NEW_WORKER = { username: 'zhaomin', name: '赵敏', password: 'chushi-mima-2026' };

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const sql = (query) => server.sql(query);

async function contextFor(t, { desktop = false } = {}) {
  const context = desktop
    ? await browser.newContext({ baseURL: server.baseURL, viewport: { width: 1280, height: 800 }, locale: 'zh-CN' })
    : await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  t.after(async () => {
    await context.close();
    assertNoPageErrors(context);
  });
  return context;
}

/** Households waiting for a worker in the township: none, or a disabled one. */
const waitingInTownship = () =>
  Number(sql(`select count(*) from households h where village_code like '621102100%'
              and (worker_id is null or worker_id in (select id from users where not active))`));

describe('users and assignment', () => {
  test('create a worker, assign a village, the worker sees it; disabled, the worker is out', async (t) => {
    // The county admin creates the worker from the users page.
    const admin = await (await contextFor(t)).newPage();
    await signIn(admin, 'county', `/areas/${COUNTY}`);
    await byTestId(admin, 'users-link').click();
    await admin.waitForURL(new RegExp(`/areas/${COUNTY}/users$`));
    await byTestId(admin, 'users').waitFor();
    await byTestId(admin, 'new-username').fill(NEW_WORKER.username);
    await byTestId(admin, 'new-display-name').fill(NEW_WORKER.name);
    await byTestId(admin, 'new-role').selectOption('field_worker');
    await byTestId(admin, 'new-area').selectOption(TOWNSHIP);
    await byTestId(admin, 'new-password').fill(NEW_WORKER.password);
    await byTestId(admin, 'create-user').click();
    await byTestId(admin, 'create-ok').filter({ hasText: NEW_WORKER.username }).waitFor();
    const row = admin.locator(`[data-testid="user-row"][data-username="${NEW_WORKER.username}"]`);
    await row.waitFor();
    assert.match((await row.textContent()).replace(/\s+/g, ' '), /帮扶干部 · 香泉镇 · 负责 0 户/);
    assert.equal(sql(`select role || '|' || area_code || '|' || active from users where username = '${NEW_WORKER.username}'`),
      `field_worker|${TOWNSHIP}|1`);
    // A taken user name is refused in words, the form kept as typed.
    await byTestId(admin, 'new-username').fill('worker1');
    await byTestId(admin, 'new-display-name').fill('重名');
    await byTestId(admin, 'new-password').fill(NEW_WORKER.password);
    await byTestId(admin, 'create-user').click();
    await byTestId(admin, 'create-error').filter({ hasText: '“worker1”已被使用' }).waitFor();
    // The page that comes back holds what was typed (the server refills it;
    // the password is never carried back).
    assert.equal(await byTestId(admin, 'new-display-name').inputValue(), '重名');
    assert.equal(await byTestId(admin, 'new-username').inputValue(), 'worker1');
    assert.equal(await byTestId(admin, 'new-password').inputValue(), '');
    await screenshot(admin, 'users-county');

    // The township supervisor hands the whole village to the new worker.
    const supervisor = await (await contextFor(t)).newPage();
    await signIn(supervisor, 'township1', `/areas/${TOWNSHIP}`);
    const bulk = byTestId(supervisor, 'bulk-assign');
    await bulk.locator('[data-testid="bulk-worker"]').waitFor();
    const villageHouseholds = Number(sql(`select count(*) from households where village_code = '${VILLAGE}'`));
    const waitingBefore = waitingInTownship();
    assert.equal(Number(await byTestId(supervisor, 'total-unassigned').textContent()), waitingBefore);
    await bulk.locator('[data-testid="bulk-village"]').selectOption(VILLAGE);
    const option = bulk.locator('[data-testid="bulk-worker"] option', { hasText: NEW_WORKER.name });
    await bulk.locator('[data-testid="bulk-worker"]').selectOption(await option.getAttribute('value'));
    await bulk.locator('[data-testid="bulk-whole-village"]').check();
    await bulk.locator('[data-testid="bulk-submit"]').click();
    await byTestId(supervisor, 'bulk-result').filter({ hasText: `已分配 ${villageHouseholds} 户` }).waitFor();
    assert.equal(
      sql(`select count(*) from household_assignments a join users u on u.id = a.new_worker_id where u.username = '${NEW_WORKER.username}'`),
      String(villageHouseholds),
      'every change is in the trail',
    );
    // The waiting count follows: the village's unassigned households are taken.
    const waitingAfter = waitingInTownship();
    assert.ok(waitingAfter <= waitingBefore);
    await byTestId(supervisor, 'total-unassigned').filter({ hasText: new RegExp(`^${waitingAfter}$`) }).waitFor();
    await bulk.scrollIntoViewIfNeeded();
    await screenshot(supervisor, 'assign-village');

    // The worker signs in and sees exactly the village's households.
    const workerContext = await contextFor(t);
    const worker = await workerContext.newPage();
    await signIn(worker, NEW_WORKER.username, '/field', NEW_WORKER.password);
    await open(worker, '/households');
    assert.equal(await householdCount(worker), villageHouseholds);
    const numbers = (await collectAllPages(worker)).map((r) => r.number).sort();
    const expected = sql(`select number from households where village_code = '${VILLAGE}' order by number`).split('\n');
    assert.deepEqual(numbers, expected);

    // The admin disables the worker; their very next request is refused.
    await open(admin, `/areas/${COUNTY}/users`);
    await row.locator('[data-testid="toggle-active"]').click();
    await row.locator('[data-testid="disabled-tag"]').waitFor();
    assert.equal(sql(`select active from users where username = '${NEW_WORKER.username}'`), '0');
    assert.equal(sql(`select count(*) from sessions s join users u on u.id = s.user_id where u.username = '${NEW_WORKER.username}'`), '0');
    const status = await worker.evaluate(async () =>
      (await fetch('/api/households/list', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status);
    assert.equal(status, 401);
    const roster = await worker.evaluate(async () => (await fetch('/api/sync/v1/roster')).status);
    assert.equal(roster, 401, 'the phone cannot download any more');
    await worker.goto('/households');
    await worker.waitForURL((u) => u.pathname === '/login');
    await row.scrollIntoViewIfNeeded();
    await screenshot(admin, 'users-county-disabled');

    // Their households wait for a worker again, on the supervisor's page.
    await open(supervisor, `/areas/${TOWNSHIP}`);
    assert.equal(Number(await byTestId(supervisor, 'total-unassigned').textContent()), waitingAfter + villageHouseholds);
    assert.equal(waitingInTownship(), waitingAfter + villageHouseholds);
  });

  test('one household at a time from its page, and the pages at desktop width', async (t) => {
    const context = await contextFor(t, { desktop: true });
    const page = await context.newPage();
    await signIn(page, 'township1', `/areas/${TOWNSHIP}`);
    const id = sql(`select lower(hex(id)) from households where village_code = '${VILLAGE}' order by number limit 1`);
    const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    await open(page, `/households/${uuid}`);
    const assign = byTestId(page, 'assign');
    await assign.locator('[data-testid="assign-worker"]').waitFor();
    const worker2 = sql(`select display_name from users where username = 'worker2'`);
    const option = assign.locator('[data-testid="assign-worker"] option', { hasText: worker2 });
    await assign.locator('[data-testid="assign-worker"]').selectOption(await option.getAttribute('value'));
    await assign.locator('[data-testid="assign-submit"]').click();
    await byTestId(page, 'assign-result').waitFor();
    await byTestId(page, 'worker-name').filter({ hasText: worker2 }).waitFor();
    assert.equal(sql(`select u.username from households h join users u on u.id = h.worker_id where lower(hex(h.id)) = '${id}'`), 'worker2');
    let width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `no sideways scrolling (${width}px wide)`);
    await assign.scrollIntoViewIfNeeded();
    await screenshot(page, 'assign-household-desktop');

    await open(page, `/areas/${TOWNSHIP}`);
    await byTestId(page, 'bulk-worker').waitFor();
    width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `no sideways scrolling (${width}px wide)`);
    await byTestId(page, 'bulk-assign').scrollIntoViewIfNeeded();
    await screenshot(page, 'assign-village-desktop');

    await open(page, `/areas/${TOWNSHIP}/users`);
    await byTestId(page, 'users').waitFor();
    width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `no sideways scrolling (${width}px wide)`);
    await screenshot(page, 'users-township1-desktop');
  });
});
