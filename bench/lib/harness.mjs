// Timing with tinybench. Each tinybench iteration runs the call `reps` times back to back and
// reports the mean per call (`overriddenDuration`), so sub-microsecond calls are not swamped by the
// timer; reps is calibrated during warm-up so one sample takes ~targetSampleMs. Sync and async
// calls get separate task functions so a synchronous contender never pays for an `await`.

import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';

/** Timing budgets. QUICK keeps the CI smoke test well under a minute. */
export const BUDGETS = {
  // warm-up: at least warmupMs and warmupCalls (the first call counts); then samples of ~targetSampleMs
  // until budgetMs has passed and minSamples are taken.
  full: { warmupMs: 150, warmupCalls: 3, budgetMs: 900, targetSampleMs: 2, minSamples: 7 },
  // quick: a call slower than firstOnlyMs is not repeated; its first call is the (indicative) time.
  quick: { warmupMs: 10, warmupCalls: 1, budgetMs: 40, targetSampleMs: 1, minSamples: 1, firstOnlyMs: 100 },
};

let sink = 0;
function consume(y) {
  // Keep results observable so no engine can drop the work (a training step returns its loss).
  if (typeof y === 'number') sink += y;
  else if (y && y.length) sink += y[0];
}

/**
 * Time `fn(input)` (a JS Float32Array in, a JS-readable Float32Array out). The caller has made the
 * first call already (to check its result): `first` says how long it took and whether fn is async,
 * and counts as warm-up. Returns the statistics and the output of the last timed call, so the
 * caller can check the result again after thousands of calls at no extra cost.
 * @param {(x: Float32Array) => Float32Array | Promise<Float32Array>} fn
 * @param {Float32Array} input
 * @param {typeof BUDGETS.full} budget
 * @param {{ms: number, isAsync: boolean}} first
 * @returns {Promise<{stats: Stats, last: Float32Array}>}
 */
export async function measure(fn, input, budget, first) {
  if (budget.firstOnlyMs && first.ms >= budget.firstOnlyMs) {
    return { stats: summarize([first.ms], 1, first.isAsync), last: first.y };
  }
  let last;
  const runReps = first.isAsync
    ? async (reps) => {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) consume((last = await fn(input)));
      return performance.now() - t0;
    }
    : async (reps) => {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) consume((last = fn(input)));
      return performance.now() - t0;
    };

  // Warm-up (lets the JIT and wasm tier-up settle) doubling reps, which also calibrates.
  let reps = 1, perCall = first.ms, spent = first.ms, calls = 1;
  while (spent < budget.warmupMs || calls < budget.warmupCalls) {
    const dt = await runReps(reps);
    spent += dt; calls += reps;
    perCall = Math.min(perCall, dt / reps);
    if (dt < budget.targetSampleMs / 4) reps *= 2;
  }
  reps = Math.max(1, Math.round(budget.targetSampleMs / Math.max(perCall, 1e-6)));

  // Sampling: tinybench runs the batched call until budgetMs has passed and minSamples are taken.
  const bench = new Bench({
    time: budget.budgetMs, iterations: budget.minSamples, warmupTime: 0, warmupIterations: 0, retainSamples: true,
  });
  const sample = (dt) => ({ overriddenDuration: dt / reps, overriddenIterationCost: dt });
  bench.add('call', first.isAsync ? async () => sample(await runReps(reps)) : () => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) consume((last = fn(input)));
    return sample(performance.now() - t0);
  });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`tinybench: ${result.state}${result.error ? ': ' + result.error.message : ''}`);
  const samples = Array.from(result.latency.samples ?? [result.latency.p50]);
  return { stats: summarize(samples, reps, first.isAsync), last };
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Statistics of per-call times in ms (each the mean of `reps` back-to-back calls); exported for
 * contenders that time themselves in another process (PyTorch) with the same budgets.
 * @typedef {object} Stats  all times in nanoseconds per call
 * @property {number} median
 * @property {number} p25
 * @property {number} p75
 * @property {number} mad   median absolute deviation
 * @property {number} min
 * @property {number} samples
 * @property {number} reps  calls per sample
 * @property {boolean} async
 */
export function summarize(samplesMs, reps, isAsync) {
  const ns = samplesMs.map((v) => v * 1e6).sort((a, b) => a - b);
  const median = quantile(ns, 0.5);
  const dev = ns.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  return {
    median,
    p25: quantile(ns, 0.25),
    p75: quantile(ns, 0.75),
    mad: quantile(dev, 0.5),
    min: ns[0],
    samples: ns.length,
    reps,
    async: isAsync,
  };
}

/** The first call after setup: its time (ms), its output, and whether the call is async. */
export async function timeFirst(fn, input) {
  const t0 = performance.now();
  const r = fn(input);
  const isAsync = !!r && typeof r.then === 'function';
  const y = isAsync ? await r : r;
  return { ms: performance.now() - t0, y, isAsync };
}
