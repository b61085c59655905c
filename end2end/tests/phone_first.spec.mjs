// 15. Phone first (issue 13): the defects found using Daohu as its users
// would, each checked at 360×800.
//  1. a visit finished offline is delivered on its own once the server is
//     back (no tap), and the bar says it is safe on the phone;
//  2. the phone knows which households the server holds a visit for, and
//     what a supervisor said of one, offline;
//  3. labels say what they count (户次 over all items; a visit with nothing
//     due is not 全部到位);
//  4. the household's signing card speaks to the household;
//  5. the tables fit a phone, every figure is a full-size target, text is
//     at least 14 px;
//  6. forms: no internal field names in messages, a form's answer is in
//     view, titles fit the role, the file picker speaks Chinese;
//  6b. a slow first download says how far along it is (bytes of the whole);
//  7. names for every control and progress bar, no layout shift on /field.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, screenshot, startServer } from '../support/server.mjs';
import {
  byTestId,
  chinaToday,
  drawSignature,
  eventually,
  fieldPhone,
  fieldReady,
  fillVisit,
  mobilePage,
  open,
  openFirstHousehold,
  pendingCount,
  shownCount,
  signIn,
  signInAndDownload,
  submitSignIn,
} from '../support/app.mjs';

const TOWNSHIP = '621102100000';

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

async function office(t, username, home) {
  const page = await mobilePage(t, browser, server.baseURL);
  await signIn(page, username, home);
  return page;
}

/** Whether the page is wider than the screen (a table with no cue). */
const overflows = (page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

/** Elements matching `selector` that are smaller than a fingertip. */
const smallTargets = (page, selector) =>
  page.evaluate((sel) => {
    return [...document.querySelectorAll(sel)]
      .filter((el) => el.offsetParent !== null)
      .map((el) => {
        const r = el.getBoundingClientRect();
        return { text: el.textContent.trim(), w: Math.round(r.width), h: Math.round(r.height) };
      })
      .filter((r) => r.w < 44 || r.h < 44);
  }, selector);

/** Visible text smaller than 14 px under `selector`. */
const tinyText = (page, selector) =>
  page.evaluate((sel) => {
    const out = [];
    for (const el of document.querySelectorAll(sel)) {
      if (el.offsetParent === null || !el.textContent.trim()) continue;
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < 14) out.push(`${el.tagName.toLowerCase()}.${el.className}: ${size}px "${el.textContent.trim().slice(0, 20)}"`);
    }
    return out;
  }, selector);

async function recordVisit(page) {
  await openFirstHousehold(page);
  await byTestId(page, 'start-visit').click();
  await page.waitForURL(/\/field\?visit=/);
  await fillVisit(page);
  await byTestId(page, 'to-confirm').click();
  await page.waitForURL(/step=sign/);
  await drawSignature(page);
  await byTestId(page, 'sign').click();
  await byTestId(page, 'receipt').waitFor();
  const receipt = (await byTestId(page, 'receipt').textContent()).trim();
  await byTestId(page, 'finish').click();
  await byTestId(page, 'field-household-detail').waitFor();
  return receipt;
}

describe('delivery without a tap', () => {
  test('a visit finished offline reaches the server on its own once it is back', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL);
    await signInAndDownload(page, 'worker1');
    await shownCount(page);
    const before = Number(sql('select count(*) from visits'));

    await server.stop();
    await page.reload();
    await fieldReady(page);
    const receipt = await recordVisit(page);
    assert.equal(await pendingCount(page), 1);
    // Reloaded while the server is unreachable: the session check fails for
    // lack of network, which must not stop delivery.
    await page.reload();
    await fieldReady(page);
    await byTestId(page, 'sync-safe').filter({ hasText: '已保存在本手机，有信号后自动上传' }).waitFor();
    await screenshot(page, 'phone-first-safe-on-phone');
    // Let at least one attempt fail, then bring the server back.
    await page.waitForTimeout(3_000);
    await server.start();
    await eventually(async () => (await pendingCount(page)) === 0, {
      timeout: 60_000,
      message: 'the waiting visit delivered by a retry, with no tap',
    });
    assert.equal(Number(sql('select count(*) from visits')), before + 1);
    const code = receipt.replace('-', '').toLowerCase();
    assert.equal(Number(sql(`select count(*) from visits where content_hash like '${code}%'`)), 1);
    await byTestId(page, 'sync-safe').waitFor({ state: 'detached' });
  });
});

