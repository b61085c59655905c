// Page weight and Lighthouse scores of the pages a phone opens, against the
// release build (scripts/lighthouse.sh builds it and runs this):
//
//   DAOHU_BIN=target/release/daohu DAOHU_SITE_ROOT=target/site-release \
//     CHROME_PATH=/usr/bin/chromium node end2end/bench/lighthouse.mjs
//
// For /login (signed out), /field (worker1, roster on the phone), the
// township dashboard, the dispatch table and a household page (township1):
//
// 1. first load: the HTML, JS, wasm and CSS a fresh browser requests for the
//    page (HTTP cache cleared, no service worker), each fetched again with
//    `Accept-Encoding: br` and the session cookie and counted as sent;
// 2. Lighthouse mobile (simulated Slow 4G and 4× CPU, the default mobile
//    screen), RUNS times (default 3), median performance and accessibility
//    scores, LCP, TBT and CLS. Lighthouse runs in the persistent browser
//    profile the user signed in with (`disableStorageReset`), so it shares
//    cookies, IndexedDB and the service worker; each user gets a fresh
//    profile, and before every run the HTTP cache is cleared, the service
//    worker stopped and every other tab closed.
//
// Env: RUNS (3), NO_FAIL=1, ONLY=login,field,township,dispatch,household,
// SAVE_TRACES=1; CHROME_PATH (/usr/bin/chromium), DAOHU_BIN, DAOHU_SITE_ROOT.
//
// Prints a Markdown table for README › Performance, writes it with the
// details (failed audits, LCP element, long tasks) to target/lighthouse.json
// and each page's median Lighthouse report to target/lighthouse/ (with
// SAVE_TRACES=1 its trace too). Exits 1 if
// a page misses its aim (first load ≤ 350 KB for /field, ≤ 250 KB for the
// others; performance ≥ 90; accessibility ≥ 95) unless NO_FAIL=1.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import lighthouse from 'lighthouse';
import * as lhConstants from 'lighthouse/core/config/constants.js';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, freePort, launchBrowser, newMobileContext, startServer } from '../support/server.mjs';
import { byTestId, eventually, installHydrationProbe, signIn, submitSignIn } from '../support/app.mjs';

const RUNS = Math.max(1, Number(process.env.RUNS || 3));
const NO_FAIL = process.env.NO_FAIL === '1';
// SAVE_TRACES=1: also the median run's trace, target/lighthouse/<page>.trace.json (DevTools › Performance opens it).
const SAVE_TRACES = process.env.SAVE_TRACES === '1';
const CHROME = process.env.CHROME_PATH || CHROMIUM;
const TOWNSHIP = '621102100000';
const KB = 1000;

const AIMS = { fieldKB: 350, otherKB: 250, performance: 90, accessibility: 95 };

const HOME = { worker1: '/field', township1: `/areas/${TOWNSHIP}` };

// ONLY=field,dispatch: measure just these pages.
const SLUGS = ['login', 'field', 'township', 'dispatch', 'household'];
const ONLY = process.env.ONLY ? new Set(process.env.ONLY.split(',').map((x) => x.trim())) : null;
if (ONLY && [...ONLY].some((x) => !SLUGS.includes(x))) {
  throw new Error(`ONLY=${process.env.ONLY}: the pages are ${SLUGS.join(', ')}`);
}

// The demo run.sh loads: 40 % of each worker's households visited.
const server = await startServer({ demoArgs: ['--visited-percent', '40'] });

