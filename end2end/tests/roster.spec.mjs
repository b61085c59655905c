// 9. Roster import: a county office downloads the template, uploads its
// households and the payments due, follows the import to the end and finds
// exactly the file's rows in the database; a bad file lists every problem
// by row and column and writes nothing; the same file twice changes nothing.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { launchBrowser, newMobileContext, screenshot, startServer } from '../support/server.mjs';
import { assertNoPageErrors, byTestId, installHydrationProbe, signIn } from '../support/app.mjs';

const COUNTY = '621102000000';
const VILLAGE = '621102100201';
const HEADER =
  '户编号,所在村代码,户主姓名,户类型,监测类型,易地搬迁,联系电话,成员姓名,与户主关系,身份证号,劳动能力,健康状况';
const GOOD = `${HEADER}
E0001,${VILLAGE},王大山,脱贫户,,否,13800000001,王大山,户主,621102198001010018,普通劳动力,健康
E0001,${VILLAGE},王大山,脱贫户,,否,13800000001,李秀英,配偶,621102198505050021,弱劳动力,长期慢性病
E0002,${VILLAGE},赵小河,监测户,边缘易致贫户,是,,赵小河,户主,621102197003030042,丧失劳动力,残疾
`;
const BAD = `${HEADER}
E0003,${VILLAGE},钱一,脱贫户,,否,,钱一,户主,621102198001010019,普通劳动力,健康
E0004,620102100201,孙二,监测户,,否,,孙二,户主,621102197507070056,能干活,健康
`;

let server;
let browser;
let dir;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  dir = await mkdtemp(path.join(os.tmpdir(), 'daohu-roster-'));
});

after(async () => {
  await browser?.close();
  await server?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function countyOffice(t, { desktop = false } = {}) {
  const context = desktop
    ? await browser.newContext({ baseURL: server.baseURL, viewport: { width: 1280, height: 800 }, locale: 'zh-CN', acceptDownloads: true })
    : await newMobileContext(browser, server.baseURL, { acceptDownloads: true });
  await installHydrationProbe(context);
  const page = await context.newPage();
  t.after(async () => {
    await context.close();
    assertNoPageErrors(context);
  });
  await signIn(page, 'county', `/areas/${COUNTY}`);
  return page;
}

/** Chooses `content` as `name` in the households form and submits it. */
async function upload(page, name, content) {
  const file = path.join(dir, name);
  await writeFile(file, content);
  const form = byTestId(page, 'import-households');
  await form.locator('input[type="file"]').setInputFiles(file);
  await Promise.all([page.waitForURL(/\/roster\/import\/[0-9a-f-]{36}$/), form.locator('button[type="submit"]').click()]);
}

const stat = async (page, id) => Number((await byTestId(page, id).textContent()).trim());
const sql = (query) => server.sql(query);

describe('roster import', () => {
  test('a county office imports households once; the same file again changes nothing', async (t) => {
    const page = await countyOffice(t);
    await byTestId(page, 'import-link').click();
    await page.waitForURL('**/roster/import');

    // The template is the file to fill in: its first line is the header the import reads.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      byTestId(page, 'import-households').getByRole('link', { name: 'CSV 模板' }).click(),
    ]);
    const template = (await readFile(await download.path(), 'utf8')).replace(/^\uFEFF/, '').trim();
    assert.equal(template, HEADER);
    await screenshot(page, 'roster-import-phone');

    const before = Number(sql('select count(*) from households'));
    await upload(page, '名单.csv', GOOD);
    await byTestId(page, 'import-added').waitFor();
    assert.match(await byTestId(page, 'import-phase').textContent(), /导入完成/);
    assert.equal(await stat(page, 'import-rows'), 3);
    assert.equal(await stat(page, 'import-added'), 2);
    await screenshot(page, 'roster-import-done-phone');
    assert.equal(Number(sql('select count(*) from households')), before + 2);
    assert.equal(
      sql(`select h.number, count(m.id) from households h join members m on m.household_id = h.id
           where h.number in ('E0001', 'E0002') group by h.number order by h.number`),
      'E0001|2\nE0002|1',
    );

    await byTestId(page, 'import-again').click();
    await page.waitForURL('**/roster/import');
    await upload(page, '名单.csv', GOOD);
    await byTestId(page, 'import-unchanged').waitFor();
    assert.equal(await stat(page, 'import-unchanged'), 2);
    assert.equal(await stat(page, 'import-added'), 0);
    assert.equal(await stat(page, 'import-changed'), 0);
    assert.equal(Number(sql('select count(*) from households')), before + 2);
  });

  test('a bad file lists each problem by row and column and writes nothing', async (t) => {
    const page = await countyOffice(t);
    await page.goto('/roster/import');
    const before = sql('select count(*) from households');
    await upload(page, '有错的名单.csv', BAD);
    await byTestId(page, 'import-refused').waitFor();
    const rows = await byTestId(page, 'import-problems').locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())),
    );
    assert.deepEqual(rows, [
      ['2', '身份证号', '身份证号校验位错误，请核对'],
      ['3', '所在村代码', '所在村不在本辖区（安定区）内'],
      ['3', '监测类型', '监测户须填写监测类型'],
      ['3', '劳动能力', '“能干活”不是可选的值：应为 普通劳动力、弱劳动力、丧失劳动力、无劳动力'],
    ]);
    assert.equal(await stat(page, 'import-problem-count'), 4);
    await screenshot(page, 'roster-import-refused-phone');
    assert.equal(sql('select count(*) from households'), before, 'nothing written');
    assert.equal(sql("select count(*) from households where number in ('E0003', 'E0004')"), '0');
  });

  test('the import page at desktop width', async (t) => {
    const page = await countyOffice(t, { desktop: true });
    await page.goto('/roster/import');
    await byTestId(page, 'import-entitlements').locator('summary').click();
    await screenshot(page, 'roster-import-desktop');
  });

  test('a township supervisor has no import page', async (t) => {
    const context = await newMobileContext(browser, server.baseURL);
    await installHydrationProbe(context);
    t.after(async () => {
      await context.close();
      assertNoPageErrors(context);
    });
    const page = await context.newPage();
    await signIn(page, 'township1', '/areas/621102100000');
    assert.equal(await byTestId(page, 'import-link').count(), 0);
    const res = await page.goto('/roster/import');
    assert.equal(res.status(), 403);
  });
});
