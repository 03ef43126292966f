// Runs simdnn's engine tests in every JavaScript engine it supports besides Node and Chromium, and
// compares each result with Node's on the same inputs:
//
//   Deno, Bun, Cloudflare workerd  from their npm packages (test/engines/package.json, installed into
//                                  test/engines/node_modules on first use: npm ci here)
//   Firefox ESR                    Debian's firefox-esr, headless, driven over WebDriver BiDi by
//                                  puppeteer-core (no browser download)
//   WebKit (JavaScriptCore)        Debian's WebKitGTK MiniBrowser through WebKitWebDriver, under
//                                  xvfb-run (packages webkit2gtk-driver, xvfb)
//
// What each runs (cases.mjs names them):
//   the smoke set (smoke.mjs)      every activation, a dense + softmax model, softmax and logSoftmax
//                                  over rows, six error cases
//   memory growth (memory.mjs)     an 8 MiB layer, a 30,000-row batch and a 2²¹-float softmax row force
//                                  WebAssembly.Memory.grow; the model and staging buffer made before
//                                  must give the same bits after; nn.memory() must report the same
//                                  sizes as in Node at every step; OUT_OF_MEMORY past maximumMemory
//   browsers only (browsers.mjs)   both again inside module Web Workers (web-worker.mjs), a
//                                  Float32Array transferred to a worker and the result transferred
//                                  back, and the demo page with its benchmark worker, without console
//                                  errors. Firefox: baseline, relaxed and 'auto' (relaxed) binaries;
//                                  WebKit: baseline and 'auto' (baseline), and simd: 'relaxed' rejects
//                                  with NO_SIMD.
//
// The baseline binary must give Node's results bit for bit. Where the relaxed binary runs (simd:
// 'auto' on an engine with relaxed SIMD), results may differ in the last bits, as relaxed SIMD allows
// (fused or unfused multiply-add, engine by engine): each output array must then be within 1e-6 of
// Node's relaxed result, relative to the largest finite |value| of that array, with NaN, ±Infinity
// in the same places. Error codes, classes and messages must be identical everywhere.
//
// Then start-up: import → init() → first inference of a 64×64 dense model, median of 5 fresh
// processes, for Node, Deno, Bun (measured inside the process) and workerd (process spawn → first
// HTTP response, as the clock inside a worker does not advance during computation).
//
// An engine that is not installed FAILS, unless SIMDNN_SKIP_ENGINES lists it
// (e.g. SIMDNN_SKIP_ENGINES=firefox,webkit). This script never installs system packages: .ci/run
// apt-installs firefox-esr, webkit2gtk-driver and xvfb. Ends with "engines: N passed, N failed"
// (", N skipped" follows when SIMDNN_SKIP_ENGINES skipped some).
//
//   node test/engines/run.mjs            (needs a built package: npm run build)

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BIN = (rel) => path.join(HERE, 'node_modules', rel);
const SKIP = new Set((process.env.SIMDNN_SKIP_ENGINES ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
const RELATIVE_TOLERANCE = 1e-6;

let passed = 0;
let failed = 0;
const timings = [];
const startups = [];
const versions = {};

function check(ok, label, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${label}${detail && !ok ? `: ${detail}` : ''}`);
  return ok;
}

// ---------------------------------------------------------------- install

function ensureDeps() {
  const lock = path.join(HERE, 'package-lock.json');
  const stamp = BIN('.simdnn-engines-lock-sha256');
  const hash = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (!(existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash)) {
    console.log('engines: installing Deno, Bun, workerd and puppeteer-core into test/engines/node_modules (npm ci, once)');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE, stdio: ['ignore', 2, 2], env });
    if (r.status !== 0) throw new Error(`npm ci in test/engines failed (${r.error?.message ?? `exit ${r.status}`})`);
    writeFileSync(stamp, `${hash}\n`);
  }
  // The apps here `import … from 'simdnn'` as an installed package: link the checkout in as one.
  const link = BIN('simdnn');
  if (!existsSync(link)) {
    try { if (lstatSync(link)) unlinkSync(link); } catch { /* absent */ }
    symlinkSync(path.relative(path.dirname(link), ROOT), link);
  }
  for (const f of ['dist/index.js', 'dist/node.js', 'build/simdnn-simd.wasm', 'build/simdnn-relaxed.wasm']) {
    if (!existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run npm run build first`);
  }
}