// A household of township1 with visits to review.
function visitedHousehold() {
  const hex = server.sql(
    `select lower(hex(h.id)) from households h
       where h.village_code like '${TOWNSHIP.slice(0, 9)}%'
         and exists (select 1 from visits v where v.household_id = h.id)
       order by h.number limit 1`,
  );
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`no visited household in township ${TOWNSHIP}: "${hex}"`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
let householdId;
try {
  householdId = visitedHousehold();
} catch (e) {
  await server.dispose();
  throw e;
}

const PAGES = [
  { label: '`/login`, signed out', path: '/login', user: null, slug: 'login' },
  { label: '`/field`, worker1, roster on the phone', path: '/field', user: 'worker1', slug: 'field' },
  { label: '`/areas/<township>`, township dashboard (township1)', path: `/areas/${TOWNSHIP}`, user: 'township1', slug: 'township' },
  { label: '`/reports/dispatch/<township>`, dispatch table (township1)', path: `/reports/dispatch/${TOWNSHIP}`, user: 'township1', slug: 'dispatch' },
  { label: '`/households/<id>`, household with visits (township1)', path: `/households/${householdId}`, user: 'township1', slug: 'household' },
];

const aimKB = (p) => (p.path === '/field' ? AIMS.fieldKB : AIMS.otherKB);

// ---------------------------------------------------------------------------
// First load, as brotli bytes on the wire.

/** The body of `url` as the server sends it with brotli: bytes before decoding. */
function brotliBytes(url, { cookie, accept }) {
  return new Promise((resolve, reject) => {
    const headers = { 'Accept-Encoding': 'br' };
    if (cookie) headers.Cookie = cookie;
    if (accept) headers.Accept = accept;
    const req = http.get(url, { headers }, (res) => {
      const encoding = res.headers['content-encoding'] || 'identity';
      const declared = res.headers['content-length'];
      let received = 0;
      res.on('data', (chunk) => (received += chunk.length));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${url} answered ${res.statusCode}`));
          return;
        }
        resolve({ bytes: declared !== undefined ? Number(declared) : received, received, encoding });
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

function kindOf(request) {
  const url = new URL(request.url());
  if (url.pathname.endsWith('.wasm')) return 'wasm';
  return { document: 'html', script: 'js', stylesheet: 'css' }[request.resourceType()] || null;
}

/**
 * On the first visit the field app's service worker installs: /sw.js, then
 * its precache list. `public/sw.js` takes the content-hashed `/pkg/` files
 * from the HTTP cache (the page has just downloaded them) and fetches the
 * rest afresh; those are the bytes counted. Not in the page's first load
 * (the page's own requests), reported beside it.
 */
async function serviceWorkerInstall(cookie) {
  const res = await fetch(`${server.baseURL}/sw.js`, { headers: { Cookie: cookie } });
  const text = await res.text();
  const m = text.match(/DAOHU_BUILD\s*=\s*(\{.*?\});/);
  if (!res.ok || !m) return { error: `/sw.js answered ${res.status} without a DAOHU_BUILD precache list` };
  const paths = ['/sw.js', ...JSON.parse(m[1]).precache];
  const resources = [];
  for (const p of paths) {
    const got = await brotliBytes(server.baseURL + p, { cookie });
    resources.push({ path: p, bytes: got.bytes, encoding: got.encoding, fromHttpCache: p.startsWith('/pkg/') });
  }
  return { totalBytes: resources.filter((r) => !r.fromHttpCache).reduce((t, r) => t + r.bytes, 0), resources };
}

/**
 * What a browser with nothing cached requests for `page.path`, signed in as
 * `page.user` in a fresh context (no service worker, so every request is
 * the page's own), re-fetched with brotli.
 */
async function firstLoad(browser, def) {
  const context = await newMobileContext(browser, server.baseURL, { serviceWorkers: 'block' });
  await installHydrationProbe(context);
  try {
    const page = await context.newPage();
    if (def.user) await signIn(page, def.user, HOME[def.user]);
    await page.goto('about:blank');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');
    const seen = new Map();
    const other = [];
    page.on('request', (r) => {
      const kind = kindOf(r);
      if (!kind) {
        other.push(`${r.resourceType()} ${r.url()}`);
        return;
      }
      // Only what the page asks the server for (not data: or blob: URLs).
      if (!r.url().startsWith(server.baseURL)) return;
      if (!seen.has(r.url())) seen.set(r.url(), { kind, accept: r.headers().accept });
    });
    const response = await page.goto(def.path, { waitUntil: 'load' });
    if (!response || response.status() !== 200) throw new Error(`${def.path} answered ${response?.status()} in the first-load browser`);
    if (new URL(page.url()).pathname !== def.path) throw new Error(`${def.path} ended at ${page.url()} in the first-load browser`);
    await page.waitForLoadState('networkidle', { timeout: 15_000 }).catch(() => {});
    const cookie = (await context.cookies(server.baseURL)).map((c) => `${c.name}=${c.value}`).join('; ');
    const resources = [];
    for (const [url, { kind, accept }] of seen) {
      const got = await brotliBytes(url, { cookie, accept });
      resources.push({ path: new URL(url).pathname + new URL(url).search, kind, bytes: got.bytes, encoding: got.encoding });
    }
    const byKind = { html: 0, js: 0, wasm: 0, css: 0 };
    for (const r of resources) byKind[r.kind] += r.bytes;
    const totalBytes = resources.reduce((s, r) => s + r.bytes, 0);
    const serviceWorker = def.path === '/field' ? await serviceWorkerInstall(cookie) : undefined;
    return { totalBytes, byKind, resources, notCounted: other, serviceWorker };
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------
// Lighthouse, in a persistent browser profile per user that holds the sign-in.

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The failed accessibility audits of a report, with the elements they name. */
function failedAccessibility(lhr) {
  return lhr.categories.accessibility.auditRefs
    .filter((ref) => ref.weight > 0)
    .map((ref) => lhr.audits[ref.id])
    .filter((a) => a.score !== null && a.score < 1)
    .map((a) => ({
      id: a.id,
      title: a.title,
      elements: (a.details?.items || []).map((it) => ({
        selector: it.node?.selector,
        snippet: it.node?.snippet,
        label: it.node?.nodeLabel,
        explanation: it.node?.explanation,
      })),
    }));
}

/** What made LCP and TBT what they were in a report. */
function perfDetails(lhr) {
  const a = lhr.audits;
  const lcpTables = a['largest-contentful-paint-element']?.details?.items || [];
  const lcpNode = lcpTables[0]?.items?.[0]?.node;
  const lcpPhases = (lcpTables[1]?.items || []).map((p) => ({ phase: p.phase, ms: Math.round(p.timing) }));
  const items = (id, map, n = 8) => (a[id]?.details?.items || []).slice(0, n).map(map);
  return {
    lcpElement: lcpNode ? { selector: lcpNode.selector, snippet: lcpNode.snippet, label: lcpNode.nodeLabel } : null,
    lcpPhases,
    fcpMs: Math.round(a['first-contentful-paint']?.numericValue ?? NaN),
    speedIndexMs: Math.round(a['speed-index']?.numericValue ?? NaN),
    ttiMs: Math.round(a.interactive?.numericValue ?? NaN),
    serverResponseMs: Math.round(a['server-response-time']?.numericValue ?? NaN),
    longTasks: items('long-tasks', (t) => ({ url: t.url, startMs: Math.round(t.startTime), durationMs: Math.round(t.duration) })),
    bootup: items('bootup-time', (t) => ({ url: t.url, totalMs: Math.round(t.total), scriptingMs: Math.round(t.scripting) })),
    mainThread: items('mainthread-work-breakdown', (t) => ({ group: t.groupLabel || t.group, ms: Math.round(t.duration) })),
    renderBlocking: items('render-blocking-resources', (t) => ({ url: t.url, wastedMs: Math.round(t.wastedMs) })),
    failedPerformanceAudits: lhr.categories.performance.auditRefs
      .map((ref) => a[ref.id])
      .filter((x) => x && x.score !== null && x.score < 0.9 && x.scoreDisplayMode !== 'informative' && x.scoreDisplayMode !== 'manual')
      .map((x) => ({ id: x.id, title: x.title, displayValue: x.displayValue })),
    runWarnings: lhr.runWarnings,
    screen: lhr.configSettings.screenEmulation,
  };
}

/** One Lighthouse run of `def.path`, with the profile's cookies and storage. */
async function lighthouseOnce(profile, def) {
  // No tab of the app left open, the service worker stopped (as on a phone
  // that opens the app after a while) and the HTTP cache empty.
  const blank = await blankSlate(profile);
  const cdp = await profile.context.newCDPSession(blank);
  await cdp.send('Network.clearBrowserCache');
  await cdp.send('ServiceWorker.enable').catch(() => {});
  await cdp.send('ServiceWorker.stopAllWorkers').catch(() => {});
  await cdp.detach();
  const result = await lighthouse(server.baseURL + def.path, {
    port: profile.port,
    hostname: '127.0.0.1',
    output: 'json',
    logLevel: 'error',
    onlyCategories: ['performance', 'accessibility'],
    formFactor: 'mobile',
    screenEmulation: lhConstants.screenEmulationMetrics.mobile,
    emulatedUserAgent: lhConstants.userAgents.mobile,
    throttlingMethod: 'simulate',
    throttling: lhConstants.throttling.mobileSlow4G,
    disableStorageReset: true,
  });
  const lhr = result?.lhr;
  if (!lhr) throw new Error(`Lighthouse returned nothing for ${def.path}`);
  if (lhr.runtimeError) throw new Error(`Lighthouse failed on ${def.path}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const finalPath = new URL(lhr.finalDisplayedUrl).pathname;
  if (finalPath !== new URL(server.baseURL + def.path).pathname) {
    throw new Error(`Lighthouse on ${def.path} ended at ${lhr.finalDisplayedUrl}: signed out?`);
  }
  return { lhr, trace: SAVE_TRACES ? result.artifacts?.Trace : null };
}

const ATTEMPTS = 3;

async function lighthouseRuns(profile, def) {
  const runs = [];
  let reports = [];
  for (let i = 0; i < RUNS; i++) {
    let got;
    for (let attempt = 1; !got; attempt++) {
      try {
        got = await lighthouseOnce(profile, def);
      } catch (e) {
        // Lighthouse now and then fails to record a load (NO_NAVSTART,
        // NO_FCP): run it again, a few times at most.
        if (attempt >= ATTEMPTS) throw e;
        console.error(`  lighthouse ${def.path} run ${i + 1}: ${e.message.split('\n')[0]}; again`);
      }
    }
    const { lhr, trace } = got;
    const run = {
      performance: Math.round(lhr.categories.performance.score * 100),
      accessibility: Math.round(lhr.categories.accessibility.score * 100),
      lcpMs: lhr.audits['largest-contentful-paint'].numericValue,
      tbtMs: lhr.audits['total-blocking-time'].numericValue,
      cls: lhr.audits['cumulative-layout-shift'].numericValue,
    };
    runs.push(run);
    reports.push({ run, lhr, trace });
    console.error(
      `  lighthouse ${def.path} run ${i + 1}/${RUNS}: performance ${run.performance}, accessibility ${run.accessibility}, ` +
        `LCP ${Math.round(run.lcpMs)} ms, TBT ${Math.round(run.tbtMs)} ms, CLS ${run.cls.toFixed(3)}`,
    );
  }
  const med = {
    performance: median(runs.map((r) => r.performance)),
    accessibility: median(runs.map((r) => r.accessibility)),
    lcpMs: median(runs.map((r) => r.lcpMs)),
    tbtMs: median(runs.map((r) => r.tbtMs)),
    cls: median(runs.map((r) => r.cls)),
  };
  // The run whose performance score is the median one stands for the page.
  reports.sort((x, y) => x.run.performance - y.run.performance);
  const { lhr, trace } = reports[Math.floor((reports.length - 1) / 2)];
  reports = null;
  return { runs, median: med, lhr, trace };
}

/** Opens `url` in the profile's own tab, waiting for it to have loaded. */
async function visit(page, url) {
  if (url === 'about:blank') {
    await page.goto(url);
    return;
  }
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || !res.ok()) throw new Error(`${url} answered ${res?.status()}`);
}

/**
 * Closes every tab (Lighthouse leaves its own open) and opens one blank tab:
 * no page of the app stays alive to share its renderer process, and its
 * heap, with the page Lighthouse loads next.
 */
async function blankSlate(profile) {
  const fresh = await profile.context.newPage();
  for (const p of profile.context.pages()) if (p !== fresh) await p.close().catch(() => {});
  return fresh;
}

/** Signs `user` in inside a fresh Lighthouse profile (and, for a field worker, downloads the roster). */
async function signInProfile(profile, user) {
  const control = await blankSlate(profile);
  // What the server refused on the way, for the error message.
  const refused = [];
  const onResponse = (res) => {
    if (res.status() >= 400) refused.push(`${res.status()} ${new URL(res.url()).pathname}`);
  };
  control.on('response', onResponse);
  try {
    await visit(control, '/login');
    await submitSignIn(control, user);
    await control.waitForURL((u) => u.pathname === HOME[user], { timeout: 20_000 });
    await byTestId(control, 'who').waitFor({ state: 'visible', timeout: 20_000 });
    if (user === 'worker1') {
      // The roster on the phone and the service worker in control, as after
      // the first sign-in on a real phone.
      await byTestId(control, 'downloaded-at').filter({ hasText: '下载于' }).waitFor({ timeout: 30_000 });
      await control.locator('[data-testid="field-households"] [data-testid="field-household"]').first().waitFor({ timeout: 30_000 });
      await control.evaluate(async () => {
        await navigator.serviceWorker.ready;
      });
      await eventually(
        () => control.evaluate(async () => !!navigator.serviceWorker.controller && !!(await caches.match('/field'))),
        { message: 'the service worker controlling /field with the shell cached', timeout: 30_000 },
      );
    }
  } catch (e) {
    const shown = await control
      .evaluate(() => document.body.innerText.replace(/\s+/g, ' ').slice(0, 300))
      .catch(() => '');
    throw new Error(
      `setting up ${user} on ${HOME[user]} failed: ${e.message.split('\n')[0]}; ` +
        `refused: ${refused.join(', ') || 'nothing'}; the page shows: ${shown}`,
    );
  } finally {
    control.off('response', onResponse);
  }
}

async function openProfile() {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'daohu-lighthouse-'));
  const port = await freePort();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROME,
    headless: true,
    baseURL: server.baseURL,
    viewport: { width: 360, height: 800 },
    args: [...CHROMIUM_ARGS, `--remote-debugging-port=${port}`, '--lang=zh-CN'],
  });
  return { context, port, userDataDir };
}

