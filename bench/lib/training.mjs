// W4 in one child process: check, then time, one contender's training step (bench/child.mjs calls
// benchTraining for every workload of kind 'train').
//
// A training instance (contender.setup(w) for a train workload) is either
//   { step(k) → loss, crossEntropy, dispose }    one optimizer step on batch k (0 ≤ k < w.batches),
//                                               returning that batch's loss computed before the update
//   { timed(budget, checkSteps) → raw, crossEntropy, dispose }
//                                               a contender in another process (PyTorch) that runs
//                                               the same check steps and budget rules itself
// crossEntropy: whether the loss is the workload's cross-entropy (then its first value is checked
// against float64), or another measure (brain.js's squared error: only "finite and falling").
//
// Check: TRAIN_CHECK_STEPS steps on batch 0 from the initial weights (checkTraining). Timing: steps
// cycling through the workload's batches, with the harness's budgets; the first check step is the
// "first call". The loss of the last timed step must still be finite.

import { performance } from 'node:perf_hooks';
import { TRAIN_CHECK_STEPS, checkTraining } from './workloads.mjs';
import { measure, summarize } from './harness.mjs';

const fmt = (ns) => (ns < 1e6 ? `${(ns / 1e3).toFixed(1)} µs` : `${(ns / 1e6).toFixed(2)} ms`);

/** @returns {Promise<object>} the cell for the report (status ok | wrong | error) */
export async function benchTraining(c, w, budget, say) {
  w.reference();
  say('setup…');
  const t0 = performance.now();
  const inst = await c.setup(w);
  const setupMs = performance.now() - t0;
  try {
    let losses, firstMs, stats, last, info, isAsync = false;
    if (inst.timed) {
      say('checking and timing in its own process…');
      const raw = await inst.timed(budget, TRAIN_CHECK_STEPS);
      losses = raw.checkLosses;
      firstMs = raw.firstMs;
      stats = summarize(raw.samplesMs, raw.reps, false);
      last = raw.lastLoss;
      info = { version: raw.version, threads: raw.threads, interopThreads: raw.interopThreads };
    } else {
      losses = [];
      const s0 = performance.now();
      const r0 = inst.step(0);
      isAsync = !!r0 && typeof r0.then === 'function';
      losses.push(isAsync ? await r0 : r0);
      firstMs = performance.now() - s0;
      for (let i = 1; i < TRAIN_CHECK_STEPS; i++) losses.push(await inst.step(0));
    }
    const verdict = checkTraining(w, losses, { crossEntropy: inst.crossEntropy });
    const lossText = losses.map((v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))).join(' → ');
    if (!verdict.ok) {
      say(`WRONG RESULT, not timed: ${verdict.message}`);
      return { status: 'wrong', check: verdict, setupMs, firstCallMs: firstMs };
    }
    if (!inst.timed) {
      let k = 0;
      const step = () => inst.step(k++ % w.batches);
      ({ stats, last } = await measure(step, null, budget, { ms: firstMs, isAsync, y: losses.at(-1) }));
    }
    if (!Number.isFinite(last)) {
      say(`WRONG RESULT after timing: loss ${last}`);
      return { status: 'wrong', check: { ...verdict, ok: false, message: `loss after the timed steps is ${last}` }, setupMs, firstCallMs: firstMs, note: 'wrong after timing' };
    }
    say(`${fmt(stats.median)} per step (p25 ${fmt(stats.p25)}, p75 ${fmt(stats.p75)}, ${stats.samples}×${stats.reps} steps; ${(w.batch / (stats.median / 1e9)).toFixed(0)} samples/s; loss ${lossText}${inst.crossEntropy ? `, float64 first loss ${w.reference().loss0.toPrecision(6)}` : ''})`);
    return { status: 'ok', check: verdict, stats, setupMs, firstCallMs: firstMs, losses, lastLoss: last, lossKind: inst.crossEntropy ? 'crossEntropy' : 'other', ...(info ? { info } : {}) };
  } finally {
    await inst.dispose();
  }
}