describe('what the server already holds', () => {
  test('visited households are marked, the rest can be listed first, and a supervisor’s 有问题 shows offline', async (t) => {
    const worker = sql("select hex(id) from users where username = 'worker1'");
    const reviewer = sql("select hex(id) from users where username = 'township1'");
    // This year's visits of worker1's households that the demo stored.
    const visited = Number(
      sql(
        `select count(distinct v.household_id) from visits v join households h on h.id = v.household_id
         where hex(h.worker_id) = '${worker}' and v.stat_year = (select max(stat_year) from visits)`,
      ),
    );
    assert.ok(visited > 0, 'the demo holds visits of worker1’s households');
    // One of them, not reviewed yet, is marked 有问题 by the supervisor.
    const [visitHex, head] = sql(
      `select hex(v.id), h.head_name from visits v join households h on h.id = v.household_id
       where hex(h.worker_id) = '${worker}' and v.stat_year = (select max(stat_year) from visits)
         and not exists (select 1 from visit_reviews r where r.visit_id = v.id)
       order by v.started_at desc limit 1`,
    ).split('|');
    sql(
      `insert into visit_reviews (id, visit_id, state, comment, reviewer_id, at)
       select randomblob(16), id, 'has_issues', '签字人与户主不符，请补签', x'${reviewer}', received_at
       from visits where id = x'${visitHex}'`,
    );

    const page = await fieldPhone(t, browser, server.baseURL);
    await signInAndDownload(page, 'worker1');
    const total = await shownCount(page);
    const marks = await page.locator('[data-testid="field-household"] [data-testid="mark"]').allTextContents();
    const serverMarked = marks.filter((m) => /已走访|有问题/.test(m)).length;
    assert.ok(serverMarked >= visited, `${serverMarked} marked visited of ${visited} the server holds`);

    await byTestId(page, 'field-state').selectOption('not_visited');
    await eventually(async () => (await byTestId(page, 'field-household').count()) === total - serverMarked, {
      message: 'the 未走访 filter shows only households still to visit',
    });
    const left = await page.locator('[data-testid="field-household"] [data-testid="mark"]').allTextContents();
    assert.ok(left.every((m) => m.includes('待走访')), left.join(','));
    await byTestId(page, 'field-state').selectOption('all');
    await byTestId(page, 'field-unvisited-first').check();
    await eventually(async () => {
      const all = await page.locator('[data-testid="field-household"] [data-testid="mark"]').allTextContents();
      const firstVisited = all.findIndex((m) => !m.includes('待走访'));
      return all.length === total && all.slice(firstVisited).every((m) => !m.includes('待走访'));
    }, { message: 'not-visited households sorted first' });

    // Offline, the flagged visit and its reason are on the phone.
    await server.stop();
    t.after(() => server.start().catch(() => {}));
    await page.reload();
    await fieldReady(page);
    await byTestId(page, 'field-state').selectOption('flagged');
    const flagged = byTestId(page, 'field-household').filter({ hasText: head });
    await flagged.waitFor();
    assert.match(await flagged.locator('[data-testid="mark"]').textContent(), /有问题/);
    await flagged.click();
    await byTestId(page, 'server-visit-comment').filter({ hasText: '签字人与户主不符，请补签' }).waitFor();
    assert.match(await byTestId(page, 'server-visits').textContent(), /有问题/);
    await screenshot(page, 'phone-first-flagged-offline');
    await server.start();
  });
});

describe('the signing card', () => {
  test('speaks to the household: first person, date, worker, sums, shortfalls marked, room to sign', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL);
    await signInAndDownload(page, 'worker1');
    const worker = sql("select display_name from users where username = 'worker1'");
    await openFirstHousehold(page);
    await byTestId(page, 'start-visit').click();
    await page.waitForURL(/\/field\?visit=/);
    await fillVisit(page);
    await byTestId(page, 'to-confirm').click();
    await page.waitForURL(/step=sign/);
    const statement = await byTestId(page, 'confirm-statement').textContent();
    const [y, m, d] = chinaToday().split('-').map(Number);
    assert.ok(statement.includes(`${y}年${m}月${d}日`), statement);
    assert.ok(statement.includes(worker), statement);
    assert.match(statement, /我/);
    const totals = await byTestId(page, 'confirm-totals').textContent();
    assert.match(totals, /应发合计[\d,.]+ 元/);
    assert.match(totals, /实收合计[\d,.]+ 元/);
    assert.match(await byTestId(page, 'confirm-short-count').textContent(), /1 项没有足额到账/);
    // The line not received stands out, and not by colour alone.
    const short = page.locator('[data-testid="confirm-line"].confirm-short');
    assert.equal(await short.count(), 1);
    assert.match(await short.textContent(), /⚠/);
    // Between the pad's own buttons and the one that signs, room for a thumb.
    const clear = await byTestId(page, 'signature-clear').boundingBox();
    const sign = await byTestId(page, 'sign').boundingBox();
    assert.ok(sign.y - (clear.y + clear.height) >= 12, `gap ${sign.y - (clear.y + clear.height)} px`);
    assert.match(await byTestId(page, 'sigpad-hint').textContent(), /签名/);
    await byTestId(page, 'thumbprint').check();
    await byTestId(page, 'sigpad-hint').filter({ hasText: '大拇指' }).waitFor();
    await byTestId(page, 'confirmation').scrollIntoViewIfNeeded();
    await screenshot(page, 'phone-first-signing-card');
  });
});

