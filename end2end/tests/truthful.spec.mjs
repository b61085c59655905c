// 16. Truthful numbers (issue 14), at 360×800, without a line of script on
// the public pages:
//  0. a worker photographs the evidence for a line with the server
//     stopped, signs, syncs; the township sees the photo beside the line;
//     the household opens /r from that visit's QR link and disputes it;
//  1. a household opens /r from its receipt's QR link, checks what it
//     signed and disputes it; the township sees the dispute in its queue;
//  2. the township's 可疑走访 queue shows the demo's made-up-looking
//     visits with their reasons, and a decision moves one;
//  3. the county page shows the record chain's head and verifies it;
//  4. the village notice (公示) prints on A4 (screenshot of the print view).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, screenshot, startServer } from '../support/server.mjs';
import {
  byTestId,
  drawSignature,
  eventually,
  fieldPhone,
  fieldReady,
  fillVisit,
  mobilePage,
  open,
  openFirstHousehold,
  paperPhoto,
  pendingCount,
  signIn,
  signInAndDownload,
} from '../support/app.mjs';

const TOWNSHIP = '621102100000';
const COUNTY = '621102000000';

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

/** A visit of TOWNSHIP signed by a listed member: its receipt code and the
 *  member's last four ID characters. */
function aReceipt() {
  const row = server.sql(
    `SELECT v.content_hash, m.id_number FROM visits v
       JOIN households h ON h.id = v.household_id
       JOIN members m ON m.household_id = h.id AND m.name = v.signer_name
      WHERE h.village_code LIKE '${TOWNSHIP.slice(0, 9)}%' ORDER BY v.received_at LIMIT 1`,
  );
  const [hash, id] = row.split('|');
  return { code: hash.slice(0, 8).toUpperCase(), digits: id.slice(-4) };
}

