// 一户一策 and declared income on the phone, offline: a household with a
// plan; sign in and download, stop the server, move one measure to done and
// another to in progress, declare a migrant wage with its pay slip photographed, confirm the
// household size, sign, reload (nothing lost), start the server, sync, and
// find exactly one visit with its income rows and the measures moved, each
// move in the measures' history.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, chinaToday, drawSignature, eventually, fieldPhone, fieldReady, installHydrationProbe, open, paperPhoto, pendingCount, signIn, signInAndDownload } from '../support/app.mjs';

const VISITS_PATH = '/api/sync/v1/visits';

let server;
let browser;
/** The first household on worker1's list, and its plan's measures. */
let household;
let measures;

const sql = (query) => server.sql(query);

/** A new id as SQLite stores it (hex of 16 bytes) and as the app names it. */
function newId() {
  const hex = randomBytes(16).toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { hex, uuid };
}

/** Gives worker1's first household a plan: two open measures and a done one. */
function givePlan() {
  const [id, number, head, workerHex] = sql(
    `select hex(h.id), h.number, h.head_name, hex(u.id) from households h join users u on u.id = h.worker_id
     where u.username = 'worker1' order by h.village_code, h.number limit 1`,
  ).split('|');
  // The demo may have planned this household already: start from a known plan.
  sql(`delete from measure_events where measure_id in (select id from measures where household_id = X'${id}')`);
  sql(`delete from measures where household_id = X'${id}'`);
  sql(`delete from plans where household_id = X'${id}'`);
  const plan = newId();
  const now = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";
  sql(`insert into plans (id, household_id, responsible_name, responsible_phone, labour_situation,
       health_situation, created_by, created_at, updated_at)
       values (X'${plan.hex}', X'${id}', '李干部', '13800000000', '两个劳动力', '健康', X'${workerHex}', ${now}, ${now})`);
  const measure = (action, category, due, status, doneOn) => {
    const m = newId();
    sql(`insert into measures (id, plan_id, household_id, category, action, funding_source, funding_fen, due_on,
         expected_income_fen, status, done_on, drop_reason, note, created_at, updated_at)
         values (X'${m.hex}', X'${plan.hex}', X'${id}', '${category}', '${action}', '', 0, ${due},
         1000000, '${status}', ${doneOn}, null, '', ${now}, ${now})`);
    return m;
  };
  const work = measure('推荐到兰州建筑工地务工', 'employment', "date('now', '+60 days')", 'planned', 'null');
  const cattle = measure('发展肉牛养殖（2头）', 'industry', "date('now', '-10 days')", 'planned', 'null');
  const done = measure('申请公益性岗位', 'employment', "date('now', '-30 days')", 'done', "date('now', '-40 days')");
  const members = Number(sql(`select count(*) from members where household_id = X'${id}'`));
  return { household: { hex: id, number, head, members }, measures: { work, cattle, done } };
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ household, measures } = givePlan());
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** A measure's status in the roster kept on the phone. */
function cachedMeasureStatus(page, measureId) {
  return page.evaluate(
    (id) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('daohu');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction(['rosters'], 'readonly');
          const all = tx.objectStore('rosters').getAll();
          tx.oncomplete = () => {
            for (const record of all.result) {
              for (const h of JSON.parse(record.json).households) {
                const m = (h.measures || []).find((x) => x.id === id);
                if (m) return resolve(m.status);
              }
            }
            resolve(null);
          };
        };
      }),
    measureId,
  );
}

/** Every draft on the phone, as one JSON text. */
function storedDrafts(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('daohu');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction(['drafts'], 'readonly');
          const all = tx.objectStore('drafts').getAll();
          tx.oncomplete = () => resolve(JSON.stringify(all.result));
        };
      }),
  );
}

/** Every expected payment received in full today. */
async function fillPayments(page) {
  await byTestId(page, 'met-with').fill('户主本人');
  const lines = await page.locator('[data-testid^="line-"]').count();
  for (let i = 0; i < lines; i++) {
    const line = byTestId(page, `line-${i}`);
    await line.locator('[data-status="received_in_full"]').click();
    await line.locator('[data-testid="received-on"]').fill(chinaToday());
  }
}

const measureCard = (page, m) => byTestId(page, `measure-${m.uuid}`);
const migrantWage = (page) => byTestId(page, 'income-wage_migrant');

