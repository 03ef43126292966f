// simdnn comparative benchmark. `npm run bench` (full, a few minutes) or
// `BENCH_QUICK=1 npm run bench` (smoke test, 1–2 minutes: checks every result and that every
// contender ran; never asserts timings). Needs `npm run build` first. The peer libraries live in
// bench/package.json: the first run installs them into bench/node_modules (bench/setup.mjs).
//
// Every contender runs in its own child process (bench/child.mjs): a fresh V8 each, node flags per
// contender (the relaxed simdnn binary needs --experimental-wasm-relaxed-simd on Node 20), and a
// crash marks that contender failed instead of ending the run. Order: roofline → contenders (each
// starts by timing its own import → first inference) → import timing (one fresh process per
// contender and model format) → extra start-up runs (full) → sizes → report.
//
// Optional filters for development: BENCH_ONLY=ids,… (contenders), BENCH_WORKLOADS=ids,… (the id
// `import` selects the import timing, which otherwise runs whenever BENCH_WORKLOADS is unset)
// `node bench/run.mjs --render` rewrites latest.md/svg (and the targets) from latest.json, no run.
// Exit code: 0 when every supported (contender, workload) pair ran and matched the float64
// reference; 1 otherwise (wrong result, crash, init failure); 2 when the package is not built or
// the peer libraries could not be installed.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBenchDeps } from './setup.mjs';
import { WORKLOADS } from './lib/workloads.mjs';
import { relaxedSimdSupported } from './lib/roofline.mjs';
import { buildReport, refreshTargets, renderConsole, renderMarkdown, renderSvg } from './lib/report.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const QUICK = !!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0';
// Start-up is measured at the top of each contender's bench process; full runs add fresh processes.
const STARTUP_RUNS = QUICK ? 1 : 5;
const CHILD_TIMEOUT_MS = (QUICK ? 120 : 1200) * 1000;
const t0 = Date.now();

const log = (msg) => process.stderr.write(`${msg}\n`);
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)}s`;

function pick(list, env, extra = []) {
  if (!process.env[env]) return list;
  const want = new Set(process.env[env].split(',').map((s) => s.trim()));
  const chosen = list.filter((x) => want.has(x.id));
  if (chosen.length + extra.filter((id) => want.has(id)).length !== want.size) {
    log(`${env}: unknown id in ${process.env[env]}; known: ${[...list.map((x) => x.id), ...extra].join(', ')}`);
    process.exit(2);
  }
  return chosen;
}

// ------------------------------------------------------------ --render: rewrite md/svg from latest.json

if (process.argv.includes('--render')) {
  const report = refreshTargets(JSON.parse(readFileSync(path.join(RESULTS, 'latest.json'), 'utf8')));
  writeFileSync(path.join(RESULTS, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(RESULTS, 'latest.md'), renderMarkdown(report));
  writeFileSync(path.join(RESULTS, 'latest.svg'), renderSvg(report));
  process.stdout.write(`${renderConsole(report)}\n`);
  process.exit(0);
}

// ------------------------------------------------------------ preconditions

for (const f of ['dist/node.js', 'build/simdnn-simd.wasm', 'build/simdnn-relaxed.wasm']) {
  if (!existsSync(path.join(ROOT, f))) {
    log(`bench: ${f} is missing. Run \`npm run build\` first.`);
    process.exit(2);
  }
}

/** V8 flag for relaxed SIMD if this engine needs one (Node 20), or none (it validates already). */
function relaxedFlags() {
  return relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'];
}
const RELAXED_FLAGS = relaxedFlags();

// The contenders import the peer libraries (bench/node_modules): install them first if needed.
ensureBenchDeps();
const { CONTENDERS } = await import('./contenders/index.mjs');
const flagsFor = (c) => (c.nodeFlags?.length ? RELAXED_FLAGS : []);

// ------------------------------------------------------------ child processes

const tmp = mkdtempSync(path.join(os.tmpdir(), 'simdnn-bench-'));
const cacheDir = path.join(tmp, 'cache');
mkdirSync(cacheDir);
let jobCounter = 0;

