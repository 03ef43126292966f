// One child process of the benchmark (run.mjs starts them; each gets a fresh V8 and, for the relaxed
// simdnn binary, --experimental-wasm-relaxed-simd). Usage: node bench/child.mjs '<job JSON>'
//
//   { mode: 'bench',    contender, workloads: [ids], quick, out, prefix }
//        start-up (this process is fresh: import → first inference), then per workload:
//        correctness against the float64 reference, then timing
//   { mode: 'startup',  contender, out }     one more start-up measurement in a fresh process
//   { mode: 'roofline', quick, out, prefix } peak f32x4 throughput and read bandwidth
//   { mode: 'import', contender, format, quick, out, prefix }
//        time to load the 784-512-256-10 MLP from bytes in one format (lib/import-timing.mjs)
//
// Results go to `out` (JSON, rewritten after every workload so a crash keeps what finished);
// progress goes to stderr.

import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const job = JSON.parse(process.argv[2]);
const save = (result) => writeFileSync(job.out, JSON.stringify(result));
const since = job.startedAt ?? Date.now();
const say = (msg) => process.stderr.write(`${job.prefix ?? ''}${((Date.now() - since) / 1000).toFixed(0)}s ${msg}\n`);
const errorText = (e) => (e && e.stack ? String(e.stack).split('\n').slice(0, 4).join(' | ') : String(e));