// ---------------------------------------------------------------- processes

function run(cmd, args, { cwd = HERE, timeout = 120_000, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code ?? signal}\n${err.slice(-3000)}`));
    });
  });
}

const lastJsonLine = (out) => JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---------------------------------------------------------------- comparison

const f32 = (u32s) => new Float32Array(Uint32Array.from(u32s).buffer);

/** Differences between two smoke results, [] when they match (exactly, or within the tolerance). */
function compare(actual, expected, exact) {
  const problems = [];
  const names = Object.keys(expected.outputs);
  const missing = names.filter((n) => !(n in actual.outputs));
  if (missing.length) problems.push(`missing outputs ${missing.join(', ')}`);
  let identical = true;
  let worst = 0; // the largest |difference| / max|value| over all arrays
  const differing = [];
  for (const name of names) {
    const a = actual.outputs[name];
    const e = expected.outputs[name];
    if (!a) continue;
    if (a.length !== e.length) { problems.push(`${name}: ${a.length} values, expected ${e.length}`); continue; }
    const af = f32(a);
    const ef = f32(e);
    let scale = 0;
    for (const v of ef) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < e.length; i++) {
      if (a[i] === e[i]) continue;
      identical = false;
      if (differing.at(-1) !== name) differing.push(name);
      if (scale > 0) worst = Math.max(worst, Math.abs(af[i] - ef[i]) / scale);
      const bothNaN = Number.isNaN(af[i]) && Number.isNaN(ef[i]);
      const close = Number.isFinite(af[i]) && Number.isFinite(ef[i]) && Math.abs(af[i] - ef[i]) <= RELATIVE_TOLERANCE * scale;
      if (exact ? !bothNaN : !(bothNaN || close)) {
        problems.push(`${name}[${i}] = ${af[i]} (0x${a[i].toString(16)}), Node gives ${ef[i]} (0x${e[i].toString(16)})`);
        break;
      }
    }
  }
  for (const [name, e] of Object.entries(expected.errors)) {
    const a = actual.errors[name];
    if (!a || a.code !== e.code || a.isSimdnnError !== e.isSimdnnError || a.message !== e.message) {
      problems.push(`error "${name}": ${JSON.stringify(a)}, Node gives ${JSON.stringify(e)}`);
    }
  }
  return { problems, identical, worst, differing };
}

/**
 * Check one engine's results: `baseline` bit-exact against Node's baseline; `auto` chose
 * `autoBinary` and matches Node's result for that binary (exactly for baseline, within the
 * tolerance for relaxed). `memory:<mode>` results go to checkMemory.
 */
/** How each engine ran the worker pool (for the summary and the README's table). */
const threadsSeen = {};

function checkResults(engine, results, expected, { autoBinary }) {
  for (const [mode, r] of Object.entries(results)) {
    if (mode === 'relaxed-error' || mode === 'no-wasm-option') continue;
    if (mode.startsWith('memory:')) { checkMemory(engine, mode.slice('memory:'.length), r, expected, { autoBinary }); continue; }
    if (!r || r.error) { check(false, `${engine} simd: '${mode}'`, r?.error ?? 'no result'); continue; }
    const binary = r.binary;
    const want = mode === 'auto' ? autoBinary : mode;
    if (!check(binary === want, `${engine} simd: '${mode}' loads the ${want} binary`, binary === want ? '' : `it loaded ${binary}`)) continue;
    const exact = binary === 'baseline';
    const { problems, identical, worst, differing } = compare(r, expected[binary], exact);
    const how = exact ? 'bit for bit' : `within ${RELATIVE_TOLERANCE} × max|value| (${identical ? 'in fact bit-identical' : `last bits differ in ${differing.length} of them (${differing.join(', ')}): at most ${worst.toExponential(1)} × max|value|`})`;
    check(problems.length === 0, `${engine} simd: '${mode}' (${binary}): ${Object.keys(r.outputs).length} outputs and ${Object.keys(r.errors).length} errors equal Node's ${how}`, problems.slice(0, 3).join('; '));
    if (r.threads) {
      const t = r.threads;
      const how = t.unavailable ? `one thread: ${t.unavailable}` : t.threads < 2 ? 'one thread (asked for one)' : `${t.threads} threads, ${t.sharedMemory ? 'shared memory' : 'copies'}`;
      threadsSeen[engine] ??= how;
      check(t.sameAsPredict === true, `${engine} simd: '${mode}': predictAsync on a ${t.threadsAsked ?? 2}-thread runtime equals predict bit for bit (${how})`, JSON.stringify(t));
    }
  }
}

