// 2. A field worker's household list: scope, count, search, village filter,
// and one household's page.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import {
  assertNoPageErrors,
  byTestId,
  collectAllPages,
  eventually,
  householdCount,
  householdRows,
  installHydrationProbe,
  open,
  signIn,
  toCents,
  waitForHydration,
  signInToList,
} from '../support/app.mjs';

const TOWNSHIP1_PREFIX = '621102100';

let server;
let browser;
let context;
let page;
/** Every row of worker1's list, all pages, as collected by the first test. */
let allRows;
let total;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  page = await context.newPage();
  await signInToList(page, 'worker1');
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.dispose();
});

/** Submits the search form (查询) and waits for the list that answers it. */
async function submitSearch(expectParams) {
  await page.getByRole('button', { name: '查询' }).click();
  await page.waitForURL((u) =>
    u.pathname === '/households' &&
    Object.entries(expectParams).every(([k, v]) => (u.searchParams.get(k) ?? '') === v),
  );
  await waitForHydration(page);
  await byTestId(page, 'household-count').waitFor({ state: 'visible' });
}

describe('worker household list', () => {
  afterEach(() => assertNoPageErrors(context));

  test('the count equals the households listed across all pages, all in township1', async () => {
    await open(page, '/households');
    total = await householdCount(page);
    assert.ok(total > 30, `worker1 has ${total} households: expected more than one page of 30`);
    const firstPage = await householdRows(page);
    assert.equal(firstPage.length, 30, 'page size is 30');
    await screenshot(page, 'household-list');

    allRows = await collectAllPages(page);
    assert.equal(allRows.length, total, '共 N 户 equals the number of rows over all pages');
    const ids = new Set(allRows.map((r) => r.href));
    assert.equal(ids.size, total, 'no household is listed twice across pages');

    for (const r of allRows) {
      assert.match(r.href, /^\/households\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.ok(r.name.length > 0, `row without a head name: ${r.text}`);
      assert.ok(r.number, `row without a 16-digit household number: ${r.text}`);
      assert.ok(
        r.number.startsWith(TOWNSHIP1_PREFIX),
        `household ${r.number} (${r.text}) lies outside township1`,
      );
    }

    // The pager goes back too.
    const prev = page.locator('a', { hasText: '上一页' });
    assert.ok((await prev.count()) > 0, 'the last page offers 上一页');
    assert.equal(await page.locator('a', { hasText: '下一页' }).count(), 0, 'the last page has no 下一页');
  });

  test('searching by a head name from the list finds that household', async () => {
    assert.ok(allRows, 'needs the rows of the first test');
    // A name from the second page, so the search must really query.
    const target = allRows[Math.min(35, allRows.length - 1)];
    await open(page, '/households');
    await byTestId(page, 'search').fill(target.name);
    assert.equal(await byTestId(page, 'search').inputValue(), target.name);
    await submitSearch({ q: target.name });

    const count = await householdCount(page);
    const rows = await householdRows(page);
    assert.ok(count >= 1 && count < total, `search for ${target.name} gives ${count} of ${total}`);
    assert.ok(rows.some((r) => r.href === target.href), `${target.name} (${target.number}) is found`);
    for (const r of rows) assert.ok(r.name.includes(target.name), `"${r.name}" does not match "${target.name}"`);
    const expected = allRows.filter((r) => r.name.includes(target.name)).length;
    assert.equal(count, expected, 'the search finds every listed household with that name');
    await screenshot(page, 'household-search');
  });

  test('searching by a household number prefix finds it', async () => {
    const target = allRows[allRows.length - 1];
    const prefix = target.number.slice(0, 14);
    await open(page, `/households`);
    await byTestId(page, 'search').fill(prefix);
    await submitSearch({ q: prefix });
    const rows = await householdRows(page);
    assert.ok(rows.some((r) => r.href === target.href), `number prefix ${prefix} finds ${target.number}`);
    for (const r of rows) assert.ok(r.number.startsWith(prefix), `${r.number} does not start with ${prefix}`);
  });

  test('the village filter narrows the list to one village', async () => {
    await open(page, '/households');
    const filter = byTestId(page, 'village-filter');
    await filter.waitFor({ state: 'visible' });
    const options = await filter.locator('option').evaluateAll((os) =>
      os.map((o) => ({ value: o.value, label: o.textContent.trim() })),
    );
    const villages = options.filter((o) => o.value);
    assert.ok(villages.length >= 1, `village options: ${JSON.stringify(options)}`);
    for (const v of villages) assert.match(v.value, new RegExp(`^${TOWNSHIP1_PREFIX}\\d{3}$`));

    let sum = 0;
    for (const v of villages) {
      await open(page, '/households');
      await byTestId(page, 'village-filter').selectOption(v.value);
      await submitSearch({ village: v.value });
      const count = await eventually(async () => {
        const n = await householdCount(page);
        return n < total || villages.length === 1 ? n : null;
      }, { message: `the count for ${v.label} to narrow` });
      const rows = await householdRows(page);
      assert.ok(count > 0, `${v.label} is offered but has no households`);
      for (const r of rows) {
        assert.ok(r.number.startsWith(v.value), `${r.number} is listed under ${v.label} (${v.value})`);
        assert.ok(r.sub.includes(v.label), `row "${r.text}" names its village ${v.label}`);
      }
      assert.equal(
        await byTestId(page, 'village-filter').inputValue(),
        v.value,
        'the filter keeps the chosen village',
      );
      sum += count;
      if (v === villages[0]) await screenshot(page, 'household-list-village');
    }
    if (villages.length > 1) assert.ok(sum === total, `village counts add up to ${sum}, total is ${total}`);
  });

  test('a household page shows masked ID numbers and entitlements', async () => {
    await open(page, '/households');
    const rows = await householdRows(page);
    let shown = false;
    for (const row of rows.slice(0, 5)) {
      await open(page, '/households');
      await page.locator(`[data-testid="household-list"] a[href="${row.href}"]`).click();
      await page.waitForURL((u) => u.pathname === row.href);
      await waitForHydration(page);
      const card = byTestId(page, 'household');
      await card.waitFor({ state: 'visible' });
      assert.equal((await card.locator('h1').textContent()).trim(), row.name, 'h1 is the head of household');
      assert.ok((await card.textContent()).includes(row.number), 'the card shows the household number');
      assert.match(await card.textContent(), /脱贫户|监测户/, 'the card shows the category');

      const ids = await byTestId(page, 'members').locator('[data-testid="member-id"]').allTextContents();
      assert.ok(ids.length >= 1, 'at least one member');
      for (const id of ids) assert.match(id.trim(), /^\d{6}\*{8}[\dX]{4}$/, `member ID "${id}" is masked`);

      // The full ID numbers must not reach the browser at all, not even in
      // the serialized data that hydration reads.
      const html = await page.content();
      const leaked = html.match(/(?<![\d*])\d{17}[\dX](?![\d])/g);
      assert.equal(leaked, null, `unmasked ID numbers in the page source: ${leaked}`);

      const list = byTestId(page, 'entitlements');
      if ((await list.count()) === 0) continue; // none this year: try the next household
      const items = await list.locator('li').allTextContents();
      assert.ok(items.length >= 1);
      let cents = 0;
      for (const raw of items) {
        const text = raw.replace(/\s+/g, ' ').trim();
        const m = text.match(/([\d,]+\.\d{2}) ?元/);
        assert.ok(m, `entitlement "${text}" has no amount with two decimals followed by 元`);
        assert.match(text, /\d/, 'has a date');
        assert.match(text, /一卡通|银行转账|代缴|现金|实物/, `entitlement "${text}" names a channel`);
        cents += toCents(m[1]);
      }
      const totalText = (await byTestId(page, 'expected-total').textContent()).trim();
      assert.match(totalText, /^[\d,]+\.\d{2}$/, `expected-total "${totalText}" has two decimals`);
      assert.equal(toCents(totalText), cents, 'expected-total is the sum of the entitlements');
      await screenshot(page, 'household-page');
      await page.mouse.wheel(0, 800);
      await page.waitForTimeout(200);
      await screenshot(page, 'household-page-entitlements');
      shown = true;
      break;
    }
    assert.ok(shown, 'none of the first 5 households shows entitlements');
  });
});