async function closeProfile(profile) {
  if (!profile) return;
  await profile.context.close().catch(() => {});
  await rm(profile.userDataDir, { recursive: true, force: true }).catch(() => {});
}

// ---------------------------------------------------------------------------

const fmtKB = (b) => (b / KB).toFixed(1);
const chromiumVersion = (() => {
  try {
    return execFileSync(CHROME, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return CHROME;
  }
})();
const lighthouseVersion = JSON.parse(
  readFileSync(new URL('./node_modules/lighthouse/package.json', import.meta.url), 'utf8'),
).version;
const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
};

const results = PAGES.filter((p) => !ONLY || ONLY.has(p.slug)).map((def) => ({ ...def }));
let browser;
let profile;
try {
  console.error(`first load (brotli) of ${results.length} pages…`);
  browser = await launchBrowser();
  for (const r of results) {
    try {
      r.firstLoad = await firstLoad(browser, r);
      console.error(`  ${r.path}: ${fmtKB(r.firstLoad.totalBytes)} KB (${r.firstLoad.resources.length} resources)`);
    } catch (e) {
      r.firstLoadError = e.message;
      console.error(`  ${r.path}: first load NOT MEASURED: ${e.message}`);
    }
  }
  await browser.close();
  browser = null;

  console.error(`Lighthouse ${lighthouseVersion}, ${chromiumVersion}, ${RUNS} run${RUNS === 1 ? '' : 's'} per page…`);
  const reportDir = path.join(REPO_ROOT, 'target', 'lighthouse');
  await mkdir(reportDir, { recursive: true });
  // A fresh profile for each user: nothing (cookies, storage, a service
  // worker's process) carries over from one to the next.
  for (const user of [...new Set(results.map((r) => r.user))]) {
    const group = results.filter((r) => r.user === user);
    try {
      profile = await openProfile();
      if (user) await signInProfile(profile, user);
    } catch (e) {
      for (const r of group) r.error = e.message;
      console.error(`  lighthouse ${group.map((r) => r.path).join(', ')}: NOT MEASURED: ${e.message}`);
      await closeProfile(profile);
      profile = null;
      continue;
    }
    for (const r of group) {
      try {
        const { runs, median: med, lhr, trace } = await lighthouseRuns(profile, r);
        if (trace) await writeFile(path.join(reportDir, `${r.slug}.trace.json`), JSON.stringify(trace));
        r.lighthouse = { runs, median: med };
        r.accessibilityFailures = failedAccessibility(lhr);
        r.performanceDetails = perfDetails(lhr);
        r.report = path.relative(REPO_ROOT, path.join(reportDir, `${r.slug}.report.json`));
        await writeFile(path.join(REPO_ROOT, r.report), JSON.stringify(lhr));
      } catch (e) {
        // One page that cannot be measured does not stop the others.
        r.error = e.message;
        console.error(`  lighthouse ${r.path}: NOT MEASURED: ${e.message}`);
      }
    }
    await closeProfile(profile);
    profile = null;
  }
} finally {
  await browser?.close().catch(() => {});
  await closeProfile(profile);
  await server.dispose();
}

