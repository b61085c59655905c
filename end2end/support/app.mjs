// Page-level helpers shared by the specs: hydration-aware navigation, signing
// in, and reading the household list.
//
// The specs must pass whether or not the WASM bundle is built. When it is,
// the page is only driven after hydration has run (a hydrated `prop:value`
// would otherwise overwrite text typed into the server-rendered input).
// Whether a page hydrates is read from the page itself, so the same specs run
// against a server with or without the bundle.

import assert from 'node:assert/strict';

import { PASSWORD, newMobileContext } from './server.mjs';

const servedCache = new Map();

async function served(url) {
  if (!servedCache.has(url)) {
    let ok = false;
    try {
      const res = await fetch(url);
      ok = res.ok;
      await res.arrayBuffer();
    } catch {
      ok = false;
    }
    servedCache.set(url, ok);
  }
  return servedCache.get(url);
}

/**
 * Whether the current document will hydrate: it names a JS module and a WASM
 * file (the server writes these links only with the page's hydration
 * script) and the server actually serves both.
 */
export async function hydrationExpected(page) {
  const urls = await page.evaluate(() => {
    const js = document.querySelector('link[rel="modulepreload"]');
    const wasm = document.querySelector('link[rel="preload"][type="application/wasm"]');
    return js && wasm ? [js.href, wasm.href] : null;
  });
  if (!urls) return false;
  const [js, wasm] = [await served(urls[0]), await served(urls[1])];
  if (js !== wasm && !warnedHalfBundle) {
    warnedHalfBundle = true;
    console.warn(
      `warning: the page names ${urls[0]} (${js ? 'served' : '404'}) and ${urls[1]} ` +
        `(${wasm ? 'served' : '404'}): pages will not hydrate, testing server-rendered only. ` +
        'A server built by plain `cargo build` asks for <name>_bg.wasm, cargo-leptos writes <name>.wasm.',
    );
  }
  return js && wasm;
}

let warnedHalfBundle = false;

// Marks the moment the WASM module is instantiated; the page's loader calls
// `hydrate()` right after, so two animation frames later it has run.
const HYDRATION_PROBE = `(() => {
  window.__daohuWasm = false;
  const wrap = (name) => {
    const orig = WebAssembly[name];
    if (!orig) return;
    WebAssembly[name] = function (...args) {
      const p = orig.apply(this, args);
      p.then(() => { window.__daohuWasm = true; }, () => {});
      return p;
    };
  };
  wrap('instantiateStreaming');
  wrap('instantiate');
  // Whatever the Content-Security-Policy blocks (an inline script without
  // the nonce, an inline style, a foreign fetch) is reported here as well
  // as by the browser's own console message.
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(\`Content Security Policy violation: \${e.effectiveDirective} blocked \${e.blockedURI || 'inline'} at \${e.sourceFile}:\${e.lineNumber}\`);
  });
})();`;

const errorsByContext = new WeakMap();

/**
 * Call once per context, before opening pages: marks hydration, and records
 * uncaught page errors (a panic in the WASM app shows up as one) and every
 * Content-Security-Policy violation, which `assertNoPageErrors` then fails on.
 */
export async function installHydrationProbe(context) {
  await context.addInitScript({ content: HYDRATION_PROBE });
  const errors = [];
  errorsByContext.set(context, errors);
  const watch = (page) =>
    page.on('pageerror', (e) => {
      // Without a built bundle the loader's import of /pkg/*.js fails; the
      // specs are meant to pass server-rendered only, so that one is expected
      // (a half-served bundle is reported by hydrationExpected).
      if (/Failed to fetch dynamically imported module: .*\/pkg\//.test(e.message)) return;
      if (/failed to fetch Wasm: 404 .*\/pkg\//.test(e.message)) return;
      errors.push(`${page.url()}: ${e.message}`);
    });
  // console_error_panic_hook logs the Rust panic message before the WASM
  // `unreachable` trap: keep it, it says what went wrong.
  const watchPanics = (page) =>
    page.on('console', (m) => {
      if (m.type() === 'error' && /panicked at/.test(m.text())) errors.push(`${page.url()}: ${m.text()}`);
      // The browser's own report of a blocked script, style or fetch, and
      // the probe's; either alone fails the spec.
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) errors.push(`${page.url()}: ${m.text()}`);
    });
  for (const w of [watch, watchPanics]) {
    context.pages().forEach(w);
    context.on('page', w);
  }
}

/**
 * Throws if any page of `context` had an uncaught error or a CSP violation;
 * clears the record.
 */
export function assertNoPageErrors(context) {
  const errors = errorsByContext.get(context) || [];
  const seen = errors.splice(0);
  if (seen.length) throw new Error(`uncaught errors in the page:\n${seen.join('\n')}`);
}

/** Waits until the current document has hydrated (no-op without a bundle). */
export async function waitForHydration(page, timeout = 20_000) {
  if (!(await hydrationExpected(page))) return;
  try {
    await page.waitForFunction(() => window.__daohuWasm === true, null, { timeout });
  } catch (e) {
    throw new Error(`${page.url()} did not hydrate within ${timeout} ms although its bundle is served: ${e.message}`);
  }
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))),
  );
}