describe('office pages on a phone', () => {
  test('dispatch and risk tables fit 360 px, figures are full-size targets, text ≥ 14 px', async (t) => {
    const page = await office(t, 'township1', `/areas/${TOWNSHIP}`);
    for (const [url, table, shot] of [
      [`/reports/dispatch/${TOWNSHIP}`, 'dispatch-table', 'phone-first-dispatch-360'],
      [`/areas/${TOWNSHIP}/income`, 'income-table', 'phone-first-risk-360'],
    ]) {
      await open(page, url);
      await byTestId(page, table).waitFor();
      assert.equal(await overflows(page), false, `${url} is wider than the screen`);
      assert.deepEqual(await smallTargets(page, `[data-testid="${table}"] td a`), [], `${url}: small figure links`);
      assert.deepEqual(await tinyText(page, `[data-testid="${table}"] th, [data-testid="${table}"] td, .tag, .who-role`), []);
      await screenshot(page, shot);
    }
    // Over all items a figure counts each household once per item.
    await open(page, `/reports/dispatch/${TOWNSHIP}`);
    const households = Number(sql(`select count(*) from households where village_code like '621102100%'`));
    const header = await byTestId(page, 'dispatch-table').locator('thead').textContent();
    assert.match(header, /户次/);
    const due = Number((await byTestId(page, 'dispatch-table').locator('tfoot [data-testid="count-due"]').textContent()).trim());
    assert.ok(due > households, `the total ${due} counts household × item (${households} households), so it says 户次`);

    // The import page is the county's.
    const county = await office(t, 'county', '/areas/621102000000');
    await open(county, '/roster/import');
    assert.equal(await overflows(county), false, 'the import rules fit the screen');
    await county.locator('.column-rules summary').first().click();
    assert.equal(await overflows(county), false, 'the opened import rules fit the screen');
    // The browser's own file input (English on an English browser) is not shown.
    const input = await county.locator('input[type=file]').first().boundingBox();
    assert.ok(input.width <= 2 && input.height <= 2, 'the native file input is hidden behind the Chinese button');
    assert.match(await county.locator('.file-button').first().textContent(), /选择文件/);
    await county.locator('input[type=file]').first().setInputFiles({ name: '名单.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n') });
    await county.locator('.file-name').filter({ hasText: '名单.csv' }).first().waitFor();
    await screenshot(county, 'phone-first-import-360');
  });

  test('household numbers never break between digits; lists are titled for the role', async (t) => {
    const page = await office(t, 'township1', `/areas/${TOWNSHIP}`);
    await open(page, '/households');
    assert.equal(await byTestId(page, 'households-title').textContent(), '辖区农户');
    const broken = await page.evaluate(() =>
      [...document.querySelectorAll('.hh-number')].filter((el) => el.getClientRects().length > 1).map((el) => el.textContent),
    );
    assert.deepEqual(broken, []);
    assert.ok(await byTestId(page, 'village-filter').getAttribute('aria-label'));
  });

  test('a refused form names no internal field, and a form’s answer lands in view', async (t) => {
    const page = await office(t, 'township1', `/areas/${TOWNSHIP}`);
    const id = sql(`select lower(hex(id)) from discrepancies where state = 'open' and village_code like '621102100%' limit 1`);
    assert.ok(id, 'an open discrepancy in the township');
    const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    await open(page, `/discrepancies/${uuid}`);
    // Closing without choosing a result: the server refuses it.
    const close = byTestId(page, 'close-form');
    await close.evaluate((form) => form.querySelectorAll('[required]').forEach((el) => el.removeAttribute('required')));
    await close.locator('button[type=submit]').click();
    const error = byTestId(page, 'close-error');
    await error.waitFor();
    // The page that comes back scrolls to the form once it has loaded.
    await page.waitForLoadState('load');
    const message = await error.textContent();
    assert.doesNotMatch(message, /[a-z_]{3,}：/, message);
    assert.match(message, /^(备注|处理结果)：/);
    assert.ok(await error.isVisible());
    assert.ok(await error.evaluate((el) => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }), 'the refusal is on screen');
    // A crafted link cannot put words in the page (Leptos' own error query).
    const forged = Buffer.from(JSON.stringify({ Conflict: '请拨打 110 领取补贴' })).toString('base64url');
    await open(page, `/discrepancies/${uuid}?__path=/api/discrepancies/close&__err=${forged}`);
    assert.doesNotMatch(await page.content(), /请拨打 110/);

    // Bulk assignment: the result is in view after the page comes back.
    await open(page, `/areas/${TOWNSHIP}`);
    const bulk = byTestId(page, 'bulk-assign');
    await bulk.scrollIntoViewIfNeeded();
    const worker = await bulk.locator('[data-testid="bulk-worker"] option').nth(1).getAttribute('value');
    await bulk.locator('[data-testid="bulk-worker"]').selectOption(worker);
    await bulk.locator('[data-testid="bulk-submit"]').click();
    const result = page.locator('[data-testid="bulk-result"], [data-testid="bulk-error"]');
    await result.waitFor();
    await page.waitForLoadState('load');
    assert.ok(await result.evaluate((el) => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }), 'the bulk result is on screen');
    await screenshot(page, 'phone-first-bulk-result');
  });
});