// ---------------------------------------------------------------------------
// The table, the misses, the JSON.

const misses = [];
for (const r of results) {
  if (r.firstLoad) {
    if (r.firstLoad.totalBytes / KB > aimKB(r)) misses.push(`${r.path}: first load ${fmtKB(r.firstLoad.totalBytes)} KB > ${aimKB(r)} KB`);
  } else misses.push(`${r.path}: first load not measured (${r.firstLoadError.split('\n')[0]})`);
  if (r.lighthouse) {
    const m = r.lighthouse.median;
    if (m.performance < AIMS.performance) misses.push(`${r.path}: Lighthouse performance ${m.performance} < ${AIMS.performance}`);
    if (m.accessibility < AIMS.accessibility) misses.push(`${r.path}: accessibility ${m.accessibility} < ${AIMS.accessibility}`);
  } else misses.push(`${r.path}: Lighthouse not run (${r.error.split('\n')[0]})`);
}

const KIND_NAMES = { html: 'HTML', js: 'JS', wasm: 'wasm', css: 'CSS' };
const kinds = (fl) =>
  Object.keys(KIND_NAMES)
    .filter((k) => fl.byKind[k] > 0)
    .map((k) => `${KIND_NAMES[k]} ${fmtKB(fl.byKind[k])}`)
    .join(' + ');
