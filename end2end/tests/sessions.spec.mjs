// 4. Sessions: signing out ends the session for good; a session outlives a
// server restart.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, householdCount, installHydrationProbe, open, signIn, waitForHydration, signInToList } from '../support/app.mjs';

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

async function freshPage(t) {
  const context = await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  const page = await context.newPage();
  t.after(async () => {
    await context.close();
    assertNoPageErrors(context);
  });
  return page;
}

const sessionCookie = async (page) =>
  (await page.context().cookies()).find((c) => c.name === 'daohu_session' && c.value);

/** Opens `path` and expects to end up on /login. */
async function expectSentToLogin(page, path) {
  await page.goto(path);
  try {
    await page.waitForURL((u) => u.pathname === '/login', { timeout: 10_000 });
  } catch {
    const body = (await page.locator('body').textContent().catch(() => '')).replace(/\s+/g, ' ').slice(0, 200);
    assert.fail(`${path} signed out stays at ${page.url()} showing "${body}"`);
  }
  await waitForHydration(page);
  await byTestId(page, 'username').waitFor({ state: 'visible' });
  assert.equal(await byTestId(page, 'household-list').count(), 0);
}

describe('sessions', () => {
  test('signed out, /households sends the visitor to /login', async (t) => {
    const page = await freshPage(t);
    await expectSentToLogin(page, '/households');
  });

  test('the session cookie is HttpOnly and SameSite', async (t) => {
    const page = await freshPage(t);
    await signInToList(page, 'worker2');
    const cookie = await sessionCookie(page);
    assert.ok(cookie, 'a daohu_session cookie is set');
    assert.equal(cookie.httpOnly, true);
    assert.match(cookie.sameSite, /Lax|Strict/);
    assert.equal(await page.evaluate(() => document.cookie.includes('daohu_session')), false);
  });

  test('sign-out returns to /login, and the old session is dead', async (t) => {
    const page = await freshPage(t);
    await signInToList(page, 'worker1');
    const cookie = await sessionCookie(page);
    assert.ok(cookie, 'signed in with a session cookie');

    await byTestId(page, 'sign-out').click();
    await page.waitForURL((u) => u.pathname === '/login');
    await waitForHydration(page);
    await byTestId(page, 'username').waitFor({ state: 'visible' });
    assert.equal(await sessionCookie(page), undefined, 'the cookie is cleared');

    await expectSentToLogin(page, '/households');

    // Replaying the old cookie must not sign anyone in: the server ended it.
    await page.context().addCookies([cookie]);
    await expectSentToLogin(page, '/households');
    const res = await page.request.get('/households', { maxRedirects: 0 });
    assert.notEqual(res.status(), 200, 'the old session token no longer opens the list');
  });

  test('a signed-in session survives a server restart', async (t) => {
    const page = await freshPage(t);
    await signInToList(page, 'worker1');
    const before = await householdCount(page);
    const who = (await byTestId(page, 'who').textContent()).trim();

    await server.restart();

    await page.reload();
    await waitForHydration(page);
    assert.equal(new URL(page.url()).pathname, '/households', 'still on the list, not sent to /login');
    await byTestId(page, 'household-list').waitFor({ state: 'visible' });
    assert.equal(await householdCount(page), before);
    assert.equal((await byTestId(page, 'who').textContent()).trim(), who);

    // And still usable: a household opens.
    const href = await byTestId(page, 'household-list').locator('a').first().getAttribute('href');
    const res = await open(page, href);
    assert.equal(res.status(), 200);
    await byTestId(page, 'household').waitFor({ state: 'visible' });
    await screenshot(page, 'after-restart');
  });
});