/** Run one child job; resolves to its JSON result (or null) and the way it ended. */
function runChild(job, flags = []) {
  const out = path.join(tmp, `job-${++jobCounter}.json`);
  const args = [...flags, path.join(ROOT, 'bench', 'child.mjs'), JSON.stringify({ ...job, out, startedAt: t0 })];
  return new Promise((resolve) => {
    // Child stdout goes to our stderr: our stdout carries only the final table.
    const child = spawn(process.execPath, args, {
      cwd: ROOT, stdio: ['ignore', 2, 2], env: { ...process.env, BENCH_CACHE_DIR: cacheDir },
    });
    const timer = setTimeout(() => {
      log(`bench: child ${job.mode} ${job.contender ?? ''} timed out after ${CHILD_TIMEOUT_MS / 1000}s; killing pid ${child.pid}`);
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      let result = null;
      try { result = JSON.parse(readFileSync(out, 'utf8')); } catch { /* none written */ }
      resolve({ result, code, signal });
    });
  });
}

// ------------------------------------------------------------ machine

function machineInfo() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const field = (name) => cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  let caches = '';
  try {
    const dir = '/sys/devices/system/cpu/cpu0/cache';
    caches = readdirSync(dir).filter((d) => d.startsWith('index')).map((d) => {
      const r = (f) => readFileSync(path.join(dir, d, f), 'utf8').trim();
      return `L${r('level')}${r('type') === 'Instruction' ? 'i' : r('type') === 'Data' ? 'd' : ''} ${r('size')}`;
    }).join(', ');
  } catch { /* not Linux */ }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'assembly'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += ' (+ uncommitted changes in src/ or assembly/)';
  } catch { /* not a git checkout */ }
  const flags = field('flags') ?? '';
  return {
    date: new Date().toISOString(),
    cpu: field('model name') ?? os.cpus()[0]?.model ?? 'unknown',
    mhz: field('cpu MHz') ? Math.round(Number(field('cpu MHz'))) : null,
    cpuFeatures: ['sse4_1', 'avx', 'avx2', 'fma', 'avx512f'].filter((f) => new RegExp(`\\b${f}\\b`).test(flags)).join(' '),
    cores: os.cpus().length,
    caches,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    v8: process.versions.v8,
    relaxedFlags: RELAXED_FLAGS.join(' ') || '(none needed)',
    simdnnVersion: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
    commit,
  };
}

// ------------------------------------------------------------ main

const contenders = pick(CONTENDERS, 'BENCH_ONLY');
const workloads = pick(WORKLOADS, 'BENCH_WORKLOADS', ['import']);
const IMPORT_TIMING = !process.env.BENCH_WORKLOADS || process.env.BENCH_WORKLOADS.split(',').map((s) => s.trim()).includes('import');
const failures = [];
const machine = machineInfo();
log(`simdnn bench ${QUICK ? '(QUICK)' : '(full)'}: ${contenders.length} contenders × ${workloads.length} workloads on ${machine.cpu}, node ${machine.node}`);