const rows = results.map((r) => {
  const fl = r.firstLoad ? `**${fmtKB(r.firstLoad.totalBytes)} KB** (${kinds(r.firstLoad)})` : 'not measured';
  const m = r.lighthouse?.median;
  const lh = m
    ? `**${m.performance}** | **${m.accessibility}** | ${(m.lcpMs / 1000).toFixed(1)} s | ${Math.round(m.tbtMs)} ms | ${m.cls.toFixed(3)}`
    : 'not measured | — | — | — | —';
  return `| ${r.label} | ${fl} | ${lh} |`;
});
const table = [
  '| page | first load (brotli) | Lighthouse performance | accessibility | LCP | TBT | CLS |',
  '|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');

const commit = git('rev-parse', '--short', 'HEAD');
const dirty = git('status', '--porcelain', '--untracked-files=no');
const measuredOn = `${new Date().toISOString().slice(0, 10)}, ${commit ?? 'unknown commit'}${dirty ? ' (with uncommitted changes)' : ''}`;

console.log(table);
console.log('');
console.log(
  `First load: KB = 1,000 B, bodies as sent with \`Accept-Encoding: br\` (prebuilt .br for /pkg). Lighthouse ${lighthouseVersion} ` +
    `mobile (simulated Slow 4G, 4× CPU, ${lhConstants.screenEmulationMetrics.mobile.width}×${lhConstants.screenEmulationMetrics.mobile.height}), ` +
    `median of ${RUNS} runs, HTTP cache cleared before each, cookies/IndexedDB/service worker kept; ${chromiumVersion}; ${measuredOn}.`,
);

