// Phone benchmark: with ~300 households and 100 pending signed visits on
// the phone, how long the household list takes to open offline (server
// stopped, app from the service worker), in Chromium at 360×800.
//
//   scripts/run.sh (or LEPTOS_SITE_ROOT=target/site-release cargo leptos build --release)
//   DAOHU_BIN=target/release/daohu DAOHU_SITE_ROOT=target/site-release node end2end/bench/phone-list.mjs
//
// Reports, over repeated reloads, the time from navigation start to the
// list's first paint (`daohu:list-ready`, marked by the app), without and
// with 4× CPU throttling (a cheap Android phone).

import { launchBrowser, newMobileContext, startServer } from '../support/server.mjs';
import { installHydrationProbe, signIn, byTestId, eventually } from '../support/app.mjs';

const RUNS = Number(process.env.RUNS || 15);
const PENDING = 100;

const HOUSEHOLDS = 300;

// A bigger demo, then 300 of its households moved into one of worker1's
// villages and assigned to them: a heavy caseload for one phone.
const server = await startServer({ demoArgs: ['--households', '1200'] });
server.sql(
  `create temp table w as select u.id as id, (select village_code from households where worker_id = u.id limit 1) as village
     from users u where username = 'worker1';
   update households set worker_id = (select id from w), village_code = (select village from w)
     where id in (select id from households order by number limit ${HOUSEHOLDS});`,
);
const browser = await launchBrowser();
try {
  const context = await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  const page = await context.newPage();
  await signIn(page, 'worker1', '/field');
  await byTestId(page, 'downloaded-at').filter({ hasText: '下载于' }).waitFor({ timeout: 60_000 });
  const households = Number((await byTestId(page, 'field-count').textContent()).match(/\d+/)[0]);
  const download = (await byTestId(page, 'downloaded-at').textContent()).trim();
  if (households < HOUSEHOLDS) throw new Error(`only ${households} households on the phone`);
  await eventually(() => page.evaluate(async () => !!navigator.serviceWorker.controller && !!(await caches.match('/field'))), {
    message: 'service worker ready',
  });

  // 100 finished visits in the outbox, shaped exactly as the app stores
  // them: ~10 lines each and an 8 KB signature image.
  await page.evaluate(async (pending) => {
    const user = JSON.parse(localStorage.getItem('daohu.user')).user_id;
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('daohu');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const roster = await new Promise((resolve) => {
      const g = db.transaction('rosters').objectStore('rosters').get(user);
      g.onsuccess = () => resolve(JSON.parse(g.result.json));
    });
    const png = btoa(String.fromCharCode(...Array.from({ length: 8192 }, (_, i) => (i * 7919) % 256)));
    const tx = db.transaction(['outbox', 'outbox_summaries'], 'readwrite');
    roster.households.slice(0, pending).forEach((h, n) => {
      const id = crypto.randomUUID();
      const visit = {
        id,
        household_id: h.summary.id,
        stat_year: roster.stat_year,
        started_at: new Date().toISOString(),
        ended_at: new Date().toISOString(),
        met_with: '户主本人',
        notes: '',
        location: { Fix: { lat_e6: 35580000 + n, lon_e6: 104620000, accuracy_m: 12 } },
        lines: h.entitlements.map((e) => ({
          entitlement_id: e.id, status: 'ReceivedInFull', received_fen: e.expected,
          received_on: '2026-11-01', channel: e.channel, reason: null, reason_text: '',
        })),
        signature: {
          signer_name: h.summary.head_name, signer_relation: '户主', thumbprint: false, proxy_reason: null,
          strokes_json: JSON.stringify(Array.from({ length: 6 }, () => Array.from({ length: 40 }, (_, i) => [i * 50, i * 20, i * 16]))),
          png_base64: png, content_hash: 'ab'.repeat(32),
        },
        photo_base64: null,
      };
      const entry = { visit, queued_at: new Date().toISOString(), problem: null, conflict: false };
      tx.objectStore('outbox').put({ id, user, json: JSON.stringify(entry) });
      const summary = {
        id, household_id: h.summary.id, started_at: visit.started_at, receipt_code: 'ABAB-ABAB',
        queued_at: entry.queued_at, problem: null, conflict: false,
      };
      tx.objectStore('outbox_summaries').put({ id, user, json: JSON.stringify(summary) });
    });
    await new Promise((r) => (tx.oncomplete = r));
  }, PENDING);

  await server.stop();

  const cdp = await context.newCDPSession(page);
  const results = {};
  const phases = {};
  for (const [label, rate] of [['unthrottled', 1], ['cpu 4x slower', 4]]) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    phases[label] = { boot: [], read: [], render: [] };
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      await page.reload();
      await page.waitForFunction(() => performance.getEntriesByName('daohu:list-ready').length > 0, null, { timeout: 30_000 });
      const [start, read, t] = await page.evaluate(() =>
        ['daohu:app-start', 'daohu:store-read', 'daohu:list-ready'].map((n) => performance.getEntriesByName(n)[0].startTime),
      );
      phases[label].boot.push(start);
      phases[label].read.push(read - start);
      phases[label].render.push(t - read);
      await eventually(async () => (await byTestId(page, 'field-household').count()) === households, { message: 'all rows' });
      const shown = await byTestId(page, 'field-household').count();
      const pending = Number(await byTestId(page, 'pending-count').getAttribute('data-count'));
      if (shown !== households || pending !== PENDING) throw new Error(`shown ${shown}/${households}, pending ${pending}/${PENDING}`);
      times.push(t);
    }
    times.sort((a, b) => a - b);
    const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0);
    results[label] = {
      median: pct(50).toFixed(0),
      p90: pct(90).toFixed(0),
      max: times.at(-1).toFixed(0),
      'of which: page + wasm boot': median(phases[label].boot),
      'store read': median(phases[label].read),
      'list render': median(phases[label].render),
    };
  }
  console.log(`households on the phone: ${households}, pending signed visits: ${PENDING}, runs: ${RUNS}`);
  console.log(`download: ${download}`);
  console.log('navigation start → household list painted, offline (ms):');
  console.table(results);
} finally {
  await browser.close();
  await server.dispose();
}
