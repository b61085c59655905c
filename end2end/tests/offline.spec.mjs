// 6. The offline visit: sign in and download, stop the server, reload (the
// service worker serves the app), record a visit with a finger signature,
// reload (nothing lost), start the server, sync, and find exactly one visit
// in the database; replaying the same delivery still leaves one.
// Also: an edit after signing voids the signature; a second worker on the
// same phone sees none of the first one's households or drafts.

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
  openFirstHousehold,
  pendingCount,
  shownCount,
  signInAndDownload,
} from '../support/app.mjs';

const VISITS_PATH = '/api/sync/v1/visits';

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

describe('offline visit', () => {
  test('recorded with the server stopped, delivered exactly once, replay stays one', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL);
    await signInAndDownload(page, 'worker1');
    const downloadedCount = await shownCount(page);
    assert.ok(downloadedCount > 10, `worker1's households are on the phone (${downloadedCount})`);

    await server.stop();

    // The app opens from the service worker and the phone's own store.
    await page.reload();
    await fieldReady(page);
    assert.equal(await shownCount(page), downloadedCount);
    await byTestId(page, 'field-search').fill('6211');
    await eventually(async () => (await byTestId(page, 'field-household').count()) === downloadedCount, {
      message: 'a number prefix matching every household',
    });
    await byTestId(page, 'field-search').fill('');
    await screenshot(page, 'offline-list');

    const head = await openFirstHousehold(page);
    await byTestId(page, 'start-visit').click();
    await page.waitForURL(/\/field\?visit=/);
    const lines = await fillVisit(page);
    await byTestId(page, 'location').filter({ hasText: '35.58123' }).waitFor();

    // A camera-sized photo (noise compresses badly): shrunk on the phone.
    const big = await page.evaluate(async () => {
      const c = document.createElement('canvas');
      [c.width, c.height] = [3000, 2000];
      const ctx = c.getContext('2d');
      const img = ctx.createImageData(c.width, c.height);
      for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 2654435761) >>> 24;
      ctx.putImageData(img, 0, 0);
      const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.98));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    });
    const original = Buffer.from(big, 'base64');
    assert.ok(original.length > 1_000_000, `the test photo is large (${original.length} B)`);
    await byTestId(page, 'photo').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: original });
    await byTestId(page, 'photo-preview').waitFor({ timeout: 20_000 });
    await screenshot(page, 'offline-visit-form');

    // The draft survives a reload before it is finished.
    await page.reload();
    await fieldReady(page);
    assert.equal(await byTestId(page, 'met-with').inputValue(), '户主本人');
    assert.equal(await byTestId(page, 'line-1').locator('[data-testid="reason"]').inputValue(), 'not_yet_paid_out');

    await byTestId(page, 'to-confirm').click();
    await page.waitForURL(/step=sign/);
    await byTestId(page, 'confirmation').waitFor();
    assert.match(await byTestId(page, 'confirmation').textContent(), /未到账/);
    assert.equal(await byTestId(page, 'signer-name').inputValue(), head);
    await drawSignature(page);
    await byTestId(page, 'sign').click();
    const receipt = (await byTestId(page, 'receipt').textContent()).trim();
    assert.match(receipt, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
    // The receipt's QR code, drawn offline (qr.js from the worker's cache).
    const qr = byTestId(page, 'receipt-qr');
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    assert.ok((await qr.getAttribute('data-link')).endsWith(`/r?c=${receipt.replace('-', '')}`));
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code draws');
    await screenshot(page, 'offline-signed');

    // Signed, not yet finished: the signature is kept with the draft.
    await page.reload();
    await fieldReady(page);
    assert.equal((await byTestId(page, 'receipt').textContent()).trim(), receipt);
    // Reopened at once on the signed card: the QR drawer arrives after the
    // card is drawn, and draws it then.
    await eventually(async () => /^data:image\/svg\+xml;base64,/.test((await byTestId(page, 'receipt-qr').getAttribute('src')) ?? ''), {
      message: 'the QR code drawn on the reopened signed card',
    });
    assert.ok(await byTestId(page, 'receipt-qr').evaluate((img) => img.complete && img.naturalWidth > 0));
    await byTestId(page, 'finish').click();
    await page.waitForURL((u) => u.search.startsWith('?h='));
    await eventually(async () => (await pendingCount(page)) === 1, { message: 'one visit pending' });
    await byTestId(page, 'sync-error').waitFor(); // it tried, and says why it could not
    assert.match(await byTestId(page, 'sync-error').textContent(), /无法连接服务器/);

    // The outbox survives a reload too.
    await page.reload();
    await fieldReady(page);
    assert.equal(await pendingCount(page), 1);
    assert.equal((await byTestId(page, 'receipt-code').first().textContent()).trim(), receipt);
    assert.equal(sql('select count(*) from visits'), '0');

    // Back online: deliver, and capture exactly what was sent.
    let sent = null;
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === VISITS_PATH) sent = r.postData();
    });
    await server.start();
    await byTestId(page, 'sync-now').click();
    await eventually(async () => (await pendingCount(page)) === 0, { timeout: 20_000, message: 'the outbox emptied' });
    assert.ok(sent, 'the phone posted its outbox');
    await screenshot(page, 'offline-delivered');

    const [count, hash, pngBytes, strokes, locationKind, lat] = sql(
      'select count(*), content_hash, length(signature_png), length(signature_strokes), location_kind, lat_e6 from visits',
    ).split('|');
    assert.equal(count, '1', 'exactly one visit arrived');
    assert.equal(hash.slice(0, 8).toUpperCase(), receipt.replace('-', ''), 'the receipt code is the stored hash');
    assert.ok(Number(pngBytes) > 200, `the signature image is stored (${pngBytes} bytes)`);
    assert.ok(Number(strokes) > 20, 'the strokes are stored');
    assert.equal(locationKind, 'fix');
    const photo = Number(sql('select length(photo_jpeg) from visits'));
    assert.ok(photo > 1000 && photo <= 300 * 1024, `the photo arrived compressed to ${photo} B (≤ 300 KB)`);
    assert.equal(lat, '35581230');
    assert.equal(sql('select count(*) from verification_lines'), String(lines), 'every line arrived');
    assert.equal(sql("select count(*) from verification_lines where status = 'not_received' and reason = 'not_yet_paid_out'"), '1');

    // The same outbox delivered again: acknowledged, not duplicated.
    const replay = await page.request.post(VISITS_PATH, { data: sent, headers: { 'Content-Type': 'application/json' } });
    assert.equal(replay.status(), 200);
    const results = (await replay.json()).results;
    assert.deepEqual(results.map((r) => r.outcome), ['already_stored']);
    assert.equal(results[0].receipt_code, receipt);
    assert.equal(sql('select count(*) from visits'), '1');
    assert.equal(sql('select count(*) from verification_lines'), String(lines));

    // The household page online shows it, signature and receipt code included.
    await page.goto('/field');
    await fieldReady(page);
    const mark = byTestId(page, 'field-household').first().locator('[data-testid="mark"]');
    assert.match(await mark.textContent(), new RegExp(`已上传 ${receipt}`));
  });

  test('an edit after signing voids the signature and asks for a new one', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL, { locate: false });
    await signInAndDownload(page, 'worker2');
    await openFirstHousehold(page);
    await byTestId(page, 'start-visit').click();
    await fillVisit(page);
    // Location refused: recorded as such, not an obstacle.
    await byTestId(page, 'location').filter({ hasText: '拒绝' }).waitFor();
    await byTestId(page, 'to-confirm').click();
    await byTestId(page, 'confirmation').waitFor();
    await drawSignature(page);
    await byTestId(page, 'sign').click();
    const first = (await byTestId(page, 'receipt').textContent()).trim();

    // Back to the form: the household received less than due on line 0.
    await byTestId(page, 'back-to-form').click();
    await byTestId(page, 'line-0').waitFor();
    await byTestId(page, 'line-0').locator('[data-status="received_in_part"]').click();
    const amount = byTestId(page, 'line-0').locator('[data-testid="amount"]');
    const due = Number((await amount.inputValue()) || '0');
    await amount.fill((Math.max(due, 1) / 2).toFixed(2));
    await byTestId(page, 'line-0').locator('[data-testid="reason"]').selectOption('amount_reduced');
    await byTestId(page, 'to-confirm').click();

    await byTestId(page, 'signature-voided').waitFor();
    assert.equal(await byTestId(page, 'finish').count(), 0, 'no finishing without a new signature');
    assert.match(await byTestId(page, 'confirmation').textContent(), /部分到账/);
    await screenshot(page, 'signature-voided');
    await drawSignature(page);
    await byTestId(page, 'sign').click();
    const second = (await byTestId(page, 'receipt').textContent()).trim();
    assert.notEqual(second, first, 'the new signature covers new content');
    assert.equal(await byTestId(page, 'signature-voided').count(), 0);
    await byTestId(page, 'finish').click();
    await byTestId(page, 'phone-visits').filter({ hasText: '已上传' }).waitFor({ timeout: 20_000 });
    assert.equal(await pendingCount(page), 0);
    assert.equal(sql("select count(*) from verification_lines where status = 'received_in_part' and reason = 'amount_reduced'"), '1');
    assert.equal(sql("select location_kind from visits where lat_e6 is null"), 'refused');
  });

  test('a second worker on the same phone sees nothing of the first', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL);
    await signInAndDownload(page, 'worker1');
    const hrefs = async () => {
      await shownCount(page);
      return byTestId(page, 'field-household').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    };
    const firstIds = await hrefs();
    await openFirstHousehold(page);
    await byTestId(page, 'start-visit').click();
    await byTestId(page, 'met-with').fill('配偶');
    await page.goto('/field');
    await fieldReady(page);

    // A draft is undelivered: signing out warns and keeps it.
    await byTestId(page, 'field-sign-out').click();
    await byTestId(page, 'sign-out-warning').waitFor();
    assert.match(await byTestId(page, 'sign-out-warning').textContent(), /还有 1 条走访未上传/);
    await byTestId(page, 'sign-out-anyway').click();
    await page.waitForURL((u) => u.pathname === '/login');

    await signInAndDownload(page, 'worker3');
    const ids = await hrefs();
    assert.ok(ids.length > 0);
    const stored = await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const req = indexedDB.open('daohu');
          req.onerror = () => reject(req.error);
          req.onsuccess = () => {
            const db = req.result;
            const tx = db.transaction(['drafts', 'rosters'], 'readonly');
            const drafts = tx.objectStore('drafts').getAll();
            const rosters = tx.objectStore('rosters').getAll();
            tx.oncomplete = () => resolve({ drafts: drafts.result.map((d) => d.user), rosters: rosters.result.map((r) => r.user) });
          };
        }),
    );
    // worker1's draft is still on the phone (undelivered), but not shown.
    assert.equal(stored.drafts.length, 1);
    assert.equal(stored.rosters.length, 2);
    assert.deepEqual(ids.filter((h) => firstIds.includes(h)), [], 'none of worker1\'s households is shown');
    assert.equal(await byTestId(page, 'pending-count').getAttribute('data-count'), '0');
    await screenshot(page, 'second-worker');

    // With nothing of theirs pending, signing out leaves none of worker3's data.
    await byTestId(page, 'field-sign-out').click();
    await page.waitForURL((u) => u.pathname === '/login');
    const after = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const req = indexedDB.open('daohu');
          req.onsuccess = () => {
            const tx = req.result.transaction(['rosters'], 'readonly');
            const all = tx.objectStore('rosters').getAll();
            tx.oncomplete = () => resolve(all.result.map((r) => r.user));
          };
        }),
    );
    assert.equal(after.length, 1, 'only worker1 (with an undelivered draft) keeps data on the phone');
  });
});
