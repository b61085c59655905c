// 17. Reconciliation against a payout file (三方比对, issue 15): a county
// office on a phone (360×800) imports a department's payout list that
// pays a household the visit found had received nothing; the import's
// page leads to the three-way match, whose 已发未收 figure lists that
// household, which leads to its discrepancy item; the table at a desk
// (1280×800).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, installHydrationProbe, open, signIn } from '../support/app.mjs';

const COUNTY = '621102000000';
// The template's columns; the file uploaded leaves the optional 统计年度 out.
const TEMPLATE = '户编号,身份证号,补贴项目,发放金额（元）,发放日期,统计年度,发放部门,收款账号';
const HEADER = '户编号,身份证号,补贴项目,发放金额（元）,发放日期,发放部门,收款账号';

let server;
let browser;
let dir;

before(async () => {
  server = await startServer({ demoArgs: ['--visited-percent', '40'] });
  browser = await launchBrowser();
  dir = await mkdtemp(path.join(os.tmpdir(), 'daohu-recon-'));
});

after(async () => {
  await browser?.close();
  await server?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `2190.00` as a pattern that also matches the pages' grouped `2,190.00`. */
function amountPattern(yuan) {
  const [whole, cents] = yuan.split('.');
  return `${whole.replace(/\B(?=(\d{3})+$)/g, ',?')}\\.${cents}`;
}

/** A payment whose latest verification found nothing received: household
 * number, item name, amount due in yuan, a pay day no later than today. */
function notReceived() {
  const row = server.sql(`
    select h.number, i.name, printf('%.2f', e.expected_fen / 100.0),
           min(e.expected_date, date('now', '+8 hours'))
    from verification_lines l
    join visits v on v.id = l.visit_id
    join entitlements e on e.id = l.entitlement_id
    join households h on h.id = e.household_id
    join subsidy_items i on i.code = e.item_code
    where l.status = 'not_received'
      and not exists (select 1 from verification_lines l2 join visits v2 on v2.id = l2.visit_id
                      where l2.entitlement_id = l.entitlement_id and v2.started_at > v.started_at)
    order by v.started_at desc limit 1`).trim();
  assert.ok(row, 'the demo has a payment found not received');
  return row.split('|');
}

describe('reconciliation', () => {
  test('a payout file shows a household paid but not received, which leads to its discrepancy', async (t) => {
    const context = await newMobileContext(browser, server.baseURL, { acceptDownloads: true });
    await installHydrationProbe(context);
    const page = await context.newPage();
    t.after(async () => {
      await context.close();
      assertNoPageErrors(context);
    });
    await signIn(page, 'county', `/areas/${COUNTY}`);
    await byTestId(page, 'reconciliation-link').click();
    await page.waitForURL(new RegExp(`/reconciliation/${COUNTY}$`));
    await byTestId(page, 'recon-scopes').getByText('本年度还没有导入').waitFor();

    // The template's header is the file's.
    await byTestId(page, 'recon-import').click();
    await page.waitForURL('**/roster/import');
    const form = byTestId(page, 'import-payouts');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      form.getByRole('link', { name: 'CSV 模板' }).click(),
    ]);
    assert.equal((await readFile(await download.path(), 'utf8')).replace(/^\uFEFF/, '').trim(), TEMPLATE);

    const [number, item, yuan, day] = notReceived();
    const file = path.join(dir, '一卡通发放名单.csv');
    // The household's payment, and a payee who is not on the roster.
    await writeFile(file, `${HEADER}\n${number},,${item},${yuan},${day},县民政局,6228********1234\n,11010519491231002X,${item},${yuan},${day},县民政局,\n`);
    await form.locator('input[type="file"]').setInputFiles(file);
    await Promise.all([page.waitForURL(/\/roster\/import\/[0-9a-f-]{36}$/), form.locator('button[type="submit"]').click()]);
    await byTestId(page, 'import-reconciliation').waitFor({ timeout: 30_000 });
    assert.equal(Number((await byTestId(page, 'import-added').textContent()).trim()), 1);
    assert.match(await byTestId(page, 'import-skipped').textContent(), /1\s*行/);
    await screenshot(page, 'recon-import-done-360');

    await byTestId(page, 'import-reconciliation').click();
    await page.waitForURL(new RegExp(`/reconciliation/${COUNTY}$`));
    const serious = byTestId(page, 'recon-by-item').locator('tfoot [data-testid="recon-paid_not_received"] a');
    assert.equal((await serious.textContent()).trim(), '1');
    await screenshot(page, 'recon-table-360');
    // Nothing on the phone is wider than the screen but the table's own scroller.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page overflows by ${overflow}px`);
    const box = await serious.boundingBox();
    assert.ok(box.height >= 44 && box.width >= 44, `the figure is a ${box.width}×${box.height} target`);

    await serious.click();
    await page.waitForURL(/outcome=paid_not_received/);
    const row = byTestId(page, 'recon-row');
    assert.equal(await row.count(), 1);
    assert.match(await row.textContent(), new RegExp(number));
    assert.match(await row.locator('[data-testid="recon-amounts"]').textContent(), new RegExp(`部门发放 ${amountPattern(yuan)}`));
    await screenshot(page, 'recon-list-360');
    await row.locator('[data-testid="recon-discrepancy"]').click();
    await page.waitForURL(/\/discrepancies\/[0-9a-f-]{36}$/);
    assert.equal((await byTestId(page, 'kind').textContent()).trim(), '已发未收');
    assert.match(await byTestId(page, 'paid').textContent(), new RegExp(amountPattern(yuan)));
    await screenshot(page, 'recon-discrepancy-360');

    // The township's queue has it too.
    const township = server.sql(`select substr(h.village_code, 1, 9) || '000' from households h where h.number = '${number}'`).trim();
    await open(page, `/areas/${township}/discrepancies`);
    await page.locator('[data-testid="discrepancy"]').filter({ hasText: '已发未收' }).first().waitFor();

    // At a desk the whole table is seen at once.
    const desk = await browser.newContext({ baseURL: server.baseURL, viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    t.after(() => desk.close());
    const office = await desk.newPage();
    await signIn(office, 'county', `/areas/${COUNTY}`);
    await open(office, `/reconciliation/${COUNTY}`);
    await byTestId(office, 'recon-by-area').waitFor();
    await screenshot(office, 'recon-table-1280');
  });
});
