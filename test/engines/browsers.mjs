// The browser engines of run.mjs: Firefox ESR over WebDriver BiDi (puppeteer-core) and WebKitGTK's
// MiniBrowser over classic WebDriver (WebKitWebDriver under xvfb-run). Each loads page.html from a
// static server on 127.0.0.1 (the repository root: /dist, /build, /test/engines), which runs on the
// page's thread the smoke set (smoke.mjs) and the memory-growth sequence (memory.mjs), and starts
// module Web Workers (web-worker.mjs) that run both again and predict on a transferred Float32Array;
// then each loads the demo (built by Vite into a temporary folder) and waits for all four of its
// parts, the benchmark in its own module worker included, with no console errors.

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../../demo/static-server.mjs';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
/** page.html's own clock: the cases on the page's thread, then the workers (all at once). */
const pageTimes = (times) => times ? `: ${Object.entries(times).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')}` : '';

export const FIREFOX = ['/usr/lib/firefox-esr/firefox-esr', '/usr/bin/firefox-esr'].find((p) => existsSync(p));
export const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'].find((p) => existsSync(p));

/** page.html's query: cases on the page's thread (?simd=) and module workers (?worker=). */
const pageUrl = ({ cases, workers }) => `test/engines/page.html?${[...cases.map((c) => `simd=${c}`), ...workers.map((w) => `worker=${w}`)].join('&')}`;
// Firefox has relaxed SIMD: both binaries, each explicitly, and 'auto' (which picks relaxed).
const FIREFOX_RUN = { cases: ['baseline', 'auto', 'relaxed', 'memory:baseline', 'memory:relaxed'], workers: ['baseline', 'relaxed'] };
// WebKitGTK has no relaxed SIMD: the baseline binary, explicitly and by 'auto', and 'relaxed' rejects.
const WEBKIT_RUN = { cases: ['baseline', 'auto', 'relaxed-error', 'memory:baseline'], workers: ['baseline', 'auto'] };
const PAGE_TIMEOUT = 180_000;

async function withServer(root, fn) {
  const server = await serveStatic({ root });
  try { return await fn(server.url); } finally { await server.close(); }
}

/** Check what page.html returned: the cases on the page's thread, then each worker's. */
function checkPage(engine, out, run, { checkResults, checkWorker, expected }, autoBinary) {
  const onPage = {};
  for (const c of run.cases) if (c !== 'relaxed-error') onPage[c] = out.results[c];
  checkResults(engine, onPage, expected, { autoBinary });
  for (const simd of run.workers) checkWorker(engine, simd, out.results[`worker:${simd}`], expected, { autoBinary });
}

// ---------------------------------------------------------------- the demo page

// Both browsers load one build of the demo, made on first use in a temporary folder (removed at
// exit), with capture.js added as the first <script> of its index.html (classic WebDriver, which
// drives WebKit, has no console events; in Firefox the BiDi console and network events are checked
// as well).

let demoDir;
async function demoBuild() {
  demoDir ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'simdnn-engines-demo-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const { buildDemo } = await import('../../demo/build.mjs');
    await buildDemo({ outDir: dir, logLevel: 'warn' });
    const index = path.join(dir, 'index.html');
    const html = readFileSync(index, 'utf8');
    if (!html.includes('<head>')) throw new Error('demo build: index.html has no <head>');
    writeFileSync(index, html.replace('<head>', '<head>\n    <script src="./capture.js"></script>'));
    copyFileSync(path.join(HERE, 'capture.js'), path.join(dir, 'capture.js'));
    return dir;
  })();
  return demoDir;
}

/** The demo's state, as a JSON string (an expression for page.evaluate; `return ` it for WebDriver). */
const DEMO_STATE = `(() => {
  const part = (n) => document.querySelector('[data-part="' + n + '"]');
  const fatal = document.getElementById('fatal');
  return JSON.stringify({
    ready: document.body.dataset.ready ?? null,
    binary: document.body.dataset.binary ?? null,
    parts: Object.fromEntries(['activations', 'bend', 'classifier', 'benchmark'].map((n) => [n, part(n) ? part(n).dataset.ready ?? null : 'missing'])),
    bench: part('benchmark') ? part('benchmark').dataset.state ?? null : 'missing',
    benchStatus: (document.querySelector('.bench-status') || {}).textContent ?? '',
    benchBars: document.querySelectorAll('.bench-bar').length,
    fatal: fatal && !fatal.hidden ? fatal.textContent : '',
    problems: window.__problems ?? ['the capture script did not run'],
  });
})()`;

/**
 * Load the demo (?bench=quick) through `evaluate(js) → value`, wait until it has mounted its four
 * parts, scroll to the benchmark, which then starts in its module worker, and wait until it ends.
 * `extraProblems()`: what the browser reported besides the page's own capture.
 */
