// 10. The browser's side of the security headers: the page's policy names
// the nonce its scripts carry, a fresh one per load; what the policy forbids
// (an injected inline script or style, being framed by another site) is
// blocked, and the injected code is caught by the shared CSP watcher; a form
// on another site can neither sign anyone in nor sign anyone out.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, PASSWORD, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, installHydrationProbe, open, signIn } from '../support/app.mjs';

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

/** Another site, served by the test itself. */
const EVIL = 'http://evil.test';

async function freshContext(t) {
  const context = await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  t.after(async () => {
    await context.close();
    assertNoPageErrors(context);
  });
  return context;
}

/** Serves `pages` (path → HTML) as pages of `${EVIL}` in `context`. */
async function evilSite(context, pages) {
  await context.route(`${EVIL}/**`, (route) => {
    const html = pages[new URL(route.request().url()).pathname];
    if (html === undefined) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: `<!doctype html><meta charset="utf-8">${html}` });
  });
  return context.newPage();
}

const sessionCookies = async (context) => (await context.cookies(server.baseURL)).filter((c) => c.name === 'daohu_session');

describe('edge', () => {
  test('every load has its own nonce, the one its policy names, and the page hydrates under it', async (t) => {
    const context = await freshContext(t);
    const page = await context.newPage();
    const nonces = [];
    for (let i = 0; i < 2; i++) {
      const res = await open(page, '/login');
      const csp = res.headers()['content-security-policy'];
      assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9_-]{22,}' 'wasm-unsafe-eval'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      const nonce = csp.match(/'nonce-([^']+)'/)[1];
      // The DOM hides a nonce's attribute but keeps the property.
      const onScripts = await page.evaluate(() => [...document.scripts].map((s) => s.nonce));
      assert.ok(onScripts.length > 0);
      assert.deepEqual([...new Set(onScripts)], [nonce], 'every script carries the policy nonce');
      nonces.push(nonce);
    }
    assert.notEqual(nonces[0], nonces[1]);
    // Hydrated: the form signs in through the wasm client.
    await signIn(page, 'county', '/areas/621102000000');
  });

  test('an injected inline script or style is blocked and the watcher reports it', async (t) => {
    const context = await newMobileContext(browser, server.baseURL);
    await installHydrationProbe(context);
    t.after(() => context.close());
    const page = await context.newPage();
    await open(page, '/login');
    assertNoPageErrors(context);
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true;';
      document.head.appendChild(s);
      const p = document.createElement('p');
      p.setAttribute('style', 'color: rgb(255, 0, 0)');
      document.body.appendChild(p);
      await new Promise((r) => setTimeout(r, 200));
      return { script: window.__injected === true, style: getComputedStyle(p).color === 'rgb(255, 0, 0)' };
    });
    assert.deepEqual(ran, { script: false, style: false }, 'neither ran');
    assert.throws(() => assertNoPageErrors(context), /Content Security Policy[\s\S]*script-src[\s\S]*style-src|Content Security Policy[\s\S]*style-src[\s\S]*script-src/);
  });

  test('another site cannot frame a page', async (t) => {
    const context = await newMobileContext(browser, server.baseURL);
    await installHydrationProbe(context);
    t.after(() => context.close());
    const page = await evilSite(context, { '/': `<iframe src="${server.baseURL}/login" width="300" height="300"></iframe>` });
    await page.goto(`${EVIL}/`);
    await page.waitForTimeout(500);
    const frame = page.frames().find((f) => f.url().startsWith(server.baseURL));
    const shown = frame ? await frame.locator('[data-testid="username"]').count().catch(() => 0) : 0;
    // The refusal is logged in the blocked frame's console, not the
    // page's, so the watcher does not see it (nor should it fail on it).
    assert.equal(shown, 0, 'the sign-in form is not shown inside the other site');
  });

  test('a form on another site signs no one in and signs no one out', async (t) => {
    const context = await freshContext(t);
    const page = await evilSite(context, {
      // Login CSRF: the attacker's own account, posted from their page.
      '/in': `<form method="post" action="${server.baseURL}/api/auth/sign_in">
         <input name="username" value="worker1"><input name="password" value="${PASSWORD}">
         <button id="go">go</button></form>`,
      '/out': `<form method="post" action="${server.baseURL}/api/auth/sign_out"><button id="go">go</button></form>`,
    });
    const submit = async (path) => {
      await page.goto(`${EVIL}${path}`);
      const [res] = await Promise.all([page.waitForNavigation(), page.click('#go')]);
      return res;
    };
    const res = await submit('/in');
    assert.equal(res.status(), 403);
    assert.match(await page.textContent('body'), /跨站请求已拒绝/);
    assert.deepEqual(await sessionCookies(context), [], 'no session cookie');

    // Signed in on the site, the user's browser posts the sign-out from the
    // other site: the session stays.
    const own = await context.newPage();
    await signIn(own, 'county', '/areas/621102000000');
    assert.equal((await sessionCookies(context)).length, 1);
    assert.equal((await submit('/out')).status(), 403);
    await open(own, '/areas/621102000000');
    await byTestId(own, 'who').waitFor({ state: 'visible' });
  });

  test("the site's own sign-in form posts without JavaScript", async (t) => {
    const context = await newMobileContext(browser, server.baseURL, { javaScriptEnabled: false });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto('/login');
    await byTestId(page, 'username').fill('county');
    await byTestId(page, 'password').fill(PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === '/areas/621102000000'), byTestId(page, 'sign-in').click()]);
    assert.equal((await sessionCookies(context)).length, 1);
  });
});