console.log('\n### Details\n');
for (const r of results) {
  const d = r.performanceDetails;
  console.log(`**${r.path}** (${r.user ?? 'signed out'}${r.report ? `; report: ${r.report}` : ''})`);
  if (r.firstLoad) {
    console.log(`- first load: ${r.firstLoad.resources.map((x) => `${x.path} ${x.kind} ${x.bytes} B ${x.encoding}`).join('; ')}`);
  } else console.log(`- first load NOT MEASURED: ${r.firstLoadError}`);
  const sw = r.firstLoad?.serviceWorker;
  if (sw?.error) console.log(`- service worker install: ${sw.error}`);
  else if (sw) {
    console.log(
      `- service worker install on the first visit (not in the table): **${fmtKB(sw.totalBytes)} KB** more, ` +
        `${sw.resources.map((x) => `${x.path} ${x.bytes} B`).join('; ')}`,
    );
  }
  if (!d) {
    console.log(`- Lighthouse NOT RUN: ${r.error}`);
    console.log('');
    continue;
  }
  console.log(
    `- runs: ${r.lighthouse.runs.map((x) => `${x.performance}/${x.accessibility}`).join(', ')} (performance/accessibility); ` +
      `FCP ${d.fcpMs} ms, SI ${d.speedIndexMs} ms, TTI ${d.ttiMs} ms, server response ${d.serverResponseMs} ms (median run)`,
  );
  if (d.lcpElement) console.log(`- LCP element: \`${d.lcpElement.selector}\` ${d.lcpElement.snippet}${d.lcpPhases.length ? ` — ${d.lcpPhases.map((p) => `${p.phase} ${p.ms} ms`).join(', ')}` : ''}`);
  if (d.longTasks.length) console.log(`- long tasks: ${d.longTasks.map((t) => `${t.url} ${t.durationMs} ms @${t.startMs}`).join('; ')}`);
  if (d.bootup.length) console.log(`- script time: ${d.bootup.map((t) => `${t.url} ${t.totalMs} ms (scripting ${t.scriptingMs})`).join('; ')}`);
  if (d.mainThread.length) console.log(`- main thread: ${d.mainThread.map((t) => `${t.group} ${t.ms} ms`).join(', ')}`);
  if (d.renderBlocking.length) console.log(`- render-blocking: ${d.renderBlocking.map((t) => `${t.url} ${t.wastedMs} ms`).join('; ')}`);
  if (d.failedPerformanceAudits.length) console.log(`- performance audits below 0.9: ${d.failedPerformanceAudits.map((x) => `${x.id}${x.displayValue ? ` (${x.displayValue})` : ''}`).join(', ')}`);
  for (const f of r.accessibilityFailures) {
    console.log(`- accessibility **${f.id}** (${f.title}):`);
    for (const e of f.elements) console.log(`  - \`${e.selector}\` ${e.snippet}${e.explanation ? ` — ${e.explanation.replace(/\s+/g, ' ')}` : ''}`);
  }
  if (d.runWarnings?.length) console.log(`- Lighthouse warnings: ${d.runWarnings.join(' | ')}`);
  console.log('');
}