const mib = (bytes) => (bytes < 2 ** 20 ? `${bytes / 1024} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/**
 * One engine's memory-growth result (memory.mjs) on createRuntime({ simd: mode }): it loads the
 * expected binary; its outputs (large ones sampled) and errors equal Node's, bit for bit on the
 * baseline binary, where the digests of the large outputs must match too (every bit), within the
 * tolerance on relaxed; every invariant it checked itself holds; and nn.memory() reported the same
 * objects, bytes and heap size as in Node after every step (the arena's growth is deterministic).
 */
function checkMemory(engine, mode, r, expected, { autoBinary }) {
  const label = `${engine} memory growth (simd: '${mode}')`;
  if (!r || r.error) return check(false, `${label} runs`, r?.error ?? 'no result');
  const want = mode === 'auto' ? autoBinary : mode;
  if (!check(r.binary === want, `${label} loads the ${want} binary`, `it loaded ${r.binary}`)) return;
  const e = expected[`memory:${r.binary}`];
  const exact = r.binary === 'baseline';
  const { problems, identical, worst, differing } = compare(r, e, exact);
  const digestsDiffer = Object.keys(e.digests).filter((k) => r.digests?.[k] !== e.digests[k]);
  if (exact && digestsDiffer.length) problems.push(`the digest of every bit of ${digestsDiffer.join(', ')} differs from Node's`);
  // On relaxed, the large outputs are compared as sampled; their digests only tell whether every bit agrees.
  const differ = [...differing, ...digestsDiffer.map((k) => `every bit of ${k}`)];
  const how = exact
    ? `bit for bit (and the digests of every bit of the ${Object.keys(e.digests).length} large ones)`
    : `within ${RELATIVE_TOLERANCE} × max|value| (${differ.length === 0 ? 'in fact bit-identical, the digests of the large ones too' : `last bits differ in ${differ.join('; ')}: at most ${worst.toExponential(1)} × max|value| of the compared values`})`;
  check(problems.length === 0, `${label}: ${Object.keys(r.outputs).length} outputs before, during and after growth and ${Object.keys(r.errors).length} errors equal Node's ${how}`, problems.slice(0, 3).join('; '));
  const names = Object.keys(e.checks);
  const failing = names.filter((k) => r.checks?.[k] !== true);
  check(failing.length === 0, `${label}: its ${names.length} invariants hold (the model made before growth gives the same bits after it, …)`, `false: ${failing.join('; ')}`);
  const heap = r.memory.map((m) => m.heapBytes);
  const step = r.memory.findIndex((m, i) => JSON.stringify(m) !== JSON.stringify(e.memory[i]));
  check(r.memory.length === e.memory.length && step < 0,
    `${label}: nn.memory() after each of ${r.memory.length} steps equals Node's (heap ${mib(heap[0])} → ${mib(Math.max(...heap))}, ${Math.max(...r.memory.map((m) => m.objects))} objects at most, 0 after dispose)`,
    step < 0 ? `${r.memory.length} steps, Node has ${e.memory.length}` : `after "${r.memory[step].step}": ${JSON.stringify(r.memory[step])}, Node: ${JSON.stringify(e.memory[step])}`);
}

