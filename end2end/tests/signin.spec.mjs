// 1. Signing in: each role lands on its own home; a wrong password does not.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import {
  assertNoPageErrors,
  byTestId,
  householdCount,
  householdRows,
  installHydrationProbe,
  open,
  signIn,
  submitSignIn,
  waitForHydration,
  signInToList,
  eventually,
} from '../support/app.mjs';

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

/** A fresh context per user, so no session leaks between tests. */
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

async function whoText(page) {
  return (await byTestId(page, 'who').textContent()).replace(/\s+/g, ' ').trim();
}

/** The child-area rows: name, household count, link. */
async function childAreas(page) {
  const list = byTestId(page, 'child-areas');
  await list.waitFor({ state: 'visible' });
  return list.locator('li').evaluateAll((items) =>
    items.map((li) => {
      const a = li.querySelector('a');
      const text = li.textContent.replace(/\s+/g, ' ').trim();
      const count = li.querySelector('.row-count');
      const m = (count ? count.textContent : text).match(/(\d+)\s*户/);
      return { href: a && a.getAttribute('href'), text, households: m ? Number(m[1]) : NaN };
    }),
  );
}

async function totalHouseholds(page) {
  const text = (await byTestId(page, 'total-households').textContent()).trim();
  assert.match(text, /^\d+$/, `total-households reads "${text}"`);
  return Number(text);
}

describe('sign-in', () => {
  test('the login page is shown to a signed-out visitor', async (t) => {
    const page = await freshPage(t);
    const res = await open(page, '/login');
    assert.equal(res.status(), 200);
    await byTestId(page, 'username').waitFor({ state: 'visible' });
    await byTestId(page, 'password').waitFor({ state: 'visible' });
    assert.equal(await byTestId(page, 'password').getAttribute('type'), 'password');
    assert.equal(await byTestId(page, 'login-error').count(), 0, 'no error before any attempt');
    await screenshot(page, 'login');
  });

  test('a field worker lands on the offline app, which downloads their households', async (t) => {
    const page = await freshPage(t);
    await signIn(page, 'worker1', '/field');
    assert.match(await whoText(page), /帮扶干部/);
    await byTestId(page, 'downloaded-at').filter({ hasText: '下载于' }).waitFor();
    const offline = Number((await byTestId(page, 'field-count').textContent()).match(/\d+/)[0]);
    await eventually(async () => (await byTestId(page, 'field-household').count()) === offline, { message: 'every row shown' });
    await open(page, '/households');
    assert.equal(await householdCount(page), offline, 'the phone holds exactly the assigned households');
    await screenshot(page, 'field-landing-worker1');
  });

  test('a field worker\'s online list pages through their households', async (t) => {
    const page = await freshPage(t);
    await signInToList(page, 'worker1');
    assert.match(await whoText(page), /帮扶干部/);
    const count = await householdCount(page);
    assert.ok(count > 0, `worker1 should have households, count is ${count}`);
    const rows = await householdRows(page);
    assert.ok(rows.length > 0 && rows.length <= 30, `first page shows ${rows.length} rows`);
    assert.equal(rows.length, Math.min(count, 30));
    await screenshot(page, 'landing-worker1');
  });

  test('a township supervisor lands on their township with its 3 villages', async (t) => {
    const page = await freshPage(t);
    await signIn(page, 'township1', '/areas/621102100000');
    assert.match(await whoText(page), /乡镇督导/);
    const total = await totalHouseholds(page);
    assert.ok(total > 0, `total households ${total}`);
    const villages = await childAreas(page);
    assert.equal(villages.length, 3, `villages: ${JSON.stringify(villages)}`);
    for (const v of villages) {
      assert.match(v.href, /^\/households\?village=621102100\d{3}$/, `village link ${v.href}`);
      assert.ok(v.households > 0, `village row "${v.text}" shows a household count`);
    }
    const sum = villages.reduce((s, v) => s + v.households, 0);
    assert.equal(sum, total, 'the villages add up to the township total');
    await screenshot(page, 'landing-township1');
  });

  test('the county administrator lands on the county with its 2 townships', async (t) => {
    const page = await freshPage(t);
    await signIn(page, 'county', '/areas/621102000000');
    const who = await whoText(page);
    assert.match(who, /县级管理员/);
    assert.match(who, /安定区/);
    const total = await totalHouseholds(page);
    assert.equal(total, 300, 'the demo county holds 300 households');
    const townships = await childAreas(page);
    assert.equal(townships.length, 2, `townships: ${JSON.stringify(townships)}`);
    const hrefs = townships.map((r) => r.href).sort();
    assert.deepEqual(hrefs, ['/areas/621102100000', '/areas/621102201000']);
    assert.equal(
      townships.reduce((s, r) => s + r.households, 0),
      total,
      'the townships add up to the county total',
    );
    await screenshot(page, 'landing-county');
  });

  test('a wrong password shows an error and stays on /login', async (t) => {
    const page = await freshPage(t);
    await open(page, '/login');
    await submitSignIn(page, 'worker1', 'not-the-password');
    const error = byTestId(page, 'login-error');
    // Whichever comes first: the error on the login page, or leaving it.
    await Promise.race([
      error.waitFor({ state: 'visible', timeout: 15_000 }).catch(() => {}),
      page.waitForURL((u) => u.pathname !== '/login', { timeout: 15_000 }).catch(() => {}),
    ]);
    if (!(await error.isVisible())) {
      const body = (await page.locator('body').textContent().catch(() => '')).slice(0, 200);
      assert.fail(`no login-error shown; now at ${page.url()} showing "${body}"`);
    }
    await waitForHydration(page);
    assert.match(await error.textContent(), /用户名或密码错误/);
    assert.equal(new URL(page.url()).pathname, '/login');
    // Not signed in: the session cookie was not set.
    const cookies = await page.context().cookies();
    assert.equal(cookies.filter((c) => c.name === 'daohu_session' && c.value).length, 0);
    await screenshot(page, 'login-error');
  });
});
