// Starting and stopping the Daohu server for one spec file, and the browser
// set-up every spec shares.
//
// Each spec file calls `startServer()` in its `before` hook: a fresh temporary
// SQLite database is filled with the deterministic demo county (`daohu demo`),
// then `daohu serve` is started on a free port and awaited on /healthz.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const END2END_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(END2END_DIR, '..');
export const SCREENSHOT_DIR = path.join(END2END_DIR, 'screenshots');

export const DAOHU_BIN = process.env.DAOHU_BIN
  ? path.resolve(process.env.DAOHU_BIN)
  : path.join(REPO_ROOT, 'target', 'debug', 'daohu');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const PASSWORD = 'daohu-demo-2026';

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function serverEnv(extra) {
  const env = { ...process.env, ...extra };
  if (!env.RUST_LOG) env.RUST_LOG = 'warn';
  return env;
}

/** Runs `daohu <args>` to completion; rejects with its output on failure. */
function runOnce(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(DAOHU_BIN, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`daohu ${args.join(' ')} exited with ${code ?? signal}:\n${out}`));
    });
  });
}

async function waitForHealthy(baseURL, child, logs, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`daohu serve exited early (${child.exitCode ?? child.signalCode}):\n${logs.join('')}`);
    }
    try {
      const res = await fetch(`${baseURL}/healthz`);
      const body = await res.text();
      if (res.ok && body.trim() === 'ok') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`daohu serve did not answer /healthz within ${timeoutMs} ms:\n${logs.join('')}`);
}

/**
 * A running server on its own database. `stop()` ends it (SIGTERM, then waits
 * for the exit), `restart()` starts it again on the same database and port,
 * `dispose()` stops it and deletes the temporary directory.
 */
export class DaohuServer {
  constructor({ dir, databaseUrl, port }) {
    this.dir = dir;
    this.databaseUrl = databaseUrl;
    this.port = port;
    this.baseURL = `http://127.0.0.1:${port}`;
    this.child = null;
    this.logs = [];
  }

  /** Runs SQL against the server's SQLite database; rows `|`-separated. */
  sql(query) {
    const file = path.resolve(this.databaseUrl.replace(/^sqlite:/, ''));
    // Wait for the lock like any client: the server's own workers (chaining,
    // signals, derived work) write in the background.
    return execFileSync('sqlite3', ['-cmd', '.timeout 15000', '-separator', '|', file, query], {
      encoding: 'utf8',
    }).trim();
  }

  get env() {
    const extra = { DATABASE_URL: this.databaseUrl, DAOHU_ADDR: `127.0.0.1:${this.port}` };
    // Passed through as given: the server runs in the repo root, so a
    // relative DAOHU_SITE_ROOT is relative to it, as for the app itself.
    if (process.env.DAOHU_SITE_ROOT) extra.DAOHU_SITE_ROOT = process.env.DAOHU_SITE_ROOT;
    return serverEnv(extra);
  }

  async start() {
    if (this.child) throw new Error('server already running');
    // The port was free when chosen; after a restart the old socket may take
    // a moment to be released, so a failed bind is retried a few times.
    let lastError;
    for (let attempt = 0; attempt < 5; attempt++) {
      const logs = [];
      this.logs = logs;
      const child = spawn(DAOHU_BIN, ['serve'], { cwd: REPO_ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const listening = new Promise((resolve) => {
        child.stdout.on('data', (d) => {
          logs.push(String(d));
          if (/listening on http:\/\//.test(logs.join(''))) resolve();
        });
      });
      child.stderr.on('data', (d) => logs.push(String(d)));
      this.child = child;
      try {
        await waitForHealthy(this.baseURL, child, logs);
        // /healthz can only answer once the listener is up, so this resolves
        // at once; it checks the documented start-up line is printed.
        await Promise.race([
          listening,
          new Promise((_, reject) => setTimeout(() => reject(new Error('no "listening on" line printed')), 5_000)),
        ]);
        return this;
      } catch (e) {
        lastError = e;
        await this.stop();
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    throw lastError;
  }

  async stop(timeoutMs = 10_000) {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  async restart() {
    await this.stop();
    return this.start();
  }

  async dispose() {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The server's output so far, for failure messages. */
  output() {
    return this.logs.join('');
  }
}

/** A fresh demo database and a server on a free port, ready to answer. */
export async function startServer({ demoArgs = [] } = {}) {
  if (!existsSync(DAOHU_BIN)) {
    throw new Error(`Daohu binary not found at ${DAOHU_BIN}: build it (cargo leptos build) or set DAOHU_BIN`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'daohu-e2e-'));
  const databaseUrl = `sqlite:${path.join(dir, 'daohu.db')}`;
  await runOnce(['demo', ...demoArgs], serverEnv({ DATABASE_URL: databaseUrl }));
  const server = new DaohuServer({ dir, databaseUrl, port: await freePort() });
  try {
    return await server.start();
  } catch (e) {
    await server.dispose();
    throw e;
  }
}

/** Headless system Chromium; never a downloaded browser. */
/** The system Chromium's flags for every spec and bench. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A phone-sized context: what a field worker holds in the village. */
export function newMobileContext(browser, baseURL, extra = {}) {
  return browser.newContext({
    ...extra,
    baseURL,
    viewport: { width: 360, height: 800 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
}

/** Saves `end2end/screenshots/<name>.png` (the viewport, 360×800). */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
