// The browser engines of run.mjs: Firefox ESR over WebDriver BiDi (puppeteer-core) and WebKitGTK's
// MiniBrowser over classic WebDriver (WebKitWebDriver under xvfb-run). Both load page.html from a
// static server on 127.0.0.1 (the repository root: /dist, /build, /test/engines) and run smoke.mjs.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../../demo/static-server.mjs';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const FIREFOX = ['/usr/lib/firefox-esr/firefox-esr', '/usr/bin/firefox-esr'].find((p) => existsSync(p));
export const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'].find((p) => existsSync(p));
const SMOKE_PAGE = 'test/engines/page.html?simd=baseline&simd=auto&simd=relaxed';

async function withServer(root, fn) {
  const server = await serveStatic({ root });
  try { return await fn(server.url); } finally { await server.close(); }
}

// ---------------------------------------------------------------- Firefox

export async function firefox({ check, checkResults, expected, versions }) {
  if (!FIREFOX) throw new Error('Firefox ESR is not installed (apt-get install firefox-esr), or list it in SIMDNN_SKIP_ENGINES');
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true, protocol: 'webDriverBiDi',
    args: ['--no-remote'], extraPrefsFirefox: { 'browser.shell.checkDefaultBrowser': false },
  });
  try {
    versions.firefox = await browser.version();
    await withServer(ROOT, async (base) => {
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(`${base}${SMOKE_PAGE}`);
      await page.waitForFunction(() => document.title === 'done', { timeout: 60_000 });
      const out = await page.evaluate(() => window.__smoke);
      if (!check(!out.error && problems.length === 0, 'firefox: the smoke page runs (import map → dist/index.js, init() fetches ../build/*.wasm)', out.error ?? problems.join('; '))) return;
      checkResults('firefox', { baseline: out.results.baseline, auto: out.results.auto }, expected, { autoBinary: 'relaxed' });
      checkResults('firefox', { relaxed: out.results.relaxed }, expected, { autoBinary: 'relaxed' });
      await page.close();
    });
    await demoPage(browser, check);
  } finally {
    await browser.close();
  }
}

/** The demo (built with `npm run demo -- --no-serve` into demo/dist) loads without console errors. */
async function demoPage(browser, check) {
  const dist = path.join(ROOT, 'demo/dist');
  const { buildDemo } = await import('../../demo/build.mjs');
  await buildDemo({ logLevel: 'warn' });
  await withServer(dist, async (base) => {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
    await page.goto(base, { waitUntil: 'load' });
    // The page loads simdnn and draws; give its first frames and the wasm load time to finish.
    await page.waitForFunction(() => document.querySelectorAll('canvas').length > 0, { timeout: 30_000 }).catch(() => problems.push('no canvas appeared'));
    await sleep(3000);
    check(problems.length === 0, 'firefox: the demo page (demo/dist) loads without console errors', problems.slice(0, 5).join('; '));
    await page.close();
  });
}

// ---------------------------------------------------------------- WebKit

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

async function webdriver(base, method, route, body) {
  const res = await fetch(`${base}${route}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`WebDriver ${method} ${route}: ${JSON.stringify(json.value ?? json).slice(0, 500)}`);
  return json.value;
}

export async function webkit({ check, checkResults, expected, versions }) {
  if (!MINIBROWSER || !existsSync('/usr/bin/WebKitWebDriver')) throw new Error('WebKitGTK is not installed (apt-get install webkit2gtk-driver xvfb), or list webkit in SIMDNN_SKIP_ENGINES');
  const port = await freePort();
  // xvfb-run gives MiniBrowser an X display; -a picks a free display number.
  const driver = spawn('xvfb-run', ['-a', '/usr/bin/WebKitWebDriver', `--port=${port}`, '--host=127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  driver.stderr.on('data', (d) => { err += d; });
  const base = `http://127.0.0.1:${port}`;
  let session;
  try {
    for (let t0 = Date.now(); ; await sleep(50)) {
      if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}: ${err.slice(-2000)}`);
      try { await webdriver(base, 'GET', '/status'); break; } catch { if (Date.now() - t0 > 20_000) throw new Error(`WebKitWebDriver did not start: ${err.slice(-2000)}`); }
    }
    const created = await webdriver(base, 'POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } },
    });
    session = created.sessionId;
    versions.webkit = `WebKitGTK ${created.capabilities.browserVersion}`;
    await withServer(ROOT, async (srv) => {
      await webdriver(base, 'POST', `/session/${session}/url`, { url: `${srv}test/engines/page.html?simd=baseline&simd=auto&simd=relaxed-error` });
      let out = null;
      for (let t0 = Date.now(); !out && Date.now() - t0 < 60_000; await sleep(100)) {
        out = await webdriver(base, 'POST', `/session/${session}/execute/sync`, { script: 'return window.__smoke ? JSON.stringify(window.__smoke) : null', args: [] });
      }
      out = out && JSON.parse(out);
      if (!check(out && !out.error, 'webkit: the smoke page runs (import map → dist/index.js, init() fetches ../build/*.wasm)', out ? out.error : 'timed out')) return;
      checkResults('webkit', { baseline: out.results.baseline, auto: out.results.auto }, expected, { autoBinary: 'baseline' });
      const r = out.results['relaxed-error'];
      check(r.code === 'NO_SIMD', "webkit: simd: 'relaxed' rejects with NO_SIMD", JSON.stringify(r));
    });
  } finally {
    if (session) await webdriver(base, 'DELETE', `/session/${session}`).catch(() => {});
    try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* gone */ }
  }
}
