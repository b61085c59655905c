// Output encoding: every free-text column a user can fill (by a form, a
// synced visit or an import) holds hostile markup, then every page that
// shows it is opened in Chromium. Nothing of it may become markup: no element
// it carries exists in the DOM, no script of it ran, and the text shows
// literally (as text, or as the value of a form field prefilled with it).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, installHydrationProbe, open, signIn, signInAndDownload } from '../support/app.mjs';

/** Markup that would close every raw-text element and run script. */
const hostile = (tag) =>
  `</textarea></title></noscript></script></style><b data-xss="${tag}">粗</b>` +
  `<img data-xss="${tag}" src=x onerror="window.__xss='${tag}'"><script>window.__xss='${tag}'</script>&amp;`;
/** Shown literally, this is in the page's text. */
const LITERAL = '<b data-xss="';

/** Every free-text column there is, whoever writes it. */
const COLUMNS = [
  ['areas', 'name'],
  ['users', 'display_name'],
  ['households', 'head_name'],
  ['members', 'name'],
  ['members', 'relation'],
  ['entitlements', 'department'],
  ['visits', 'met_with'],
  ['visits', 'notes'],
  ['visits', 'signer_name'],
  ['visits', 'signer_relation'],
  ['verification_lines', 'reason_text'],
  ['visit_reviews', 'comment'],
  ['discrepancy_events', 'note'],
  ['plans', 'responsible_name'],
  ['plans', 'labour_situation'],
  ['plans', 'health_situation'],
  ['measures', 'action'],
  ['measures', 'funding_source'],
  ['measures', 'note'],
  ['measure_events', 'note'],
  ['income_entries', 'note'],
];

let server;
let browser;
let target;

before(async () => {
  server = await startServer({ demoArgs: ['--visited-percent', '60'] });
  browser = await launchBrowser();
  const sql = (q) => server.sql(q);
  // A household of worker1 with a plan and a visit, so its page shows all.
  const [id, village, township] = sql(
    `select hex(h.id), h.village_code, substr(h.village_code, 1, 9) || '000' from households h
       join users u on u.id = h.worker_id
      where u.username = 'worker1' and exists (select 1 from visits v where v.household_id = h.id)
      order by exists (select 1 from plans p where p.household_id = h.id) desc, h.number limit 1`,
  ).split('|');
  assert.ok(id, 'the demo has a visited household of worker1');
  const visit = sql(`select hex(id) from visits where household_id = X'${id}' order by started_at desc limit 1`);
  const reviewer = sql(`select hex(id) from users where username = 'township1'`);
  sql(`insert into visit_reviews (id, visit_id, state, comment, reviewer_id, at)
       values (randomblob(16), X'${visit}', 'has_issues', '', X'${reviewer}', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))`);
  const discrepancy = sql(`select hex(id) from discrepancies where village_code like '${township.slice(0, 9)}%' limit 1`);
  assert.ok(discrepancy, 'the demo has a discrepancy in the township');
  sql(`insert into discrepancy_events (id, discrepancy_id, action, actor_id, note, at)
       values (randomblob(16), X'${discrepancy}', 'note', X'${reviewer}', '', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))`);
  for (const [table, column] of COLUMNS) {
    // Unique columns stay unique: the row's own number is appended.
    sql(`update ${table} set ${column} = '${hostile(`${table}.${column}`).replaceAll("'", "''")}' || rowid`);
  }
  sql(`update measures set status = 'dropped', drop_reason = '${hostile('measures.drop_reason').replaceAll("'", "''")}'
        where rowid = (select min(rowid) from measures where household_id = X'${id}')`);
  const uuid = id.toLowerCase().replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  target = { id: uuid, village, township, county: township.slice(0, 6) + '000000', discrepancy };
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** Fails if anything hostile became markup or ran; returns what shows. */
async function inert(page, url) {
  const seen = await page.evaluate(() => ({
    elements: document.querySelectorAll('[data-xss]').length,
    ran: window.__xss ?? null,
    text: document.body.innerText,
    values: [...document.querySelectorAll('textarea, input')].map((e) => e.value).join('\n'),
  }));
  assert.equal(seen.elements, 0, `${url}: hostile text became elements`);
  assert.equal(seen.ran, null, `${url}: hostile script ran`);
  return seen;
}

describe('hostile text in every field', () => {
  const officePages = () => [
    ['township1', `/households/${target.id}`, true],
    ['township1', '/households', true],
    ['township1', `/households?village=${target.village}&flag=any`, false],
    ['township1', `/areas/${target.township}`, true],
    ['township1', `/areas/${target.village}`, true],
    ['township1', `/areas/${target.township}/discrepancies`, true],
    ['township1', `/discrepancies/${target.discrepancy.toLowerCase().replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')}`, true],
    ['township1', `/areas/${target.township}/income`, true],
    ['township1', `/reports/dispatch/${target.township}`, true],
    ['township1', `/areas/${target.township}/users`, true],
    ['county', `/areas/${target.county}`, true],
    ['county', `/reports/dispatch/${target.county}`, true],
    ['county', `/areas/${target.county}/users`, true],
    ['county', `/households/${target.id}`, true],
    ['worker1', `/households/${target.id}`, true],
  ];

  for (const user of ['township1', 'county', 'worker1']) {
    test(`${user}: office pages show it as text`, async (t) => {
      const context = await newMobileContext(browser, server.baseURL);
      await installHydrationProbe(context);
      const page = await context.newPage();
      t.after(() => context.close());
      await signIn(page, user, user === 'worker1' ? '/field' : user === 'county' ? `/areas/${target.county}` : `/areas/${target.township}`);
      for (const [who, url, showsText] of officePages()) {
        if (who !== user) continue;
        const response = await open(page, url);
        assert.equal(response.status(), 200, `${url} answers`);
        const seen = await inert(page, url);
        if (showsText) assert.ok(seen.text.includes(LITERAL) || seen.values.includes(LITERAL), `${url} shows the text literally`);
      }
      if (user === 'township1') {
        await open(page, `/households/${target.id}`);
        // The plan's edit form is prefilled with the stored text.
        const labour = page.locator('textarea[name="labour_situation"]');
        if (await labour.count()) assert.ok((await labour.first().inputValue()).startsWith('</textarea>'), 'the textarea holds the text');
        await screenshot(page, 'hostile-household-page');
      }
      assertNoPageErrors(context);
    });
  }

  test('worker1: the offline app shows it as text', async (t) => {
    const context = await newMobileContext(browser, server.baseURL, { permissions: ['geolocation'], geolocation: { latitude: 35.58, longitude: 104.62, accuracy: 15 } });
    await installHydrationProbe(context);
    const page = await context.newPage();
    t.after(() => context.close());
    await signInAndDownload(page, 'worker1');
    await inert(page, '/field');
    await open(page, `/field?h=${target.id}`);
    await byTestId(page, 'start-visit').waitFor();
    const seen = await inert(page, `/field?h=${target.id}`);
    assert.ok(seen.text.includes(LITERAL), 'the household screen shows the text literally');
    await byTestId(page, 'start-visit').click();
    await page.waitForURL(/visit=/);
    await inert(page, page.url());
    assertNoPageErrors(context);
  });
});
