// 12. One's own account, on a phone: reached from the top bar, it lists where
// one is signed in, ends the other sessions, and changes the password.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { PASSWORD, launchBrowser, screenshot, startServer } from '../support/server.mjs';
import { byTestId, mobilePage, open, signIn, waitForHydration } from '../support/app.mjs';

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

const freshPage = (t) => mobilePage(t, browser, server.baseURL);

/** Height of an element in CSS pixels. */
async function height(locator) {
  return (await locator.boundingBox()).height;
}

async function fontSize(locator) {
  return locator.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
}

describe('my account', () => {
  test('the top bar leads to it; it lists the sessions and ends the others', async (t) => {
    const phone = await freshPage(t);
    const office = await freshPage(t);
    await signIn(office, 'township2', '/areas/621102201000');
    await signIn(phone, 'township2', '/areas/621102201000');

    await byTestId(phone, 'account-link').click();
    await phone.waitForURL((u) => u.pathname === '/account');
    await waitForHydration(phone);
    const rows = byTestId(phone, 'session-row');
    assert.equal(await rows.count(), 2, 'two sessions of township2');
    assert.equal(await phone.locator('[data-testid="session-row"][data-current="true"]').count(), 1);
    // Phone-first: thumb-sized targets, text readable at arm's length.
    for (const id of ['current-password', 'new-password', 'new-password-again', 'change-password-submit', 'sign-out-others', 'account-link']) {
      assert.ok((await height(byTestId(phone, id))) >= 44, `${id} is at least 44 px high`);
    }
    for (const sel of ['.session-times', '.account-hint', '.session-address']) {
      assert.ok((await fontSize(phone.locator(sel).first())) >= 14, `${sel} is at least 14 px`);
    }
    await screenshot(phone, 'account');

    await byTestId(phone, 'sign-out-others').click();
    await byTestId(phone, 'others-signed-out').waitFor({ state: 'visible' });
    await byTestId(phone, 'no-other-sessions').waitFor({ state: 'visible' });
    assert.equal(await rows.count(), 1);
    // The office computer is signed out; the phone is not.
    await office.goto('/households');
    await office.waitForURL((u) => u.pathname === '/login');
    const res = await open(phone, '/households');
    assert.equal(res.status(), 200);
  });

  test('a weak new password is refused; a good one is set and works', async (t) => {
    const page = await freshPage(t);
    await signIn(page, 'township1', '/areas/621102100000');
    await open(page, '/account');
    const fill = async (current, next, again) => {
      await byTestId(page, 'current-password').fill(current);
      await byTestId(page, 'new-password').fill(next);
      await byTestId(page, 'new-password-again').fill(again);
      await byTestId(page, 'change-password-submit').click();
    };
    await fill(PASSWORD, 'woaini1314', 'woaini1314');
    await byTestId(page, 'password-error').waitFor({ state: 'visible' });
    assert.match(await byTestId(page, 'password-error').textContent(), /常见密码/);

    const good = '马家湾村七组的那口老井';
    await fill(PASSWORD, good, good);
    await byTestId(page, 'password-changed').waitFor({ state: 'visible' });

    const again = await freshPage(t);
    await signIn(again, 'township1', '/areas/621102100000', good);
  });
});