/**
 * A module Web Worker's results (page.html ?worker=<simd>): the smoke set and the memory growth
 * inside the worker, and the round trip of a transferred Float32Array.
 */
function checkWorker(engine, simd, r, expected, { autoBinary }) {
  const label = `${engine} Web Worker (simd: '${simd}')`;
  if (!r || r.error) return check(false, `${label}: a module worker imports dist/index.js and runs`, r?.error ?? 'no result');
  checkResults(`${engine} Web Worker`, { [simd]: r.smoke, [`memory:${simd}`]: r.memory }, expected, { autoBinary });
  const t = r.transfer;
  const want = simd === 'auto' ? autoBinary : simd;
  if (!check(t.binary === want, `${label}: init({ simd: '${simd}' }) in the worker loads the ${want} binary`, `it loaded ${t.binary}`)) return;
  check(t.bytesBefore === 17 * 3 * 4 && t.detachedAfter && t.received.isFloat32Array && t.received.length === 17 * 3,
    `${label}: a Float32Array the page transfers arrives whole (51 floats) and is detached in the page`, JSON.stringify({ ...t, y: undefined }));
  const name = 'model 17-9-5 dense relu softmax, batch 3';
  const exact = t.binary === 'baseline';
  const { problems } = compare({ outputs: { [name]: t.y }, errors: {} }, { outputs: { [name]: expected[t.binary].outputs[name] }, errors: {} }, exact);
  check(t.yIsFloat32Array && t.yOwnsItsBuffer && problems.length === 0,
    `${label}: the prediction on it, transferred back, equals Node's ${exact ? 'bit for bit' : `within ${RELATIVE_TOLERANCE} × max|value|`}`,
    problems[0] ?? JSON.stringify({ yIsFloat32Array: t.yIsFloat32Array, yOwnsItsBuffer: t.yOwnsItsBuffer }));
  const se = r.shapeError;
  const ee = expected[t.binary].errors['predict with 16 features'];
  check(se.type === 'error' && se.code === ee.code && se.isSimdnnError === ee.isSimdnnError && se.message === ee.message,
    `${label}: a SimdnnError in the worker crosses back as data with Node's code (${ee.code}) and message`, JSON.stringify(se));
}

// ---------------------------------------------------------------- engines

const ENGINES = [];
const engine = (name, fn) => ENGINES.push({ name, fn });

function denoBin() { return existsSync(BIN('@deno/linux-x64-glibc/deno')) ? BIN('@deno/linux-x64-glibc/deno') : BIN('.bin/deno'); }
function bunBin() { return existsSync(BIN('@oven/bun-linux-x64/bin/bun')) ? BIN('@oven/bun-linux-x64/bin/bun') : BIN('.bin/bun'); }
function workerdBin() { return existsSync(BIN('@cloudflare/workerd-linux-64/bin/workerd')) ? BIN('@cloudflare/workerd-linux-64/bin/workerd') : BIN('.bin/workerd'); }

async function startupOf(name, cmd, args) {
  const ms = [];
  let binary;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = lastJsonLine(await run(cmd, args));
    ms.push({ inProcess: r.ms, wall: performance.now() - t0 });
    binary = r.binary;
  }
  const s = { engine: name, binary, inProcess: median(ms.map((m) => m.inProcess)), wall: median(ms.map((m) => m.wall)) };
  startups.push(s);
  return s;
}

engine('deno', async (expected) => {
  const bin = denoBin();
  versions.deno = (await run(bin, ['--version'])).split('\n')[0];
  const out = lastJsonLine(await run(bin, ['run', '--allow-read', 'cli.mjs', 'baseline', 'auto', 'memory:baseline', 'memory:auto']));
  checkResults('deno', out.results, expected, { autoBinary: 'relaxed' });
  // Without --allow-read, Deno's permission error reaches the caller inside WASM_LOAD_FAILED.
  const denied = lastJsonLine(await run(bin, ['run', '--no-prompt', 'cli.mjs', 'relaxed-error'])).results['relaxed-error'];
  check(denied.code === 'WASM_LOAD_FAILED' && denied.message.includes('--allow-read'), 'deno without --allow-read: init() rejects with WASM_LOAD_FAILED naming --allow-read', denied.message);
  await startupOf('deno', bin, ['run', '--allow-read', 'startup-cli.mjs']);
});

