// 9. The discrepancy queue: a township supervisor opens it from the
// dashboard, sees the open items newest first with their counts per kind
// (each agreeing with the database), assigns one to a field worker, adds a
// note, is refused when closing without a resolution, closes it as paid
// later, and sees the history; the database agrees step by step. Phone and
// desktop.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, eventually, installHydrationProbe, open, signIn } from '../support/app.mjs';

const TOWNSHIP = '621102100000';
const PREFIX = '621102100';

let server;
let browser;

before(async () => {
  // Every assigned household visited: early in the statistics year few
  // payments are due yet, and each visit adds to the queue.
  server = await startServer({ demoArgs: ['--visited-percent', '100'] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const sql = (query) => server.sql(query);
const inTownship = `village_code like '${PREFIX}%'`;
/** A UUID as the page shows it, as SQLite stores it (a 16-byte blob). */
const blob = (uuid) => `X'${uuid.replaceAll('-', '')}'`;
const uuidOf = (hex) => hex.toLowerCase().replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

async function supervisor(t, { desktop = false } = {}) {
  const context = desktop
    ? await browser.newContext({ baseURL: server.baseURL, viewport: { width: 1280, height: 800 }, locale: 'zh-CN' })
    : await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  const page = await context.newPage();
  t.after(async () => {
    await context.close();
    assertNoPageErrors(context);
  });
  await signIn(page, 'township1', `/areas/${TOWNSHIP}`);
  return page;
}

const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

describe('discrepancy queue', () => {
  test('the queue lists the open items newest first, counted per kind as in the database', async (t) => {
    const page = await supervisor(t);
    const open = Number(sql(`select count(*) from discrepancies where ${inTownship} and state = 'open'`));
    assert.ok(open > 0, 'the demo visits opened items');
    assert.equal(await text(byTestId(page, 'open-discrepancies')), String(open));

    await screenshot(page, 'dashboard-discrepancy-link');
    await byTestId(page, 'discrepancy-link').click();
    await page.waitForURL(new RegExp(`/areas/${TOWNSHIP}/discrepancies$`));
    assert.match(await text(byTestId(page, 'filter-open')), new RegExp(`待处理 ${open}$`));
    assert.match(await byTestId(page, 'filter-open').getAttribute('class'), /tab-on/);
    assert.doesNotMatch(await byTestId(page, 'filter-closed').getAttribute('class'), /tab-on/);
    const perKind = Object.fromEntries(
      sql(`select kind, count(*) from discrepancies where ${inTownship} and state = 'open' group by kind`)
        .split('\n')
        .map((l) => l.split('|')),
    );
    for (const kind of ['not_received', 'received_in_part', 'received_late', 'visit_conflict']) {
      const chip = byTestId(page, 'kind-counts').locator(`[data-kind="${kind}"] strong`);
      assert.equal(await text(chip), String(perKind[kind] ?? 0), kind);
    }
    assert.match(await text(byTestId(page, 'queue-count')), new RegExp(`共 ${open} 项`));

    const newest = sql(
      `select h.head_name, d.kind from discrepancies d join households h on h.id = d.household_id
       where d.${inTownship} and d.state = 'open' order by d.reported_at desc, d.id desc limit 30`,
    ).split('\n').map((l) => l.split('|'));
    const rows = byTestId(page, 'discrepancy');
    assert.equal(await rows.count(), newest.length, 'one page of 30');
    const labels = { not_received: '未到账', received_in_part: '部分到账', received_late: '延迟到账', visit_conflict: '走访冲突' };
    for (const i of [0, 1, newest.length - 1]) {
      const [name, kind] = newest[i];
      assert.equal(await text(rows.nth(i).locator('[data-testid="household-link"]')), name, `row ${i}`);
      assert.equal(await text(rows.nth(i).locator('[data-testid="kind"]')), labels[kind], `row ${i}`);
    }
    await screenshot(page, 'discrepancies-township1');

    // A row leads to its household.
    await rows.first().locator('[data-testid="household-link"]').click();
    await page.waitForURL(/\/households\/[0-9a-f-]{36}$/);
    await byTestId(page, 'household').filter({ hasText: newest[0][0] }).waitFor();
  });

  test('a supervisor assigns, notes and resolves an item; the history stays and the database agrees', async (t) => {
    const page = await supervisor(t);
    await open(page, `/areas/${TOWNSHIP}/discrepancies`);
    const row = byTestId(page, 'discrepancy').filter({ has: page.locator('[data-testid="kind"]', { hasText: /未到账|部分到账/ }) }).first();
    const head = await text(row.locator('[data-testid="household-link"]'));
    await row.locator('[data-testid="open-item"]').click();
    await page.waitForURL(/\/discrepancies\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop();
    const detail = byTestId(page, 'discrepancy-detail');
    await detail.filter({ hasText: head }).waitFor();
    const [expected, received] = sql(`select expected_fen, received_fen from discrepancies where id = ${blob(id)}`).split('|').map(Number);
    const yuan = (fen) => `${(fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })} 元`;
    assert.equal(await text(byTestId(page, 'expected')), yuan(expected));
    assert.equal(await text(byTestId(page, 'received')), yuan(received));
    assert.ok(received < expected, `${received} < ${expected}`);

    // Assign to a field worker of the township.
    const [workerHex, workerName] = sql(`select hex(id), display_name from users where username = 'worker1'`).split('|');
    await byTestId(page, 'assignee-select').selectOption(uuidOf(workerHex));
    await byTestId(page, 'assign-note').fill('请上门核实到账情况');
    await byTestId(page, 'assign-submit').click();
    await byTestId(page, 'assignee').filter({ hasText: workerName }).waitFor();

    await byTestId(page, 'note-text').fill('民政局回复：名单已报，10月补发');
    await byTestId(page, 'note-submit').click();
    await byTestId(page, 'history').locator('li').nth(1).waitFor();

    // Closing needs a resolution: refused, nothing written.
    await byTestId(page, 'close-note').fill('已补发到一卡通');
    await byTestId(page, 'close-submit').click();
    await byTestId(page, 'close-error').filter({ hasText: '请选择处理结果' }).waitFor();
    assert.equal(sql(`select count(*) from discrepancy_events where discrepancy_id = ${blob(id)}`), '2');
    assert.equal(sql(`select state from discrepancies where id = ${blob(id)}`), 'open');

    await byTestId(page, 'resolution-select').selectOption('paid_later');
    await byTestId(page, 'close-note').fill('已补发到一卡通');
    await byTestId(page, 'close-submit').click();
    await byTestId(page, 'item-state').filter({ hasText: '已结案 · 后补发到位' }).waitFor();
    const history = byTestId(page, 'history').locator('li');
    assert.equal(await history.count(), 3);
    assert.deepEqual(
      await history.evaluateAll((items) => items.map((li) => li.dataset.action)),
      ['assign', 'note', 'close'],
    );
    assert.match(await text(history.nth(0)), new RegExp(`指派 ${workerName}：请上门核实到账情况`));
    assert.match(await text(history.nth(2)), /结案（后补发到位）：已补发到一卡通/);
    // Closed: only a note or reopening is offered.
    await byTestId(page, 'reopen-form').waitFor();
    assert.equal(await byTestId(page, 'close-form').count(), 0);

    assert.equal(
      sql(`select state, resolution, hex(assignee_id) from discrepancies where id = ${blob(id)}`),
      `closed|paid_later|${workerHex}`,
    );
    assert.equal(
      sql(`select group_concat(action || ':' || note, ',') from (select action, note from discrepancy_events
           where discrepancy_id = ${blob(id)} order by at, id)`),
      'assign:请上门核实到账情况,note:民政局回复：名单已报，10月补发,close:已补发到一卡通',
    );
    await screenshot(page, 'discrepancy-resolved');
    await page.evaluate(() => document.querySelector('[data-testid="history"]').closest('section').scrollIntoView());
    await page.evaluate(() => window.scrollBy(0, -80)); // below the sticky top bar
    await screenshot(page, 'discrepancy-history');

    // The queue moved it from open to closed.
    await page.locator('a.back').click();
    await page.waitForURL(new RegExp(`/areas/${TOWNSHIP}/discrepancies$`));
    await byTestId(page, 'filter-closed').click();
    await page.waitForURL(/filter=closed/);
    const closed = byTestId(page, 'discrepancy');
    await eventually(async () => (await closed.count()) === 1, { message: 'one closed item' });
    assert.equal(await text(closed.first().locator('[data-testid="household-link"]')), head);
    assert.match(await text(closed.first().locator('[data-testid="state"]')), /已结案 · 后补发到位/);
  });

  test('on a desktop screen the queue and an item read without sideways scrolling', async (t) => {
    const page = await supervisor(t, { desktop: true });
    await open(page, `/areas/${TOWNSHIP}/discrepancies`);
    await byTestId(page, 'discrepancies').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `no sideways scrolling (${width}px wide)`);
    await screenshot(page, 'discrepancies-township1-desktop');
    await byTestId(page, 'open-item').first().click();
    await page.waitForURL(/\/discrepancies\/[0-9a-f-]{36}$/);
    await byTestId(page, 'actions').waitFor();
    await screenshot(page, 'discrepancy-desktop');
  });
});