describe('plan measures and income on the phone', () => {
  test('moved and declared offline, signed, delivered once with the plan and income rows', async (t) => {
    const page = await fieldPhone(t, browser, server.baseURL);
    await signInAndDownload(page, 'worker1');
    await server.stop();

    await page.reload();
    await fieldReady(page);
    await byTestId(page, 'field-search').fill(household.number);
    const row = byTestId(page, 'field-household').first();
    assert.equal((await row.locator('.row-title').textContent()).trim(), household.head);
    await row.click();
    await byTestId(page, 'field-household-detail').waitFor();
    await byTestId(page, 'start-visit').click();
    await page.waitForURL(/\/field\?visit=/);
    await fillPayments(page);

    // Only the open measures are offered; the overdue one says so.
    await byTestId(page, 'measures').waitFor();
    assert.equal(await measureCard(page, measures.done).count(), 0, 'a done measure is not offered');
    assert.match(await measureCard(page, measures.cattle).textContent(), /已逾期/);
    await measureCard(page, measures.work).locator('[data-status="done"]').click();
    const doneOn = measureCard(page, measures.work).locator('[data-testid="measure-done-on"]');
    assert.equal(await doneOn.inputValue(), chinaToday(), 'done today unless told otherwise');
    await measureCard(page, measures.cattle).locator('[data-status="in_progress"]').click();
    await measureCard(page, measures.cattle).locator('[data-testid="measure-note"]').fill('已购牛犊一头');
    await byTestId(page, 'measures').scrollIntoViewIfNeeded();
    await screenshot(page, 'plan-measures');

    await migrantWage(page).locator('[data-testid="income-amount"]').fill('12,000');
    // The pay slip photographed: what backs the figure.
    await migrantWage(page)
      .locator('[data-testid="evidence"]')
      .setInputFiles({ name: 'slip.jpg', mimeType: 'image/jpeg', buffer: await paperPhoto(page, 1600, 1200) });
    await migrantWage(page).locator('[data-testid="evidence-preview"]').waitFor({ timeout: 20_000 });
    await migrantWage(page).locator('[data-testid="income-note"]').fill('兰州建筑工地');
    const size = byTestId(page, 'household-size');
    assert.equal(await size.inputValue(), String(household.members), 'the members on record');
    await migrantWage(page).scrollIntoViewIfNeeded();
    await screenshot(page, 'plan-income');
    await size.scrollIntoViewIfNeeded();
    await screenshot(page, 'plan-household-size');

    // A bad figure is named beside its row.
    await byTestId(page, 'income-property').locator('[data-testid="income-amount"]').fill('1.234');
    await byTestId(page, 'to-confirm').click();
    await byTestId(page, 'income-property').locator('.field-problem').waitFor();
    await byTestId(page, 'income-property').locator('[data-testid="income-amount"]').fill('');
    // Each edit is written to the phone as it happens; a reload in the
    // instant between typing and the write may lose that one keystroke, so
    // wait for the cleared figure to be on the phone.
    await eventually(async () => !(await storedDrafts(page)).includes('1.234'), { message: 'the cleared figure saved' });

    // The draft survives a reload.
    await page.reload();
    await fieldReady(page);
    assert.equal(await measureCard(page, measures.work).locator('[data-status="done"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await measureCard(page, measures.cattle).locator('[data-testid="measure-note"]').inputValue(), '已购牛犊一头');
    assert.equal(await migrantWage(page).locator('[data-testid="income-amount"]').inputValue(), '12,000');
    assert.equal(await migrantWage(page).locator('[data-testid="evidence-preview"]').count(), 1, 'the photo is kept');

    await byTestId(page, 'to-confirm').click();
    await page.waitForURL(/step=sign/);
    const confirmation = byTestId(page, 'confirmation');
    await confirmation.waitFor();
    const measuresSigned = await byTestId(page, 'confirm-measures').textContent();
    const [y, m, d] = chinaToday().split('-').map(Number);
    assert.match(measuresSigned, new RegExp(`推荐到兰州建筑工地务工改为：已完成（完成日期：${y}年${m}月${d}日）`));
    assert.match(measuresSigned, /发展肉牛养殖.*改为：实施中（已购牛犊一头）/);
    const incomeSigned = await byTestId(page, 'confirm-income').textContent();
    assert.match(incomeSigned, /外出务工收入12,000\.00 元有凭证，兰州建筑工地/);
    assert.match(incomeSigned, new RegExp(`本年度家庭人口${household.members} 人`));
    await byTestId(page, 'confirm-measures').scrollIntoViewIfNeeded();
    await screenshot(page, 'plan-income-confirmation');
    await drawSignature(page);
    await byTestId(page, 'sign').click();
    const receipt = (await byTestId(page, 'receipt').textContent()).trim();

    await page.reload();
    await fieldReady(page);
    assert.equal((await byTestId(page, 'receipt').textContent()).trim(), receipt, 'the signature is kept');
    await byTestId(page, 'finish').click();
    await page.waitForURL((u) => u.search.startsWith('?h='));
    await eventually(async () => (await pendingCount(page)) === 1, { message: 'one visit pending' });
    assert.equal(sql('select count(*) from visits'), '0');

    // Still offline, the phone's roster already holds what the visit
    // recorded: the next visit does not offer the done measure again.
    await eventually(async () => (await cachedMeasureStatus(page, measures.work.uuid)) === 'Done', {
      message: 'the finished visit taken into the roster on the phone',
    });
    assert.equal(await cachedMeasureStatus(page, measures.cattle.uuid), 'InProgress');

    let sent = null;
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === VISITS_PATH) sent = r.postData();
    });
    await server.start();
    await byTestId(page, 'sync-now').click();
    await eventually(async () => (await pendingCount(page)) === 0, { timeout: 20_000, message: 'the outbox emptied' });

    const [visits, hash, size_] = sql('select count(*), content_hash, household_size from visits').split('|');
    assert.equal(visits, '1', 'exactly one visit arrived');
    assert.equal(hash.slice(0, 8).toUpperCase(), receipt.replace('-', ''));
    assert.equal(size_, String(household.members));
    assert.equal(
      sql(`select kind, amount_fen, evidence, note from income_entries where household_id = X'${household.hex}'`),
      'wage_migrant|1200000|1|兰州建筑工地',
    );
    assert.equal(sql("select line_kind, line_key from line_evidence"), 'income|wage_migrant');
    const measure = (m) => sql(`select status, ifnull(done_on, ''), note from measures where id = X'${m.hex}'`);
    assert.equal(measure(measures.work), `done|${chinaToday()}|`);
    assert.equal(measure(measures.cattle), 'in_progress||已购牛犊一头');
    assert.equal(measure(measures.done).split('|')[0], 'done', 'the done measure is untouched');
    assert.equal(
      sql('select count(*) from measure_events e join visits v on v.id = e.visit_id where e.user_id = v.worker_id'),
      '2',
      'each move kept in the history with its visit and worker',
    );

    // The same delivery again: acknowledged, nothing doubled.
    const replay = await page.request.post(VISITS_PATH, { data: sent, headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual((await replay.json()).results.map((r) => r.outcome), ['already_stored']);
    assert.equal(sql('select count(*) from visits'), '1');
    assert.equal(sql('select count(*) from income_entries'), '1');
    assert.equal(sql('select count(*) from measure_events where visit_id is not null'), '2');

    // The township supervisor's plan and risk table counts the household:
    // the visit recomputed its account, the cattle measure is past its day
    // and still open, so the village's overdue figure leads to it.
    const village = sql(`select village_code from households where id = X'${household.hex}'`);
    const township = `${village.slice(0, 9)}000`;
    const supervisor = sql(
      `select username from users where role = 'township_supervisor' and area_code = '${township}' limit 1`,
    );
    const office = await newMobileContext(browser, server.baseURL);
    await installHydrationProbe(office);
    const desk = await office.newPage();
    await signIn(desk, supervisor, `/areas/${township}`);
    await open(desk, `/areas/${township}/income`);
    const villageRow = desk.locator(`[data-testid="income-row"][data-area="${village}"]`);
    await villageRow.waitFor();
    await screenshot(desk, 'income-table');
    await villageRow.locator('[data-flag="overdue_measure"]').click();
    await desk.waitForURL((u) => u.pathname === '/households' && u.searchParams.get('flag') === 'overdue_measure');
    const listed = desk.locator('[data-testid="household-list"] li').filter({ hasText: household.head });
    await listed.waitFor();
    assert.match(await listed.locator('[data-flag="overdue_measure"]').innerText(), /措施逾期/);
    await screenshot(desk, 'income-drill-down');

    // Its page shows the declared wage among the account's sources.
    await listed.locator('a').click();
    await byTestId(desk, 'income').waitFor();
    await byTestId(desk, 'income').scrollIntoViewIfNeeded();
    await screenshot(desk, 'income-card');
    const sources = byTestId(desk, 'income-sources');
    await desk.locator('.sources summary').click();
    assert.match(await sources.innerText(), /外出务工收入[\s\S]*12,000\.00/);
    await screenshot(desk, 'income-household');
    await office.close();
    assertNoPageErrors(office);
  });
});
