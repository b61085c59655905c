// 16. The weekly report (issue 15): the county submits its week on a phone
// (360×800), the city returns it with a comment at a desk (1280×800), the
// county submits again, the city accepts and submits its own; a visit of
// the week delivered after the submission shows under 报送后的变化 with a
// link to its household.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, screenshot, startServer } from '../support/server.mjs';
import { byTestId, mobilePage, open, signIn } from '../support/app.mjs';

const COUNTY = '621102000000';
const CITY = '621100000000';

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

async function desk(t, username, home) {
  const context = await browser.newContext({ baseURL: server.baseURL, viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  t.after(() => context.close());
  const page = await context.newPage();
  await signIn(page, username, home);
  return page;
}

async function submitWeek(page, remark) {
  const form = byTestId(page, 'weekly-submit');
  await form.waitFor();
  if (remark) await form.locator('textarea').first().fill(remark);
  await byTestId(page, 'contact-name').fill('王联络');
  await byTestId(page, 'contact-phone').fill('0932-8211234');
  await byTestId(page, 'weekly-submit-button').click();
  await byTestId(page, 'weekly-submitted').waitFor();
}

describe('weekly report', () => {
  test('county submits, city returns, county resubmits, city accepts and submits; a late visit shows', async (t) => {
    const county = await mobilePage(t, browser, server.baseURL);
    await signIn(county, 'county', `/areas/${COUNTY}`);
    await open(county, `/reports/dispatch/${COUNTY}`);
    await byTestId(county, 'weekly-link').click();
    await county.waitForURL(new RegExp(`/reports/weekly/${COUNTY}$`));
    // The hint for each item short says how many and why.
    assert.ok((await byTestId(county, 'remark-hint').count()) > 0, 'the demo has shortfalls to explain');
    await screenshot(county, 'weekly-county-form-360');
    await submitWeek(county, '尚未发放的月底前补发');
    await byTestId(county, 'weekly-version').locator('.remark').filter({ hasText: /：?尚未发放的月底前补发$/ }).waitFor();
    const version = byTestId(county, 'weekly-version');
    await version.first().waitFor();
    assert.equal(await version.first().getAttribute('data-state'), 'submitted');
    assert.match(await byTestId(county, 'weekly-blocked').textContent(), /等待上级审核/);
    await screenshot(county, 'weekly-county-submitted-360');

    const city = await desk(t, 'city', `/areas/${CITY}`);
    await open(city, `/reports/weekly/${CITY}`);
    const row = city.locator(`[data-testid="weekly-child"][data-area="${COUNTY}"]`);
    await row.waitFor();
    assert.match(await row.locator('[data-testid="child-state"]').textContent(), /待审核/);
    assert.match(await byTestId(city, 'weekly-blocked').textContent(), /安定区/);
    await row.locator('[data-testid="review-comment-input"]').fill('请核实部分到户的原因');
    await row.locator('[data-testid="weekly-return"]').click();
    await city.locator(`[data-testid="weekly-child"][data-area="${COUNTY}"] [data-testid="child-state"]`).filter({ hasText: '已退回' }).waitFor();
    await screenshot(city, 'weekly-city-returned-1280');

    await open(county, `/reports/weekly/${COUNTY}`);
    await byTestId(county, 'review-comment').filter({ hasText: '请核实部分到户的原因' }).waitFor();
    await submitWeek(county);
    await byTestId(county, 'weekly-version').nth(1).waitFor();
    assert.equal(await byTestId(county, 'weekly-version').first().getAttribute('data-state'), 'submitted');

    await open(city, `/reports/weekly/${CITY}`);
    await row.locator('[data-testid="weekly-accept"]').click();
    await city.locator(`[data-testid="weekly-child"][data-area="${COUNTY}"] [data-testid="child-state"]`).filter({ hasText: '已通过' }).waitFor();
    await submitWeek(city);
    assert.equal(await byTestId(city, 'weekly-version').first().getAttribute('data-state'), 'submitted');
    // The city's submitted figures are the county's accepted ones.
    const total = (await byTestId(city, 'submitted-total').textContent()).trim();
    assert.match(total, /足额 \d+ · 部分 \d+ · 未到 \d+/);

    // The submitted .xlsx downloads.
    const [download] = await Promise.all([county.waitForEvent('download'), byTestId(county, 'weekly-xlsx').first().click()]);
    assert.match(download.suggestedFilename(), /^安定区每周报送-截至\d{4}-\d{2}-\d{2}-第2版\.xlsx$/);

    // A visit of the week that reaches the server only now (its delivery
    // time moved past the submission, as a phone out of signal does).
    const visit = server.sql(`select lower(hex(id)) from visits order by started_at limit 1`).trim();
    server.sql(`update visits set received_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '+1 minute') where lower(hex(id)) = '${visit}'`);
    await open(county, `/reports/weekly/${COUNTY}`);
    const late = byTestId(county, 'weekly-late-visit');
    await late.first().waitFor();
    await screenshot(county, 'weekly-late-visit-360');
    const household = await late.first().locator('a').getAttribute('href');
    assert.match(household, /^\/households\/[0-9a-f-]{36}$/);
    const res = await open(county, household);
    assert.equal(res.status(), 200);
  });
});