describe('truthful numbers', () => {
  test('evidence photographed offline reaches the township; the household disputes from the QR link', async (t) => {
    const phone = await fieldPhone(t, browser, server.baseURL);
    await signInAndDownload(phone, 'worker1');
    await server.stop();
    await phone.reload();
    await fieldReady(phone);
    await openFirstHousehold(phone);
    await byTestId(phone, 'start-visit').click();
    await phone.waitForURL(/\/field\?visit=/);
    await fillVisit(phone);
    // A passbook page as a phone camera takes it: big, shrunk on the phone.
    const line = byTestId(phone, 'line-0');
    await line.locator('[data-testid="evidence"]').setInputFiles({
      name: 'passbook.jpg',
      mimeType: 'image/jpeg',
      buffer: await paperPhoto(phone),
    });
    await line.locator('[data-testid="evidence-preview"]').waitFor({ timeout: 20_000 });
    await line.scrollIntoViewIfNeeded();
    await screenshot(phone, 'truthful-evidence-taken');
    await byTestId(phone, 'to-confirm').click();
    await byTestId(phone, 'confirmation').waitFor();
    assert.equal((await byTestId(phone, 'confirm-evidence').textContent()).trim(), '1 张');
    await drawSignature(phone);
    await byTestId(phone, 'sign').click();
    const receipt = (await byTestId(phone, 'receipt').textContent()).trim();
    const link = await byTestId(phone, 'receipt-qr').getAttribute('data-link');
    await byTestId(phone, 'finish').click();
    await eventually(async () => (await pendingCount(phone)) === 1, { message: 'one visit pending' });
    await server.start();
    await byTestId(phone, 'sync-now').click();
    await eventually(async () => (await pendingCount(phone)) === 0, { timeout: 20_000, message: 'delivered' });

    const code = receipt.replace('-', '');
    const [household, signer, bytes] = server
      .sql(
        `SELECT lower(hex(v.household_id)), v.signer_name, length(e.photo_jpeg) FROM visits v
           JOIN line_evidence e ON e.visit_id = v.id WHERE upper(substr(v.content_hash, 1, 8)) = '${code}'`,
      )
      .split('|');
    assert.ok(Number(bytes) > 1000 && Number(bytes) <= 300 * 1024, `the photo arrived compressed (${bytes} B)`);

    // The township sees the photo beside the line it backs.
    const office = await mobilePage(t, browser, server.baseURL);
    await signIn(office, 'township1', `/areas/${TOWNSHIP}`);
    const h = household;
    await open(office, `/households/${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
    const visit = byTestId(office, 'visit').filter({ hasText: receipt });
    const photo = visit.locator('[data-testid="evidence"] img');
    await photo.scrollIntoViewIfNeeded();
    await eventually(async () => photo.evaluate((img) => img.complete && img.naturalWidth > 0), {
      message: 'the evidence photo loads',
    });
    await screenshot(office, 'truthful-evidence-seen');

    // The household, on its own phone with no script, from the QR link.
    const own = await mobilePage(t, browser, server.baseURL, { javaScriptEnabled: false });
    await own.goto(link);
    const digits = server.sql(`SELECT id_number FROM members WHERE household_id = x'${household}' AND name = '${signer}'`).slice(-4);
    await byTestId(own, 'receipt-digits').fill(digits);
    await byTestId(own, 'receipt-open').click();
    await byTestId(own, 'receipt').waitFor();
    await byTestId(own, 'dispute-not_signed').check();
    await byTestId(own, 'dispute-details').fill('凭证上的钱不是我家的');
    await byTestId(own, 'dispute-submit').click();
    await byTestId(own, 'dispute-sent').waitFor();
    await open(office, `/areas/${TOWNSHIP}/discrepancies`);
    await eventually(async () => (await office.content()).includes('凭证上的钱不是我家的'), {
      message: 'the dispute in the queue',
    });
  });

  test('a household checks its receipt from the QR link and disputes it', async (t) => {
    const { code, digits } = aReceipt();
    // The household's own phone: no session, no script needed.
    const page = await mobilePage(t, browser, server.baseURL, { javaScriptEnabled: false });
    await page.goto(`${server.baseURL}/r?c=${code}`);
    assert.equal(await byTestId(page, 'receipt-code').inputValue(), `${code.slice(0, 4)}-${code.slice(4)}`);
    await byTestId(page, 'receipt-digits').fill(digits === '0000' ? '1111' : '0000');
    await byTestId(page, 'receipt-open').click();
    await byTestId(page, 'receipt-error').waitFor();
    assert.match(await byTestId(page, 'receipt-error').textContent(), /回执码或身份证后4位不对/);
    await byTestId(page, 'receipt-digits').fill(digits);
    await byTestId(page, 'receipt-open').click();
    await byTestId(page, 'receipt').waitFor();
    assert.match(await byTestId(page, 'receipt-seal').textContent(), /记录完好/);
    assert.match(await byTestId(page, 'receipt-head').textContent(), /\*/, 'the head is masked');
    await screenshot(page, 'truthful-receipt');
    await byTestId(page, 'dispute-amount_wrong').check();
    await byTestId(page, 'dispute-details').fill('只收到一半');
    await byTestId(page, 'dispute-submit').click();
    await byTestId(page, 'dispute-sent').waitFor();
    await screenshot(page, 'truthful-dispute-sent');

    const office = await mobilePage(t, browser, server.baseURL);
    await signIn(office, 'township1', `/areas/${TOWNSHIP}`);
    await open(office, `/areas/${TOWNSHIP}/discrepancies`);
    await eventually(async () => (await office.content()).includes('只收到一半'), { message: 'the dispute in the queue' });
    assert.match(await office.content(), /群众异议/);
  });

  test('the township sees the made-up-looking visits and decides one', async (t) => {
    const page = await mobilePage(t, browser, server.baseURL);
    await signIn(page, 'township1', `/areas/${TOWNSHIP}`);
    await byTestId(page, 'signals-link').click();
    await page.waitForURL(/\/signals/);
    // The worker computes signals as visits arrive; the demo's are there.
    await eventually(
      async () => {
        await page.reload();
        return (await byTestId(page, 'signal').count()) > 0;
      },
      { timeout: 30_000, message: 'signals of the demo visits' },
    );
    const before = await byTestId(page, 'signal').count();
    const first = byTestId(page, 'signal').first();
    assert.ok((await first.locator('[data-testid="signal-detail"]').textContent()).length > 4, 'a reason in words');
    await screenshot(page, 'truthful-signals');
    await first.locator('[data-testid="signal-state"]').selectOption('needs_review');
    await first.locator('[data-testid="signal-comment"]').fill('电话回访未接通');
    await first.locator('[data-testid="signal-submit"]').click();
    await eventually(async () => (await byTestId(page, 'signal').count()) === before - 1, {
      message: 'the decided signal leaves the open queue',
    });
    await open(page, `/areas/${TOWNSHIP}/discrepancies`);
    await eventually(async () => (await page.content()).includes('电话回访未接通'), {
      message: '需复核 opened a discrepancy',
    });
  });

  test('the county page shows the chain head and verifies it', async (t) => {
    const page = await mobilePage(t, browser, server.baseURL);
    await signIn(page, 'county', `/areas/${COUNTY}`);
    const head = (await byTestId(page, 'ledger-head').textContent()).trim();
    assert.match(head, /^[0-9a-f]{64}$/);
    await byTestId(page, 'ledger-verify').click();
    await byTestId(page, 'ledger-verdict').waitFor();
    assert.match(await byTestId(page, 'ledger-verdict').textContent(), /核验通过/);
    await open(page, `/reports/dispatch/${COUNTY}`);
    assert.match(await byTestId(page, 'chain-stamp').textContent(), /数据链 621102000000 第 \d+ 条/);
  });

  test('the village notice prints on A4', async (t) => {
    const page = await mobilePage(t, browser, server.baseURL);
    await signIn(page, 'township1', `/areas/${TOWNSHIP}`);
    const village = await byTestId(page, 'notice-links').locator('a').first().getAttribute('href');
    await open(page, village);
    await byTestId(page, 'notice-phone').fill('0932-1234567');
    await byTestId(page, 'notice-save').click();
    await eventually(async () => (await byTestId(page, 'notice-period').count()) === 1, { message: 'the posting' });
    await screenshot(page, 'truthful-notice');
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.topbar').isVisible(), false, 'no app frame on paper');
    assert.equal(await byTestId(page, 'notice-post').isVisible(), false, 'no form on paper');
    assert.ok(await byTestId(page, 'notice-table').isVisible());
    await screenshot(page, 'truthful-notice-print');
  });
});