async function demoPage(engine, { check, goto, evaluate, extraProblems = () => [] }, wantBinary) {
  const dir = await demoBuild();
  await withServer(dir, async (base) => {
    const t0 = Date.now();
    await goto(`${base}?bench=quick`);
    const state = async () => JSON.parse(await evaluate(DEMO_STATE));
    const until = async (done, ms) => {
      let s;
      for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(200)) {
        s = await state();
        if (done(s)) return s;
      }
      return s;
    };
    let s = await until((x) => x.fatal || (x.ready === 'true' && Object.values(x.parts).every((r) => r !== null)), 60_000);
    const parts = Object.entries(s.parts).map(([n, r]) => `${n}: ${r}`).join(', ');
    check(s.ready === 'true' && !s.fatal && s.binary === wantBinary && Object.values(s.parts).every((r) => r === 'true'),
      `${engine}: the demo page loads simdnn (${wantBinary} binary) and its four parts render (${seconds(t0)})`, `ready ${s.ready}, binary ${s.binary}, ${parts}${s.fatal ? `, fatal: ${s.fatal}` : ''}`);
    await evaluate(`(document.getElementById('benchmark').scrollIntoView(), 'scrolled')`);
    const t1 = Date.now();
    s = await until((x) => x.bench === 'done' || x.bench === 'error', 120_000);
    check(s.bench === 'done' && s.benchBars > 0, `${engine}: the demo's benchmark runs in its module Web Worker to the end (${s.benchBars} bars, ${seconds(t1)})`, `state ${s.bench}: ${s.benchStatus}`);
    const problems = [...s.problems, ...extraProblems()];
    check(problems.length === 0, `${engine}: no console errors, uncaught errors or failed loads on the demo page`, problems.slice(0, 5).join('; '));
  });
}

// ---------------------------------------------------------------- Firefox

export async function firefox(ctx) {
  const { check, versions } = ctx;
  if (!FIREFOX) throw new Error('Firefox ESR is not installed (apt-get install firefox-esr), or list it in SIMDNN_SKIP_ENGINES');
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true, protocol: 'webDriverBiDi',
    args: ['--no-remote'], extraPrefsFirefox: { 'browser.shell.checkDefaultBrowser': false },
  });
  /** A new tab that records what Firefox reports as errors (console, uncaught, network). */
  const newPage = async () => {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
    return { page, problems };
  };
  try {
    versions.firefox = await browser.version();
    await withServer(ROOT, async (base) => {
      const { page, problems } = await newPage();
      await page.goto(`${base}${pageUrl(FIREFOX_RUN)}`);
      await page.waitForFunction(() => document.title === 'done', { timeout: PAGE_TIMEOUT });
      const out = await page.evaluate(() => window.__smoke);
      if (check(!out.error, `firefox: the test page runs (import map → dist/index.js, init() fetches ../build/*.wasm)${pageTimes(out.times)}`, out.error)) {
        checkPage('firefox', out, FIREFOX_RUN, ctx, 'relaxed');
      }
      const all = [...(out.problems ?? ['capture.js did not run']), ...problems];
      check(all.length === 0, 'firefox: no console errors, uncaught errors or failed requests on the test page', all.slice(0, 5).join('; '));
      await page.close();
    });
    const { page, problems } = await newPage();
    await demoPage('firefox', {
      check,
      goto: (url) => page.goto(url, { waitUntil: 'load' }),
      evaluate: (js) => page.evaluate(js),
      extraProblems: () => problems,
    }, 'relaxed');
    await page.close();
  } finally {
    await browser.close();
  }
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

export async function webkit({ check, checkResults, checkWorker, expected, versions }) {
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
    const goto = (url) => webdriver(base, 'POST', `/session/${session}/url`, { url });
    const evaluate = (js) => webdriver(base, 'POST', `/session/${session}/execute/sync`, { script: `return ${js}`, args: [] });
    await withServer(ROOT, async (srv) => {
      await goto(`${srv}${pageUrl(WEBKIT_RUN)}`);
      let out = null;
      for (let t0 = Date.now(); !out && Date.now() - t0 < PAGE_TIMEOUT; await sleep(100)) {
        out = await evaluate('window.__smoke ? JSON.stringify(window.__smoke) : null');
      }
      out = out && JSON.parse(out);
      if (!check(out && !out.error, `webkit: the test page runs (import map → dist/index.js, init() fetches ../build/*.wasm)${pageTimes(out?.times)}`, out ? out.error : 'timed out')) return;
      checkPage('webkit', out, WEBKIT_RUN, { checkResults, checkWorker, expected }, 'baseline');
      const r = out.results['relaxed-error'];
      check(r.code === 'NO_SIMD', "webkit: simd: 'relaxed' rejects with NO_SIMD", JSON.stringify(r));
      check(out.problems?.length === 0, 'webkit: no console errors, uncaught errors or failed loads on the test page', (out.problems ?? ['capture.js did not run']).slice(0, 5).join('; '));
    });
    await demoPage('webkit', { check, goto, evaluate }, 'baseline');
  } finally {
    if (session) await webdriver(base, 'DELETE', `/session/${session}`).catch(() => {});
    try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* gone */ }
  }
}