function fmtNs(ns) {
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/**
 * Import → first inference. Everything a real application already has (weights, the exported
 * .onnx bytes) is built before the clock starts; the library is imported after it starts.
 */
async function measureStartup(c, w, check) {
  const { x } = w.data();
  w.reference();
  await c.prepare?.(w);
  const t0 = performance.now();
  const info = await c.init();
  const t1 = performance.now();
  const inst = await c.setup(w);
  const t2 = performance.now();
  const y = await inst.run(x);
  const t3 = performance.now();
  await inst.run(x);
  const t4 = performance.now();
  const verdict = check(w, y);
  await inst.dispose();
  return {
    info,
    startup: {
      workload: w.id, ok: verdict.ok, message: verdict.message,
      importInitMs: t1 - t0, setupMs: t2 - t1, firstCallMs: t3 - t2, totalMs: t3 - t0, secondCallMs: t4 - t3,
    },
  };
}

async function bench() {
  const { CONTENDER_BY_ID } = await import('./contenders/index.mjs');
  const { WORKLOAD_BY_ID, STARTUP_WORKLOAD_ID, check } = await import('./lib/workloads.mjs');
  const { measure, timeFirst, BUDGETS } = await import('./lib/harness.mjs');
  const c = CONTENDER_BY_ID[job.contender];
  const train = await import('./lib/training.mjs');
  const budget = job.quick ? BUDGETS.quick : BUDGETS.full;
  const result = { contender: c.id, label: c.label, info: null, error: null, startup: null, cells: {} };
  save(result);
  try {
    const sw = WORKLOAD_BY_ID[STARTUP_WORKLOAD_ID];
    if (c.supports(sw) === true) {
      ({ info: result.info, startup: result.startup } = await measureStartup(c, sw, check));
      say(`${c.id} start-up: import → first inference ${result.startup.totalMs.toFixed(1)} ms${result.startup.ok ? '' : ` WRONG: ${result.startup.message}`}`);
    } else {
      result.info = await c.init();
    }
  } catch (e) {
    result.error = `init failed: ${errorText(e)}`;
    save(result);
    say(`${c.id}: ${result.error}`);
    return;
  }
  save(result);
  const ids = job.workloads;
  for (const [i, id] of ids.entries()) {
    const w = WORKLOAD_BY_ID[id];
    const where = `${c.id} ${i + 1}/${ids.length} ${w.id}`;
    let supported = c.supports(w);
    if (supported === true && w.onlyFor && !c.threads && !w.onlyFor.includes(c.id)) {
      supported = `${w.title} runs only for ${w.onlyFor.join(', ')} and the multi-thread contenders`;
    }
    if (supported !== true) {
      result.cells[id] = { status: 'n/a', reason: supported };
      say(`${where}: n/a (${supported})`);
      save(result);
      continue;
    }
    let inst;
    try {
      if (w.kind === 'train') {
        result.cells[id] = await train.benchTraining(c, w, budget, (msg) => say(`${where}: ${msg}`));
        save(result);
        continue;
      }
      const { x } = w.data();
      w.reference();
      await c.prepare?.(w);
      say(`${where}: setup…`);
      const t0 = performance.now();
      inst = await c.setup(w);
      const setupMs = performance.now() - t0;
      const first = await timeFirst(inst.run, x);
      const verdict = check(w, first.y);
      if (!verdict.ok) {
        result.cells[id] = { status: 'wrong', check: verdict, setupMs, firstCallMs: first.ms };
        say(`${where}: WRONG RESULT, not timed: ${verdict.message}`);
      } else {
        const { stats, last } = await measure(inst.run, x, budget, first);
        // Check the last timed call too: state must not drift over many calls (reused buffers, leaks).
        const again = check(w, last);
        if (!again.ok) {
          result.cells[id] = { status: 'wrong', check: again, setupMs, firstCallMs: first.ms, note: 'wrong after timing' };
          say(`${where}: WRONG RESULT after timing: ${again.message}`);
        } else {
          const cell = { status: 'ok', check: verdict, stats, setupMs, firstCallMs: first.ms };
          let extra = '';
          if (inst.runInto && !job.quick) {
            const into = await timeFirst(inst.runInto, x);
            const m = await measure(inst.runInto, x, budget, into);
            if (check(w, m.last).ok) {
              cell.intoStats = m.stats;
              extra = `; into preallocated out ${fmtNs(m.stats.median)}`;
            }
          }
          result.cells[id] = cell;
          say(`${where}: ${fmtNs(stats.median)} (p25 ${fmtNs(stats.p25)}, p75 ${fmtNs(stats.p75)}, ${stats.samples}×${stats.reps} calls; max err ${verdict.maxAbsErr.toExponential(1)}${extra})`);
        }
      }
    } catch (e) {
      result.cells[id] = { status: 'error', message: errorText(e) };
      say(`${where}: ERROR ${errorText(e)}`);
    } finally {
      try { await inst?.dispose(); } catch (e) { say(`${where}: dispose failed: ${errorText(e)}`); }
    }
    save(result);
  }
}

async function startup() {
  const { CONTENDER_BY_ID } = await import('./contenders/index.mjs');
  const { WORKLOAD_BY_ID, STARTUP_WORKLOAD_ID, check } = await import('./lib/workloads.mjs');
  const c = CONTENDER_BY_ID[job.contender];
  const { startup: s } = await measureStartup(c, WORKLOAD_BY_ID[STARTUP_WORKLOAD_ID], check);
  save({ contender: c.id, ...s });
}

async function roofline() {
  const { measureRoofline, relaxedSimdSupported } = await import('./lib/roofline.mjs');
  const relaxed = relaxedSimdSupported();
  save(measureRoofline({ relaxed, quick: job.quick, log: (m) => say(m) }));
}

async function importTiming() {
  const { CONTENDER_BY_ID } = await import('./contenders/index.mjs');
  const { measureImport } = await import('./lib/import-timing.mjs');
  const r = await measureImport(CONTENDER_BY_ID[job.contender], job.format, job.quick);
  say(`${job.contender} ${job.format}: first ${r.firstMs.toFixed(2)} ms, steady median ${r.medianMs.toFixed(2)} ms (p25 ${r.p25Ms.toFixed(2)}, p75 ${r.p75Ms.toFixed(2)}, ${r.runs} runs)${r.ok ? '' : ` WRONG: ${r.message}`}`);
  save(r);
}

const modes = { bench, startup, roofline, import: importTiming };
try {
  await modes[job.mode]();
} catch (e) {
  say(`child ${job.mode} ${job.contender ?? ''} failed: ${errorText(e)}`);
  process.exitCode = 1;
}
