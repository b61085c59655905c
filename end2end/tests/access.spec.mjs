// 3. Scope: a user sees only their own part of the county. Out-of-scope pages
// answer exactly as unknown ones, 404 with the not-found page (so ids outside
// one's area cannot be probed); unknown paths 404 too.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, householdRows, installHydrationProbe, open, signIn, signInToList } from '../support/app.mjs';

let server;
let browser;
let worker1;
let township1;
/** Links to households of township2, collected as worker3 sees them. */
let township2Rows;
/** A household of worker1's own, to show access is refused by scope, not broken. */
let ownRow;

async function pageFor(username, home) {
  const context = await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  const page = await context.newPage();
  if (home === '/households') await signInToList(page, username);
  else await signIn(page, username, home);
  return page;
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();

  // Another user, in another context: worker3 of township2.
  const worker3 = await pageFor('worker3', '/households');
  await byTestId(worker3, 'household-list').waitFor({ state: 'visible' });
  township2Rows = await householdRows(worker3);
  await worker3.context().close();

  worker1 = await pageFor('worker1', '/households');
  ownRow = (await householdRows(worker1))[0];
  township1 = await pageFor('township1', '/areas/621102100000');
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('access outside one\'s area', () => {
  afterEach(() => {
    assertNoPageErrors(worker1.context());
    assertNoPageErrors(township1.context());
  });

  test('worker3\'s list lies in township2', () => {
    assert.ok(township2Rows.length > 0, 'worker3 has households');
    for (const r of township2Rows) assert.ok(r.number.startsWith('621102201'), `${r.number} in township2`);
  });

  test('worker1 opens its own household: 200', async () => {
    const res = await open(worker1, ownRow.href);
    assert.equal(res.status(), 200);
    await byTestId(worker1, 'household').waitFor({ state: 'visible' });
    assert.equal(await byTestId(worker1, 'not-found').count(), 0);
  });

  test('worker1 opening a household of township2 gets 404 未找到，或不在您的权限范围内', async () => {
    const target = township2Rows[0];
    const res = await open(worker1, target.href);
    assert.equal(res.status(), 404, `document status for ${target.href}`);
    const refused = byTestId(worker1, 'not-found');
    await refused.waitFor({ state: 'visible' });
    assert.match(await refused.textContent(), /未找到，或不在您的权限范围内/);
    // Nothing of the household leaks onto the page or into its data.
    assert.equal(await byTestId(worker1, 'household').count(), 0);
    assert.equal(await byTestId(worker1, 'members').count(), 0);
    const html = await worker1.content();
    assert.ok(!html.includes(target.number), 'the refused household\'s number is not in the page source');
    assert.ok(!html.includes(target.name), 'the refused household head\'s name is not in the page source');
    // Still signed in: the header shows who.
    await byTestId(worker1, 'who').waitFor({ state: 'visible' });
    await screenshot(worker1, 'forbidden-household');
  });

  test('worker1 is refused every household of township2 it tries', async () => {
    for (const target of township2Rows.slice(1, 4)) {
      const res = await open(worker1, target.href);
      assert.equal(res.status(), 404, `document status for ${target.href}`);
      await byTestId(worker1, 'not-found').waitFor({ state: 'visible' });
    }
  });

  test('township1 opening /areas/621102201000 (township2) gets 404', async () => {
    const res = await open(township1, '/areas/621102201000');
    assert.equal(res.status(), 404);
    const refused = byTestId(township1, 'not-found');
    await refused.waitFor({ state: 'visible' });
    assert.match(await refused.textContent(), /未找到，或不在您的权限范围内/);
    assert.equal(await byTestId(township1, 'child-areas').count(), 0);
    assert.equal(await byTestId(township1, 'total-households').count(), 0);
    await screenshot(township1, 'forbidden-area');
  });

  test('township1 opening the county /areas/621102000000 gets 404', async () => {
    const res = await open(township1, '/areas/621102000000');
    assert.equal(res.status(), 404);
    await byTestId(township1, 'not-found').waitFor({ state: 'visible' });
  });

  test('township1 opening a household of township2 gets 404', async () => {
    const res = await open(township1, township2Rows[0].href);
    assert.equal(res.status(), 404);
    await byTestId(township1, 'not-found').waitFor({ state: 'visible' });
  });

  test('an unknown path renders the 404 page', async () => {
    const res = await open(worker1, '/no-such-page');
    assert.equal(res.status(), 404);
    await byTestId(worker1, 'not-found').waitFor({ state: 'visible' });
    await screenshot(worker1, 'not-found');
  });

  test('an unknown household id renders the 404 page', async () => {
    const res = await open(worker1, '/households/00000000-0000-7000-8000-000000000000');
    assert.equal(res.status(), 404);
    await byTestId(worker1, 'not-found').waitFor({ state: 'visible' });
  });
});