const out = {
  measuredOn,
  commit,
  dirty: !!dirty,
  chromium: chromiumVersion,
  lighthouse: lighthouseVersion,
  runs: RUNS,
  aims: AIMS,
  table,
  misses,
  pages: results.map(({ slug, ...r }) => r),
};
await mkdir(path.join(REPO_ROOT, 'target'), { recursive: true });
await writeFile(path.join(REPO_ROOT, 'target', 'lighthouse.json'), JSON.stringify(out, null, 2) + '\n');

// README › Performance holds this table between two markers; the script
// rewrites it there (UPDATE_README=0 to leave the README alone), so the
// figures in the README are always the last run's, never typed.
if (process.env.UPDATE_README !== '0') {
  const readmePath = path.join(REPO_ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const begin = '<!-- lighthouse.sh: begin -->';
  const end = '<!-- lighthouse.sh: end -->';
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from >= 0 && to > from) {
    const sw = results.find((r) => r.firstLoad?.serviceWorker && !r.firstLoad.serviceWorker.error)?.firstLoad.serviceWorker;
    const block = [
      begin,
      table,
      '',
      `Measured ${measuredOn} by \`scripts/lighthouse.sh\`: Lighthouse ${lighthouseVersion}, mobile (simulated Slow 4G, 4× CPU), ` +
        `median of ${RUNS} runs per page, ${chromiumVersion}. First load: bodies as sent with \`Accept-Encoding: br\`, KB = 1,000 B.` +
        (sw ? ` The service worker's install on the first visit to \`/field\` adds ${fmtKB(sw.totalBytes)} KB (\`/sw.js\`, the shell, \`/qr.js\`, manifest and icons; \`public/sw.js\` takes the bundle's hashed files from the HTTP cache).` : ''),
      end,
    ].join('\n');
    await writeFile(readmePath, readme.slice(0, from) + block + readme.slice(to + end.length));
    console.error('written: README.md (Performance, between the lighthouse.sh markers)');
  }
}
console.error(`written: target/lighthouse.json, target/lighthouse/*.report.json`);

if (misses.length) {
  console.log(`Missed aims (${NO_FAIL ? 'NO_FAIL=1: not failing' : 'failing'}):`);
  for (const m of misses) console.log(`- ${m}`);
  if (!NO_FAIL) process.exitCode = 1;
} else {
  console.log('Every page meets its aims.');
}
