// 7. The township dashboard: a supervisor sees, for this statistics year,
// how many households each village and each worker has visited, the days
// left to 30 September, the households still waiting and the newest visits,
// and every figure agrees with the database. Phone and desktop.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import {
  assertNoPageErrors,
  byTestId,
  installHydrationProbe,
  mobilePage,
  open,
  signIn,
  submitSignIn,
} from '../support/app.mjs';

const TOWNSHIP = '621102100000';
const PREFIX = '621102100';

let server;
let browser;

before(async () => {
  server = await startServer({ demoArgs: ['--visited-percent', '40'] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const sql = (query) => server.sql(query);

/** The statistics year of today in China: year N runs 1 Oct N-1 to 30 Sep N. */
function statYear() {
  const china = new Date(Date.now() + 8 * 3600_000);
  const y = china.getUTCFullYear();
  return china.getUTCMonth() >= 9 ? y + 1 : y;
}

const visitedIn = (year) => `exists (select 1 from visits v where v.household_id = h.id and v.stat_year = ${year})`;

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

const number = async (page, id) => Number((await byTestId(page, id).textContent()).trim());

describe('township dashboard', () => {
  test('progress per village and worker agrees with the visits in the database', async (t) => {
    const page = await supervisor(t);
    const year = statYear();
    const [households, visited] = sql(
      `select count(*), sum(case when ${visitedIn(year)} then 1 else 0 end) from households h where village_code like '${PREFIX}%'`,
    ).split('|').map(Number);
    assert.ok(visited > 0 && visited < households, `the demo visited some households (${visited}/${households})`);
    assert.equal(await number(page, 'total-households'), households);
    assert.equal(await number(page, 'total-visited'), visited);
    assert.equal(await number(page, 'total-not-visited'), households - visited);
    assert.equal(
      await byTestId(page, 'total-progress').getAttribute('aria-valuenow'),
      String(Math.floor((visited * 100) / households)),
    );

    const deadline = Date.UTC(year, 8, 30);
    const china = new Date(Date.now() + 8 * 3600_000);
    const today = Date.UTC(china.getUTCFullYear(), china.getUTCMonth(), china.getUTCDate());
    assert.match(await byTestId(page, 'days-left').textContent(), new RegExp(`还有\\s*${(deadline - today) / 86_400_000}\\s*天`));

    // Each village row: its visited count, next to the database's.
    const villages = sql(
      `select a.name, count(*), sum(case when ${visitedIn(year)} then 1 else 0 end) from households h join areas a on a.code = h.village_code
       where h.village_code like '${PREFIX}%' group by a.code, a.name order by a.code`,
    ).split('\n').map((l) => l.split('|'));
    const rows = byTestId(page, 'child-areas').locator('li');
    assert.equal(await rows.count(), villages.length);
    for (const [i, [name, n, v]] of villages.entries()) {
      const text = (await rows.nth(i).textContent()).replace(/\s+/g, ' ');
      assert.ok(text.includes(name), `row ${i} is ${name}: ${text}`);
      assert.ok(text.includes(`已走访 ${v} `) && text.includes(`${n} 户`), `${name}: ${v} of ${n} visited, row reads ${text}`);
    }

    // Each worker: caseload in the township and how much of it is visited.
    const workers = sql(
      `select u.display_name, count(*), sum(case when ${visitedIn(year)} then 1 else 0 end) from households h join users u on u.id = h.worker_id
       where h.village_code like '${PREFIX}%' group by u.id, u.display_name order by u.display_name`,
    ).split('\n').map((l) => l.split('|'));
    const workerRows = byTestId(page, 'worker-progress').locator('li');
    assert.equal(await workerRows.count(), workers.length);
    for (const [i, [name, n, v]] of workers.entries()) {
      const text = (await workerRows.nth(i).textContent()).replace(/\s+/g, ' ');
      assert.ok(text.includes(name) && text.includes(`已走访 ${v} / ${n}`), `worker ${name}: ${v}/${n}, row reads ${text}`);
    }
    await screenshot(page, 'dashboard-township1');
  });

  test('the newest visits come first and lead to the household; waiting households are unvisited', async (t) => {
    const page = await supervisor(t);
    const year = statYear();
    const newest = sql(
      `select h.head_name from visits v join households h on h.id = v.household_id
       where h.village_code like '${PREFIX}%' order by v.started_at desc, v.id desc limit 10`,
    ).split('\n');
    const recent = byTestId(page, 'recent-visits').locator('li');
    assert.equal(await recent.count(), newest.length);
    for (const [i, name] of newest.entries()) {
      assert.equal((await recent.nth(i).locator('.row-title').textContent()).trim(), name);
    }
    const shortfalls = Number(sql(
      `select count(*) from verification_lines l join visits v on v.id = l.visit_id join households h on h.id = v.household_id
       where h.village_code like '${PREFIX}%' and l.status in ('received_in_part', 'not_received')
         and v.id in (select v2.id from visits v2 join households h2 on h2.id = v2.household_id
                      where h2.village_code like '${PREFIX}%' order by v2.started_at desc, v2.id desc limit 10)`,
    ));
    const shown = await recent.locator('.tag-amber').evaluateAll((tags) => tags.reduce((s, t) => s + parseInt(t.textContent, 10), 0));
    assert.equal(shown, shortfalls, 'the shortfall badges add up');

    const waiting = byTestId(page, 'unvisited').locator('li');
    const first = (await waiting.first().locator('.row-title').textContent()).trim();
    const expected = sql(
      `select head_name from households h where village_code like '${PREFIX}%' and not ${visitedIn(year)} order by village_code, number limit 1`,
    );
    assert.equal(first, expected);
    await waiting.first().locator('a').click();
    await page.waitForURL(/\/households\/[0-9a-f-]{36}$/);
    await byTestId(page, 'visits').filter({ hasText: '本户尚无走访记录' }).waitFor();

    await open(page, `/areas/${TOWNSHIP}`);
    await recent.first().locator('a').click();
    await page.waitForURL(/\/households\/[0-9a-f-]{36}$/);
    await byTestId(page, 'visits').locator('[data-testid="visit"]').first().waitFor();
  });

  test('the dispatch table adds up the verified payments and drills down to households', async (t) => {
    const page = await supervisor(t);
    const year = statYear();
    await byTestId(page, 'dispatch-link').click();
    await page.waitForURL(new RegExp(`/reports/dispatch/${TOWNSHIP}$`));
    const table = byTestId(page, 'dispatch-table');
    await table.waitFor();
    // The demo visits each household at most once, so "verified received
    // in full / in part" is simply every line of this year that says so.
    const [due, dueFen] = sql(
      `select count(*), sum(expected_fen) from entitlements e join households h on h.id = e.household_id
       where h.village_code like '${PREFIX}%' and e.stat_year = ${year}`,
    ).split('|').map(Number);
    const received = (status) =>
      sql(
        `select count(*), coalesce(sum(l.received_fen), 0) from verification_lines l join visits v on v.id = l.visit_id
         join households h on h.id = v.household_id
         where h.village_code like '${PREFIX}%' and v.stat_year = ${year} and l.status = '${status}'`,
      ).split('|').map(Number);
    const [full, fullFen] = received('received_in_full');
    const [part, partFen] = received('received_in_part');
    assert.ok(full > 0 && part > 0, 'the demo verified payments in full and in part');
    const total = table.locator('tfoot tr');
    const count = async (row, state) => Number((await row.locator(`[data-testid="count-${state}"]`).textContent()).trim());
    assert.deepEqual(
      [await count(total, 'full'), await count(total, 'part'), await count(total, 'no'), await count(total, 'due')],
      [full, part, due - full - part, due],
    );
    const yuan = (fen) => (fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2 });
    const amounts = (await total.locator('[data-testid="amounts"]').textContent()).replace(/\s+/g, '');
    assert.equal(amounts, `${yuan(fullFen)}·${yuan(partFen)}/${yuan(dueFen)}`);
    // Progress is of what was received in full (足额).
    assert.equal((await total.locator('[data-testid="percent"]').textContent()).trim(), `${Math.floor((fullFen * 100) / dueFen)}%`);
    await screenshot(page, 'dispatch-township1');

    // The Excel file for sending upward downloads from the page.
    const [download] = await Promise.all([page.waitForEvent('download'), byTestId(page, 'export-xlsx').click()]);
    assert.match(download.suggestedFilename(), /^香泉镇补贴发放进展调度表-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const file = await download.path();
    const { readFile } = await import('node:fs/promises');
    assert.equal((await readFile(file)).subarray(0, 2).toString(), 'PK', 'an xlsx (zip) file');

    // One item at a time: the caption names it, and its due count is the database's.
    const item = await byTestId(page, 'item').locator('option').nth(1);
    const [code, name] = [await item.getAttribute('value'), (await item.textContent()).trim()];
    await byTestId(page, 'item').selectOption(code);
    await page.locator('.dispatch-filter button[type="submit"]').click();
    await page.waitForURL(new RegExp(`item=${code}`));
    await byTestId(page, 'dispatch-caption').filter({ hasText: name }).waitFor();
    const itemDue = sql(
      `select count(*) from entitlements e join households h on h.id = e.household_id
       where h.village_code like '${PREFIX}%' and e.stat_year = ${year} and e.item_code = '${code}'`,
    );
    assert.equal(await count(table.locator('tfoot tr'), 'due'), Number(itemDue));

    // A figure leads to the households behind it: the village's payments
    // of this item, as many as the cell says; the note offers the same
    // figure's households in full, in part and not received; and each
    // household opens.
    const dispatchUrl = page.url();
    const firstRow = table.locator('tbody tr').first();
    const [rowFull, rowPart, rowNone, rowDue] = [
      await count(firstRow, 'full'), await count(firstRow, 'part'), await count(firstRow, 'no'), await count(firstRow, 'due'),
    ];
    assert.equal(rowFull + rowPart + rowNone, rowDue);
    await firstRow.locator('[data-testid="count-due"] a').click();
    await page.waitForURL(new RegExp(`/households\\?village=621102100\\d{3}&as_of=[\\d-]+&paid=due&item=${code}$`));
    await byTestId(page, 'payment-note').filter({ hasText: name }).waitFor();
    const listed = async () => Number((await byTestId(page, 'household-count').locator('strong').textContent()).trim());
    assert.equal(await listed(), rowDue);
    for (const [state, label, n] of [['part', '部分到户', rowPart], ['no', '未到户', rowNone], ['full', '足额到户', rowFull]]) {
      await byTestId(page, `payment-flip-${state}`).click();
      await page.waitForURL(new RegExp(`paid=${state}`));
      await byTestId(page, 'payment-note').filter({ hasText: label }).waitFor();
      assert.equal(await listed(), n, `${label} households listed`);
    }
    await screenshot(page, 'dispatch-drill-down-phone');
    if (rowFull > 0) {
      await byTestId(page, 'household-list').locator('a').first().click();
      await page.waitForURL(/\/households\/[0-9a-f-]{36}$/);
    }
    await page.goto(dispatchUrl);
    await table.waitFor();

    // A village row leads to that village's households.
    await table.locator('tbody tr').first().locator('th a').click();
    await page.waitForURL(/\/households\?village=621102100\d{3}$/);
    await byTestId(page, 'household-list').waitFor();
  });

  test('without script, a refused review comes back at its own visit, as typed', async (t) => {
    const page = await mobilePage(t, browser, server.baseURL, { javaScriptEnabled: false });
    await submitSignIn(page, 'township1');
    await page.waitForURL((u) => u.pathname === `/areas/${TOWNSHIP}`);
    // A visit on the dashboard's recent list: not yet reviewed.
    await byTestId(page, 'recent-visits').locator('li').first().locator('a').click();
    await page.waitForURL(/\/households\/[0-9a-f-]{36}$/);
    const target = byTestId(page, 'visit').first();
    // One character over the limit (500): refused, and all of it comes back.
    const typed = `签名<b>不清</b> & 待核${'实'.repeat(485)}`;
    assert.equal([...typed].length, 501);
    await target.locator('[data-testid="review-select"]').selectOption('has_issues');
    await target.locator('[data-testid="review-comment"]').fill(typed);
    await target.locator('[data-testid="review-submit"]').click();
    await page.waitForLoadState('load');
    const formId = await target.locator('form.review-form').getAttribute('id');
    assert.equal(new URL(page.url()).hash, `#${formId}`, 'lands at the visit reviewed');
    await target.locator('[data-testid="review-error"]').waitFor();
    assert.equal(await page.locator('[data-testid="review-error"]').count(), 1, 'the refusal shows at that visit alone');
    assert.equal(await target.locator('[data-testid="review-comment"]').inputValue(), typed);
    assert.equal(await target.locator('[data-testid="review-select"]').inputValue(), 'has_issues');
    assert.equal(sql('select count(*) from visit_reviews'), '0');
    await screenshot(page, 'review-refused-no-script');
  });

  test('a supervisor reviews a visit: an issue needs a comment, then approves it; the history stays', async (t) => {
    const page = await supervisor(t);
    await byTestId(page, 'recent-visits').locator('li').first().locator('a').click();
    await page.waitForURL(/\/households\/[0-9a-f-]{36}$/);
    const visit = byTestId(page, 'visit').first();
    assert.equal((await visit.locator('[data-testid="review-state"]').textContent()).trim(), '待审核');

    await visit.locator('[data-testid="review-select"]').selectOption('has_issues');
    await visit.locator('[data-testid="review-submit"]').click();
    await visit.locator('[data-testid="review-error"]').filter({ hasText: '请写明问题' }).waitFor();
    assert.equal(sql('select count(*) from visit_reviews'), '0', 'nothing written for a refused review');
    // The page comes back at this visit's own form, the choice kept.
    const formId = await visit.locator('form.review-form').getAttribute('id');
    assert.match(formId, /^f-visits-review-[0-9a-f-]{36}$/);
    assert.equal(new URL(page.url()).hash, `#${formId}`);
    assert.equal(await visit.locator('[data-testid="review-select"]').inputValue(), 'has_issues');

    await visit.locator('[data-testid="review-comment"]').fill('照片缺失，请补拍');
    await visit.locator('[data-testid="review-submit"]').click();
    await visit.locator('[data-testid="review-state"]').filter({ hasText: '有问题' }).waitFor();

    await visit.locator('[data-testid="review-select"]').selectOption('approved');
    await visit.locator('[data-testid="review-comment"]').fill('已补拍，核实无误');
    await visit.locator('[data-testid="review-submit"]').click();
    await visit.locator('[data-testid="review-state"]').filter({ hasText: '已通过' }).waitFor();
    const history = (await visit.locator('[data-testid="review-history"]').textContent()).replace(/\s+/g, ' ');
    assert.ok(history.includes('照片缺失，请补拍') && history.includes('已补拍，核实无误'), history);
    assert.equal(sql('select group_concat(state, \',\') from (select state from visit_reviews order by at)'), 'has_issues,approved');
    await visit.locator('[data-testid="review"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'review-approved');
  });

  test('on a desktop screen the same dashboard reads as one page', async (t) => {
    const page = await supervisor(t, { desktop: true });
    await byTestId(page, 'worker-progress').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `no sideways scrolling (${width}px wide)`);
    await screenshot(page, 'dashboard-township1-desktop');
  });
});