/** `page.goto` that also waits for hydration; returns the document response. */
export async function open(page, url) {
  const response = await page.goto(url, { waitUntil: 'load' });
  await waitForHydration(page);
  return response;
}

export const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

/** Polls `fn` until it returns a truthy value; returns that value. */
export async function eventually(fn, { timeout = 15_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out waiting for ${message}` + (lastError ? `: ${lastError.message}` : ''));
}

/** Fills the sign-in form and submits it (does not wait for the outcome). */
export async function submitSignIn(page, username, password = PASSWORD) {
  if (!page.url().endsWith('/login')) await open(page, '/login');
  await byTestId(page, 'username').fill(username);
  await byTestId(page, 'password').fill(password);
  await byTestId(page, 'sign-in').click();
}

/** Signs in and waits to land on `expectedPath` (the user's home). */
export async function signIn(page, username, expectedPath, password = PASSWORD) {
  await submitSignIn(page, username, password);
  await page.waitForURL((u) => u.pathname === expectedPath, { timeout: 20_000 });
  await waitForHydration(page);
  await byTestId(page, 'who').waitFor({ state: 'visible' });
}

/**
 * Signs a field worker in (they land on the offline app, /field), then
 * opens the online household list.
 */
export async function signInToList(page, username) {
  await signIn(page, username, '/field');
  await open(page, '/households');
  await byTestId(page, 'who').waitFor({ state: 'visible' });
}

/** "共 N 户" → N */
export async function householdCount(page) {
  const el = byTestId(page, 'household-count');
  await el.waitFor({ state: 'visible' });
  const text = (await el.textContent()).replace(/\s+/g, ' ').trim();
  const m = text.match(/^共 ?(\d+) ?户$/);
  if (!m) throw new Error(`household-count reads "${text}", not "共 N 户"`);
  return Number(m[1]);
}

/** The rows of the household list as shown: link, head name, village, number. */
export async function householdRows(page) {
  const list = byTestId(page, 'household-list');
  if ((await list.count()) === 0) return [];
  return list.locator('a[href^="/households/"]').evaluateAll((links) =>
    links.map((a) => {
      const title = a.querySelector('.row-name') || a.querySelector('.row-title');
      const sub = a.querySelector('.row-sub');
      const text = a.textContent.replace(/\s+/g, ' ').trim();
      const number = (text.match(/(?<!\d)\d{16}(?!\d)/) || [null])[0];
      return {
        href: a.getAttribute('href'),
        name: (title ? title.textContent : '').trim(),
        sub: (sub ? sub.textContent : '').replace(/\s+/g, ' ').trim(),
        number,
        text,
      };
    }),
  );
}

/** The first row's link, to tell one page of the list from the next. */
async function firstHref(page) {
  const rows = await householdRows(page);
  return rows.length ? rows[0].href : null;
}

/**
 * Walks the list from the current page through every 下一页 link, clicking
 * it like a user, and returns all rows seen.
 */
export async function collectAllPages(page, { maxPages = 50 } = {}) {
  const all = [];
  for (let n = 0; n < maxPages; n++) {
    await byTestId(page, 'household-count').waitFor({ state: 'visible' });
    const rows = await householdRows(page);
    all.push(...rows);
    const next = page.locator('a', { hasText: '下一页' });
    if ((await next.count()) === 0) return all;
    const href = await next.first().getAttribute('href');
    const before = rows.length ? rows[0].href : null;
    await next.first().click();
    await page.waitForURL((u) => u.pathname + u.search === href || u.href.endsWith(href));
    await eventually(async () => (await firstHref(page)) !== before, { message: `page ${href} to render` });
    await waitForHydration(page);
  }
  throw new Error(`more than ${maxPages} pages`);
}

/** "1,234.50" → 123450 (cents), exact. */
export function toCents(text) {
  const m = text.replace(/,/g, '').match(/^(\d+)\.(\d{2})$/);
  if (!m) throw new Error(`not an amount with two decimals: "${text}"`);
  return Number(m[1]) * 100 + Number(m[2]);
}

// The field app (/field): shared by the offline specs.

/** Where the phones of the field specs stand (Anding district). */
export const FIELD_POSITION = { latitude: 35.58123, longitude: 104.62345, accuracy: 15 };

/**
 * A phone for test `t`, closed (and checked for page errors) after it;
 * `locate: false` is a phone whose user refused location access.
 */
export async function fieldPhone(t, browser, baseURL, { locate = true } = {}) {
  return mobilePage(t, browser, baseURL, locate ? { permissions: ['geolocation'], geolocation: FIELD_POSITION } : {});
}

/**
 * A fresh phone (360×800 context) for test `t`, with the hydration probe;
 * closed and checked for page errors after it. `extra`: context options.
 */
export async function mobilePage(t, browser, baseURL, extra = {}) {
  const context = await newMobileContext(browser, baseURL, extra);
  await installHydrationProbe(context);
  const page = await context.newPage();
  t.after(async () => {
    await context.close();
    assertNoPageErrors(context);
  });
  return page;
}

/** Waits for the app to have hydrated and opened the phone's store. */
export async function fieldReady(page) {
  await page.waitForFunction(() => window.__daohuWasm === true, null, { timeout: 20_000 });
  await byTestId(page, 'sync-bar').waitFor({ timeout: 20_000 });
}

/** Signs in and waits until the roster is on the phone and the worker runs. */
export async function signInAndDownload(page, username) {
  await signIn(page, username, '/field');
  await byTestId(page, 'downloaded-at').filter({ hasText: '下载于' }).waitFor({ timeout: 20_000 });
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await eventually(() => page.evaluate(async () => !!navigator.serviceWorker.controller && !!(await caches.match('/field'))), {
    message: 'the service worker controlling the page with the shell cached',
  });
}

/** How many visits the phone says are waiting to be delivered. */
export const pendingCount = async (page) => Number(await byTestId(page, 'pending-count').getAttribute('data-count'));

/** Today in China, YYYY-MM-DD (a date inside the current statistics year). */
export const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

/** Answers every expected payment: in full, not received, then not due. */
export async function fillVisit(page) {
  await byTestId(page, 'met-with').fill('户主本人');
  const lines = await page.locator('[data-testid^="line-"]').count();
  assert.ok(lines >= 2, `the household has ${lines} expected payments`);
  for (let i = 0; i < lines; i++) {
    const line = byTestId(page, `line-${i}`);
    if (i === 0) {
      await line.locator('[data-status="received_in_full"]').click();
      await line.locator('[data-testid="received-on"]').fill(chinaToday());
    } else if (i === 1) {
      await line.locator('[data-status="not_received"]').click();
      await line.locator('[data-testid="reason"]').selectOption('not_yet_paid_out');
    } else {
      await line.locator('[data-status="not_due_yet"]').click();
    }
  }
  return lines;
}

/** Draws a two-stroke signature with pointer moves. */
export async function drawSignature(page) {
  const pad = byTestId(page, 'signature-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const stroke = async (points) => {
    await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
    await page.mouse.down();
    for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 4 });
    await page.mouse.up();
  };
  await stroke([[30, 120], [60, 60], [90, 140], [120, 70], [150, 130]]);
  await stroke([[180, 90], [230, 95], [280, 100]]);
}

export async function openFirstHousehold(page, index = 0) {
  const row = byTestId(page, 'field-household').nth(index);
  const name = (await row.locator('.row-title').textContent()).trim();
  await row.click();
  await byTestId(page, 'field-household-detail').waitFor();
  return name;
}

/** "共 N 户", once every row is on the page (the first screenful paints first). */
export async function shownCount(page) {
  const n = Number((await byTestId(page, 'field-count').textContent()).match(/\d+/)[0]);
  await eventually(async () => (await byTestId(page, 'field-household').count()) === n, { message: `${n} rows shown` });
  return n;
}

/**
 * A photo of a paper record as a phone camera takes it (`width`×`height`,
 * JPEG at high quality), drawn in the page: the bytes to hand to a file input.
 */
export async function paperPhoto(page, width = 2400, height = 1800) {
  const b64 = await page.evaluate(
    async ([w, h]) => {
      const c = document.createElement('canvas');
      [c.width, c.height] = [w, h];
      const g = c.getContext('2d');
      g.fillStyle = '#f4f0e4';
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#222';
      g.font = `${Math.round(h / 19)}px sans-serif`;
      for (let y = h / 9; y < h; y += h / 11) g.fillText('2026-05-12 补贴 +1250.00', w / 30, y);
      const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.95));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    [width, height],
  );
  return Buffer.from(b64, 'base64');
}
