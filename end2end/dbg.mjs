import { launchBrowser, newMobileContext, startServer } from './support/server.mjs';
import { installHydrationProbe, submitSignIn } from './support/app.mjs';
const server = await startServer();
const browser = await launchBrowser();
try {
  const context = await newMobileContext(browser, server.baseURL);
  await installHydrationProbe(context);
  const page = await context.newPage();
  page.on('console', (m) => console.log('console:', m.type(), m.text().slice(0, 500)));
  page.on('pageerror', (e) => console.log('pageerror:', e.message.slice(0, 500)));
  await submitSignIn(page, 'worker1');
  await page.waitForTimeout(6000);
  console.log('url', page.url());
  await page.screenshot({ path: '/tmp/dbg/a.png' });
  console.log((await page.locator('body').innerText()).slice(0, 800));
} finally {
  await browser.close();
  await server.dispose();
}