engine('bun', async (expected) => {
  const bin = bunBin();
  versions.bun = `bun ${(await run(bin, ['--version'])).trim()}`;
  const out = lastJsonLine(await run(bin, ['cli.mjs', 'baseline', 'auto', 'memory:baseline', 'memory:auto']));
  checkResults('bun', out.results, expected, { autoBinary: 'relaxed' });
  await startupOf('bun', bin, ['startup-cli.mjs']);
});

/** Start workerd on a free loopback port; resolves once it answers. */
async function startWorkerd() {
  const port = await freePort();
  const child = spawn(workerdBin(), ['serve', 'workerd.capnp', '--socket-addr', `http=127.0.0.1:${port}`], { cwd: HERE, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}: ${err.slice(-2000)}`);
    try {
      const res = await fetch(`${base}/startup`);
      const body = await res.json();
      return { child, base, firstResponseMs: performance.now() - t0, body };
    } catch {
      if (performance.now() - t0 > 30_000) { child.kill(); throw new Error(`workerd did not answer on ${base}: ${err.slice(-2000)}`); }
      await sleep(5);
    }
  }
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const closed = new Promise((r) => child.on('close', r));
  child.kill('SIGTERM');
  await closed;
}

engine('workerd', async (expected) => {
  versions.workerd = (await run(workerdBin(), ['--version'])).trim();
  const { child, base, body } = await startWorkerd();
  try {
    check(body.binary === 'relaxed' && typeof body.y === 'number', 'workerd serves on 127.0.0.1 and init({ wasm }) with wasm module bindings runs a model', JSON.stringify(body));
    const res = await fetch(`${base}/smoke?simd=baseline&simd=auto&simd=memory:baseline&simd=memory:auto`);
    const out = await res.json();
    if (!check(res.ok, 'workerd /smoke answers 200', out.error ?? '')) return;
    checkResults('workerd', out.results, expected, { autoBinary: 'relaxed' });
    const noWasm = out.results['no-wasm-option'];
    check(noWasm.code === 'WASM_LOAD_FAILED' && /init\(\{ wasm/.test(noWasm.message), 'workerd: init() without { wasm } rejects with WASM_LOAD_FAILED naming init({ wasm })', JSON.stringify(noWasm));
  } finally {
    await stop(child);
  }
  const walls = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const s = await startWorkerd();
    walls.push(performance.now() - t0);
    await stop(s.child);
  }
  startups.push({ engine: 'workerd', binary: 'relaxed', inProcess: NaN, wall: median(walls) });
});

const browsers = await import('./browsers.mjs').catch((err) => ({ loadError: err }));

engine('firefox', async (expected) => {
  if (browsers.loadError) throw browsers.loadError;
  await browsers.firefox({ check, checkResults, checkWorker, expected, versions });
});

engine('webkit', async (expected) => {
  if (browsers.loadError) throw browsers.loadError;
  await browsers.webkit({ check, checkResults, checkWorker, expected, versions });
});

// ---------------------------------------------------------------- main

const started = performance.now();
try {
  ensureDeps();
} catch (err) {
  console.log(`engines: ${err.message}`);
  console.log('engines: 0 passed, 1 failed');
  process.exit(1);
}

// `--startup-json` (used by the benchmark): only the start-up measurements of Node, Deno, Bun and
// workerd, as one JSON line; no conformance checks.
if (process.argv.includes('--startup-json')) {
  await startupOf('node', process.execPath, ['startup-cli.mjs']);
  await startupOf('deno', denoBin(), ['run', '--allow-read', 'startup-cli.mjs']);
  await startupOf('bun', bunBin(), ['startup-cli.mjs']);
  const walls = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const w = await startWorkerd();
    walls.push(performance.now() - t0);
    await stop(w.child);
  }
  startups.push({ engine: 'workerd', binary: 'relaxed', inProcess: null, wall: median(walls) });
  versions.node = `node ${process.versions.node}`;
  versions.deno = (await run(denoBin(), ['--version'])).split('\n')[0];
  versions.bun = `bun ${(await run(bunBin(), ['--version'])).trim()}`;
  versions.workerd = (await run(workerdBin(), ['--version'])).trim();
  console.log(JSON.stringify({ startups, versions }));
  process.exit(0);
}

// Node's results on the same inputs: the expected values (Node 20 needs the flag for relaxed SIMD).
console.log('\n--- node (expected results)');
const nodeOut = lastJsonLine(await run(process.execPath, ['--experimental-wasm-relaxed-simd', 'cli.mjs', 'baseline', 'relaxed', 'memory:baseline', 'memory:relaxed']));
const expected = nodeOut.results;
versions.node = `node ${process.versions.node}`;
check(expected.baseline.binary === 'baseline' && expected.relaxed.binary === 'relaxed', 'node computes the expected results on both binaries');
for (const simd of ['baseline', 'relaxed']) {
  const m = expected[`memory:${simd}`];
  const failing = Object.entries(m.checks).filter(([, ok]) => !ok).map(([k]) => k);
  check(m.binary === simd && failing.length === 0, `node memory growth (${simd}): its ${Object.keys(m.checks).length} invariants hold; heap ${mib(m.memory[0].heapBytes)} → ${mib(m.memory.at(-1).heapBytes)}`, `false: ${failing.join('; ')}`);
}
await startupOf('node', process.execPath, ['startup-cli.mjs']);
{
  // The comparison itself: one flipped last bit fails the exact check and passes the tolerance;
  // a changed error code fails both.
  const flipped = structuredClone(expected.baseline);
  flipped.outputs.gelu[20] ^= 1;
  const recoded = structuredClone(expected.baseline);
  recoded.errors['unknown activation'].code = 'INVALID_ARGUMENT';
  check(compare(flipped, expected.baseline, true).problems.length === 1 && compare(flipped, expected.baseline, false).problems.length === 0
    && compare(recoded, expected.baseline, false).problems.length === 1, 'the comparison catches one flipped bit (exact) and a changed error code');
}

const only = process.argv.slice(2);
for (const { name, fn } of ENGINES) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n--- ${name}`);
  if (SKIP.has(name)) { console.log(`  SKIPPED (SIMDNN_SKIP_ENGINES=${[...SKIP].join(',')})`); timings.push({ name, s: 0, result: 'skipped' }); continue; }
  const t0 = performance.now();
  const before = failed;
  try {
    await fn(expected);
  } catch (err) {
    check(false, `${name} runs`, String(err?.stack ?? err).split('\n').slice(0, 6).join('\n    '));
  }
  timings.push({ name, s: (performance.now() - t0) / 1000, result: failed === before ? 'ok' : 'FAILED' });
}

console.log('\n--- per engine');
for (const t of timings) console.log(`  ${t.name.padEnd(8)} ${t.result.padEnd(8)} ${t.s.toFixed(1).padStart(6)} s  ${versions[t.name] ?? ''}`);
console.log("\n--- worker pool: how predictAsync ran (threads: 2 on each engine's main thread; 1 inside the browsers' Web Workers)");
for (const [engine, how] of Object.entries(threadsSeen)) console.log(`  ${engine.padEnd(18)} ${how}`);
console.log('\n--- start-up: import → init() → first inference of a 64×64 dense model (median of 5 fresh processes)');
console.log('  engine    binary    in process   process spawn → result');
for (const s of startups) {
  console.log(`  ${s.engine.padEnd(9)} ${s.binary.padEnd(9)} ${Number.isNaN(s.inProcess) ? '         —' : `${s.inProcess.toFixed(1).padStart(7)} ms`}   ${s.wall.toFixed(0).padStart(6)} ms`);
}
console.log(`\nengines: total ${((performance.now() - started) / 1000).toFixed(1)} s`);
const skipped = timings.filter((t) => t.result === 'skipped').length;
console.log(`engines: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed ? 1 : 0;