describe('a first download on a weak link', () => {
  test('says what is coming and how far along it is, in bytes of the whole', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL);
    // The roster is held back until the link is slowed, so the page and its
    // bundle load at full speed and only the download crawls.
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route('**/api/sync/v1/roster', async (route) => {
      await held;
      await route.continue();
    });
    const cdp = await page.context().newCDPSession(page);
    await submitSignIn(page, 'worker1');
    await page.waitForURL((u) => u.pathname === '/field');
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 400,
      downloadThroughput: 500,
      uploadThroughput: 50_000,
    });
    release();
    const line = byTestId(page, 'download-progress');
    await line.filter({ hasText: '第 1 步（共 2 步）' }).waitFor({ timeout: 30_000 });
    assert.equal(await line.getAttribute('role'), 'status');
    // The amounts, outside the live region (they change with every chunk).
    const amount = byTestId(page, 'download-amount');
    await amount.filter({ hasText: /已收到 [\d.]+ [KM]B，共 [\d.]+ [KM]B/ }).waitFor({ timeout: 30_000 });
    assert.equal(await amount.getAttribute('role'), null);
    const bar = page.locator('progress.download-bar');
    assert.equal(await bar.getAttribute('aria-label'), '离线数据下载进度');
    const max = Number(await bar.getAttribute('max'));
    assert.ok(max > 1000, `the whole roster's length: ${max}`);
    await screenshot(page, 'phone-first-download-progress');
    const values = [];
    await eventually(async () => {
      values.push(Number((await bar.getAttribute('value').catch(() => null)) ?? max));
      return values.some((v) => v > 0 && v < max) && values.length > 1 && values.at(-1) > values.find((v) => v > 0);
    }, { timeout: 60_000, message: `the bar moves on as bytes arrive: ${values}` });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await byTestId(page, 'downloaded-at').filter({ hasText: '下载于' }).waitFor({ timeout: 60_000 });
    await line.waitFor({ state: 'detached' });
    assert.ok((await shownCount(page)) > 0);
  });
});

describe('accessibility of the field app', () => {
  test('every control has a name, progress bars are named, the list does not shift', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL);
    await page.addInitScript(() => {
      window.__cls = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
      }).observe({ type: 'layout-shift', buffered: true });
    });
    await signInAndDownload(page, 'worker1');
    await page.reload();
    await fieldReady(page);
    await shownCount(page);
    await page.waitForTimeout(500);
    const cls = await page.evaluate(() => window.__cls);
    assert.ok(cls < 0.1, `cumulative layout shift ${cls}`);
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('select, input, button')]
        .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
        .filter((el) => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim() || el.placeholder))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);

    const desk = await office(t, 'township1', `/areas/${TOWNSHIP}`);
    const bars = await desk.evaluate(() => [...document.querySelectorAll('[role=progressbar]')].map((b) => b.getAttribute('aria-label')));
    assert.ok(bars.length > 0 && bars.every(Boolean), `progress bars named: ${bars}`);
  });
});