let roofline = null;
const results = [];
const startup = {};
const importTiming = [];
try {
  log(`[roofline] measuring peak f32x4 throughput and read bandwidth…`);
  const roof = await runChild({ mode: 'roofline', quick: QUICK, prefix: '[roofline] ' }, RELAXED_FLAGS);
  roofline = roof.result;
  if (!roofline) failures.push(`roofline: child failed (exit ${roof.code ?? roof.signal})`);

  for (const [i, c] of contenders.entries()) {
    const prefix = `[${i + 1}/${contenders.length}] `;
    log(`${prefix}${elapsed()} ${c.id}${flagsFor(c).length ? ` (node ${flagsFor(c).join(' ')})` : ''}`);
    const run = await runChild({ mode: 'bench', contender: c.id, workloads: workloads.map((w) => w.id), quick: QUICK, prefix }, flagsFor(c));
    const r = run.result ?? { contender: c.id, label: c.label, info: null, error: null, cells: {} };
    if (run.code !== 0) r.error = r.error ?? `child process ended with ${run.signal ?? `exit code ${run.code}`}`;
    if (r.error) failures.push(`${c.id}: ${r.error}`);
    for (const w of workloads) {
      const cell = r.cells[w.id];
      if (!cell) { if (!r.error) failures.push(`${c.id} / ${w.id}: no result`); continue; }
      if (cell.status === 'wrong') failures.push(`${c.id} / ${w.id}: WRONG RESULT — ${cell.check?.message}`);
      if (cell.status === 'error') failures.push(`${c.id} / ${w.id}: ERROR — ${cell.message}`);
    }
    results.push(r);
  }

  if (IMPORT_TIMING) {
    const jobs = contenders.flatMap((c) => (c.importFormats ?? []).map((format) => ({ c, format })));
    log(`[import ${elapsed()}] time to load the 784-512-256-10 MLP from bytes: ${jobs.length} fresh processes`);
    for (const { c, format } of jobs) {
      const run = await runChild({ mode: 'import', contender: c.id, format, quick: QUICK, prefix: `[import] ` }, flagsFor(c));
      const r = run.result ?? { contender: c.id, format, ok: false, message: `child process ended with ${run.signal ?? `exit code ${run.code}`}` };
      if (!r.ok) failures.push(`${c.id} import ${format}: ${r.firstMs === undefined ? 'ERROR' : 'WRONG RESULT'} — ${r.message}`);
      importTiming.push(r);
    }
  }

  for (const r of results) {
    startup[r.contender] = [];
    if (!r.startup) continue;
    if (r.startup.ok) startup[r.contender].push(r.startup);
    else failures.push(`${r.contender} start-up: WRONG RESULT — ${r.startup.message}`);
  }
  if (STARTUP_RUNS > 1) {
    for (const [i, c] of contenders.entries()) {
      if (startup[c.id].length === 0) continue;
      log(`[start-up ${i + 1}/${contenders.length} ${elapsed()}] ${c.id}: ${STARTUP_RUNS - 1} more fresh processes`);
      for (let k = 1; k < STARTUP_RUNS; k++) {
        const run = await runChild({ mode: 'startup', contender: c.id }, flagsFor(c));
        const r = run.result ?? { ok: false, message: `child process ended with ${run.signal ?? `exit code ${run.code}`}` };
        if (!r.ok) { failures.push(`${c.id} start-up: ${r.message}`); break; }
        startup[c.id].push(r);
      }
    }
  }

  log(`[sizes ${elapsed()}] measuring JS / wasm bytes`);
  const footprint = {};
  for (const c of contenders) {
    try { footprint[c.id] = await c.footprint(); } catch (e) { log(`footprint ${c.id}: ${e.message}`); }
  }

  // simdnn's start-up in the other engines (Deno, Bun, workerd; Node for reference), measured by the
  // engine test runner (test/engines/run.mjs, which installs them on first use). Full runs only.
  let engineStartup = null;
  if (!QUICK && !process.env.BENCH_ONLY && !process.env.BENCH_WORKLOADS && process.env.BENCH_ENGINES !== '0') {
    log(`[engines ${elapsed()}] start-up in Node, Deno, Bun and workerd (test/engines/run.mjs --startup-json)`);
    const { spawnSync } = await import('node:child_process');
    const runner = fileURLToPath(new URL('../test/engines/run.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [runner, '--startup-json'], { cwd: path.dirname(runner), encoding: 'utf8', timeout: 600_000 });
    const line = (r.stdout ?? '').trim().split('\n').reverse().find((l) => l.startsWith('{'));
    if (r.status === 0 && line) engineStartup = JSON.parse(line);
    else log(`engines start-up not measured (exit ${r.status}): ${(r.stderr || r.stdout || '').slice(-500)}`);
  }

  machine.loadAverageAtEnd = os.loadavg().map((v) => Number(v.toFixed(2)));
  const report = buildReport({
    machine, quick: QUICK, wallSeconds: (Date.now() - t0) / 1000, roofline, contenders: results, startup, footprint, failures,
    engineStartup, importTiming,
  });
  mkdirSync(RESULTS, { recursive: true });
  // A quick (smoke) or filtered run must not overwrite the full run the README quotes.
  const name = QUICK ? 'quick' : process.env.BENCH_ONLY || process.env.BENCH_WORKLOADS ? 'partial' : 'latest';
  writeFileSync(path.join(RESULTS, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(RESULTS, `${name}.md`), renderMarkdown(report));
  writeFileSync(path.join(RESULTS, `${name}.svg`), renderSvg(report));
  process.stdout.write(`${renderConsole(report)}\n`);
  log(`\nwrote bench/results/${name}.{json,md,svg} in ${elapsed()}`);
  for (const n of report.notes) log(`*** ${n} ***`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// Summary line (worded so it is not taken for a test runner's "N passed, N failed" closing line:
// .ci/run prints that one itself).
const cells = results.flatMap((r) => Object.values(r.cells));
const passed = cells.filter((c) => c.status === 'ok').length + Object.values(startup).flat().length + (roofline ? 1 : 0) +
  importTiming.filter((r) => r.ok).length;
const skipped = cells.filter((c) => c.status === 'n/a').length;
if (failures.length) {
  log(`\nbench FAILED: ${failures.length} problem(s):`);
  for (const f of failures) log(`  - ${f}`);
  process.exitCode = 1;
} else {
  log('every contender ran every supported workload and matched the float64 reference');
}
process.stdout.write(`bench: ${passed} checks ok, ${failures.length} problems, ${skipped} n/a\n`);
