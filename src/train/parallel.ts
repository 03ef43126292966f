// Training steps on the worker pool (shared memory): the jobs each thread runs (the workers through
// runJob, src/worker.ts) and the calling thread's side of a step (parallelStep, from the model's
// fit). Loaded with the pool, on the first step that uses it: an app that never trains on threads
// does not load it.
import { SimdnnError } from '../errors.js';
import * as ops from '../ops.js';
import type { Ctx } from '../ops.js';
import type { FitRun, Optimizer } from './options.js';
import { countCorrect } from './data.js';
import { LINEAR, forward, lossInput, optimize, toPreActivation, type Head, type MaskSource, type PassPlan, type RowBuffers } from './pass.js';
import type { ParallelBlock, Trainer } from './trainer.js';

/** How long a parallel step's calling thread spins at a barrier (ms) before it checks back every
 *  millisecond instead: a worker that is slower than that, or has failed. */
const WATCH_MS = 2;

// Parallel steps (fit on the worker pool): one job per thread, its parts separated by barriers in
// shared memory (every thread's part must be done before any starts the next). First, when the
// first layer is dense, its product Z = X·Wᵀ + b by units: each thread computes a range of whole
// panels over every row of the batch, so it reads only the weights it updates in round 2 (when
// both threads read every weight, each thread's optimizer writes land on cache lines the other
// core holds, and the first layer's optimizer ran about 3× slower: bench/shared-lines.mjs).
// Round 1, by rows: each slice of the batch runs forward, loss and the backward pass of the data
// (dX, activation derivatives, dropout), keeping every dense layer's dY for its rows in a buffer
// of its own; PReLU slope gradients, a sum over rows, go into the slice's own small slab. Round 2,
// by units: each thread computes dW and db over every row of the batch for a range of whole panels
// of each dense layer (the same sum, in the same order, as one thread's backward pass computes)
// and runs the optimizer over those panels; the slope gradients are summed in slice order first.
// No gradient slab is summed across threads.

/** A slice's buffers: its rows, `g[i]` the gradient of layer i's output for these rows (the same
 *  buffer as g[i − 1] for a layer without weights, which works in place) and `slopes[i]` where this
 *  slice adds layer i's PReLU slope gradients (0 without). */
export interface SliceBuffers extends RowBuffers {
  readonly g: readonly number[];
  readonly slopes: readonly number[];
}

/** Round 1 for one slice: forward, loss, its gradient scaled by `weight` (the slice's share of the
 *  whole batch's mean: the loss kernels divide by the slice's own rows), backward of the data.
 *  With `columns`, first that share of the first layer's product, then the barrier: the slice's
 *  forward pass then starts from the first layer's Z. A worker's job also carries its share of
 *  round 2 (`update`, after the barrier `meet`, where it leaves its slice's loss) and the barrier
 *  `done`, where it says it has finished before its reply message arrives. */
export interface SliceJob {
  readonly plan: PassPlan;
  readonly head: Head;
  readonly bufs: SliceBuffers;
  readonly rows: number;
  readonly weight: number;
  readonly masks?: MaskSource;
  readonly columns?: ColumnJob;
  readonly barrier?: Barrier;
  readonly meet?: Barrier;
  readonly update?: UpdateJob;
  readonly done?: Barrier;
}

/** The first layer's product for units [8·p0, 8·p0 + N) over all M rows: computed into `out`
 *  (M rows of N floats), then copied into Z's rows (`ldz` floats long) at column 8·p0. `packed`
 *  is panel p0 of the layer's weights, `z` Z's first row at that column. */
export interface ColumnJob {
  readonly x: number;
  readonly packed: number;
  readonly out: number;
  readonly z: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly ldz: number;
}

export function runColumns(ctx: Ctx, j: ColumnJob): void {
  ops.dense(ctx, j.out, j.x, j.packed, j.M, j.K, j.N, LINEAR);
  ops.copyRows(ctx, j.z, j.ldz, j.out, j.N, j.M, j.N);
}

/**
 * Every thread of a step meets here: thread `me` stores `seq` into the int32 of its cell
 * (`at + 16·me`; a float64 it leaves for the calling thread first, at +8), then waits until every
 * cell holds `seq`. A cell holding `-seq` means the step was abandoned (the calling thread saw a
 * thread fail): whoever waits gives up.
 */
export interface Barrier {
  readonly at: number;
  readonly count: number;
  readonly me: number;
  readonly seq: number;
}

/** Arrive at the barrier, leaving `value` (and wake whoever waits on this cell). */
export function arrive(memory: { buffer: ArrayBufferLike }, b: Barrier, value = 0): void {
  const i32 = new Int32Array(memory.buffer);
  const cell = (b.at + 16 * b.me) >> 2;
  new Float64Array(memory.buffer, b.at + 16 * b.me + 8, 1)[0] = value;
  Atomics.store(i32, cell, b.seq);
  Atomics.notify(i32, cell);
}

/** Whether every thread has arrived (i32: a view of the whole memory): true, false (not yet), or
 *  undefined (abandoned). */
export function arrived(i32: Int32Array, b: Barrier): boolean | undefined {
  let all = true;
  for (let i = 0; i < b.count; i++) {
    const v = Atomics.load(i32, (b.at + 16 * i) >> 2);
    if (v === -b.seq) return undefined;
    if (v !== b.seq) all = false;
  }
  return all;
}

/** The values the threads left at a barrier they have all passed, in thread order. */
export function leftAt(memory: { buffer: ArrayBufferLike }, b: Barrier): number[] {
  return Array.from({ length: b.count }, (_, i) => new Float64Array(memory.buffer, b.at + 16 * i + 8, 1)[0]!);
}

/** The calling thread gives up on a step (a thread failed): cells not yet arrived say so, and
 *  whoever waits on them wakes. */
export function abandon(memory: { buffer: ArrayBufferLike }, b: Barrier): void {
  const i32 = new Int32Array(memory.buffer);
  for (let i = 0; i < b.count; i++) {
    const cell = (b.at + 16 * i) >> 2;
    const v = Atomics.load(i32, cell);
    if (v !== b.seq && Atomics.compareExchange(i32, cell, v, -b.seq) === v) Atomics.notify(i32, cell);
  }
}

/** In a worker: wait (blocking; a worker may) until every thread has arrived. Throws when the
 *  step was abandoned. Spins for a moment first: the threads' shares are about equal. */
export function awaitBarrier(memory: { buffer: ArrayBufferLike }, b: Barrier): void {
  const i32 = new Int32Array(memory.buffer);
  const start = performance.now();
  for (let i = 0; i < b.count; i++) {
    const cell = (b.at + 16 * i) >> 2;
    for (let spins = 0; ; spins++) {
      const v = Atomics.load(i32, cell);
      if (v === b.seq) break;
      if (v === -b.seq) throw new SimdnnError('WORKER_FAILED', 'this training step was abandoned: another thread of the pool failed');
      if (spins > 64 && performance.now() - start > 1) Atomics.wait(i32, cell, v, 100);
    }
  }
}

/** Runs round 1 of a slice; returns its mean loss. */
export function runSlice(ctx: Ctx, j: SliceJob): number {
  const { plan, head, bufs: s, rows: B, masks } = j;
  const layers = plan.layers;
  const L = layers.length;
  forward(ctx, plan, s, B, masks, j.columns !== undefined);
  const g0 = s.g[L - 1]!;
  const value = ops.loss(ctx, head.kernel, g0, lossInput(plan, head, s), s.t, B, plan.outputs);
  if (j.weight !== 1) ops.scale(ctx, g0, g0, j.weight, B * plan.outputs);
  for (let i = L - 1; i >= 0; i--) {
    const l = layers[i]!;
    const g = s.g[i]!;
    toPreActivation(ctx, plan, head, i, g, s.z[i]!, s.slopes[i]!, B, s.row, masks);
    if (l.type === 'dense' && plan.below[i]) ops.denseBackward(ctx, s.g[i - 1]!, 0, g, s.y[i - 1]!, l.packed, B, l.K, l.N);
  }
  return value;
}

/** Round 2, one chunk of one layer's parameters at p (gradients at g, the optimizer's state `slab`
 *  floats apart): with `dw`, the dense layer's dW and db for a range of its units over every row of
 *  the batch; `sources`, the other slices' slope gradients, added in order (then cleared); then the
 *  optimizer over the n floats, when there is one (without: the caller clips and updates). */
export interface UpdatePart {
  readonly p: number;
  readonly g: number;
  readonly n: number;
  readonly slab: number;
  readonly dw?: { readonly dy: number; readonly x: number; readonly M: number; readonly K: number; readonly N: number; readonly ldy: number };
  readonly sources: readonly number[];
}

/** A thread's share of round 2. */
export interface UpdateJob {
  readonly opt?: Optimizer;
  readonly t: number;
  readonly parts: readonly UpdatePart[];
}

export function runUpdate(ctx: Ctx, job: UpdateJob): void {
  for (const part of job.parts) {
    const d = part.dw;
    if (d) ops.denseBackwardParams(ctx, part.g, d.dy, d.x, d.M, d.K, d.N, d.ldy);
    for (const src of part.sources) ops.accumulate(ctx, part.g, src, part.n);
    if (job.opt) optimize(ctx, job.opt, job.t, part.p, part.g, part.n, part.slab);
  }
}

/** A worker's whole job of a parallel step (see SliceJob), in shared memory; returns its slice's
 *  loss. Throws when the step was abandoned at a barrier. */
export function runJob(ctx: Ctx, memory: { buffer: ArrayBufferLike }, j: SliceJob): number {
  if (j.columns && j.barrier) {
    runColumns(ctx, j.columns);
    arrive(memory, j.barrier);
    awaitBarrier(memory, j.barrier);
  }
  const value = runSlice(ctx, j);
  if (j.meet && j.update) {
    arrive(memory, j.meet, value);
    awaitBarrier(memory, j.meet);
    runUpdate(ctx, j.update);
  }
  if (j.done) arrive(memory, j.done);
  return value;
}

/** What a step needs of its model (its private state, lent by Sequential). */
export interface StepHost {
  readonly ctx: Ctx;
  readonly trainer: Trainer;
  readonly outputs: number;
  readonly disposed: boolean;
  /** The step's rows (kept by the model for its next step, and freed by its dispose). */
  block: { ptr: number; block: ParallelBlock } | undefined;
  enter(): void;
  leave(): void;
  own(floats: number): number;
  disown(ptr: number): void;
  /** Run `work` (workers writing into the model's blocks), keeping disposal's free until it settles. */
  pooled<T>(work: Promise<T>): Promise<T>;
  /** A step failed half-way (every job has settled): its partial gradients must not reach the next. */
  failed(): void;
  /** The weights are about to change (cached copies are stale). */
  changed(): void;
  /** The next barrier sequence number (never 0). */
  nextSeq(): number;
}

/**
 * One step of fit on the worker pool (shared memory, a batch large enough to gain), one job per
 * thread (src/train/pass.ts): when the first layer is dense, its product for a range of units;
 * round 1, a slice of the batch's rows (forward, loss, the backward pass of the data); round 2,
 * the parameter gradients of a range of every dense layer's units over all the rows, and the
 * optimizer there. Barriers in shared memory separate the parts; thread 0 is this one, and the
 * workers get their jobs before it starts its own. A given thread count gives the same weights on
 * every run. Resolves with the loss and the correct predictions, or undefined when the step
 * should run on this thread alone (workers that cannot start: then nothing was changed).
 */
export async function parallelStep(host: StepHost, run: FitRun, order: Uint32Array, from: number, B: number, masks: MaskSource | undefined, classify: boolean, slices: number): Promise<{ loss: number; correct: number } | undefined> {
  const par = host.ctx.parallel!;
  // The memory is read where it is used: the runtime moves into a shared memory when the pool
  // starts (the first such step), between this thread's first part and the barrier after it.
  const memory = () => host.ctx.arena.memory;
  const t = run.t!;
  const head = run.head!;
  const tr = host.trainer;
  const clip = run.clipNorm > 0;
  let jobs: SliceJob[];
  let updates: UpdateJob[];
  let block: ParallelBlock;
  host.enter();
  try {
    let p = host.block;
    if (!p || p.block.slices !== slices || p.block.capacity < B) {
      if (p) host.disown(p.ptr);
      host.block = undefined;
      const capacity = Math.max(B, Math.min(run.batchSize, run.n));
      const ptr = host.own(tr.parallelFloats(capacity, slices));
      p = host.block = { ptr, block: tr.parallelBlock(ptr, capacity, slices) };
    }
    block = p.block;
    tr.prepare(run.optimizer);
    tr.loadParallel(block, run.x!, t, order, from, B);
    jobs = tr.slices(block, head, B, masks);
    // Round 2 (with clipNorm, without the optimizer: this thread clips the whole gradient, whose
    // norm the clip needs, and updates afterwards).
    updates = tr.updateJobs(clip ? undefined : run.optimizer, block, B, slices);
    host.changed();
  } finally {
    host.leave();
  }
  const seq = host.nextSeq();
  // The block's three sets of cells, one cell per thread each (BARRIERS).
  const cells = (k: number): Barrier => ({ at: block.barriers + 16 * slices * k, count: slices, me: 0, seq });
  const barrier = jobs[0]!.columns ? cells(0) : undefined;
  const meet = cells(1);
  const done = cells(2);
  const sent = jobs.slice(1).map((j, i) => ({
    ...j, update: updates[i + 1]!, meet: { ...meet, me: i + 1 }, done: { ...done, me: i + 1 },
    ...(barrier ? { barrier: { ...barrier, me: i + 1 } } : {}),
  }));
  // The first failure of a worker's job, as soon as it is known (the workers' call settles only
  // when every job has: one waiting at a barrier for a failed one needs the step abandoned).
  let failure: { err: unknown } | undefined;
  const failed = () => failure !== undefined;
  const work = host.pooled(par.train(sent, (err) => { failure ??= { err }; }));
  void work.catch((err: unknown) => { failure ??= { err }; });
  let own = NaN;
  let updated = false; // past the last barrier: every thread is updating weights
  try {
    let met = true;
    if (barrier) {
      host.enter();
      try {
        runColumns(host.ctx, jobs[0]!.columns!);
      } finally {
        host.leave();
      }
      met = await meetAt(host, barrier, failed);
    }
    if (met) {
      host.enter();
      try {
        own = runSlice(host.ctx, jobs[0]!);
      } finally {
        host.leave();
      }
      met = await meetAt(host, meet, failed);
    }
    if (met) {
      updated = true;
      host.enter();
      try {
        runUpdate(host.ctx, updates[0]!);
      } finally {
        host.leave();
      }
    }
  } catch (err) {
    if (barrier) abandon(memory(), barrier);
    abandon(memory(), meet);
    await work.catch(() => {}); // the workers' jobs settle before the blocks can change
    host.failed();
    throw err;
  }
  try {
    // Done here, this thread watches the workers finish (sooner than their replies arrive).
    if (!updated || !(await meetAt(host, done, failed))) await work;
  } catch (err) {
    // Every job has settled: this step's partial gradients must not reach the next one.
    if (host.disposed) throw err;
    host.failed();
    const cause = failure?.err ?? err;
    if (updated && !clip) {
      throw new SimdnnError('WORKER_FAILED', `model.fit: ${cause instanceof Error ? cause.message : String(cause)}; this step's update was applied to part of the weights only`, { cause });
    }
    if (par.threads() >= 2 || updated) throw cause;
    return undefined; // workers cannot start here (none ever did): this step runs on this thread
  }
  host.enter();
  try {
    const losses = leftAt(memory(), meet);
    losses[0] = own;
    const loss = tr.meanLoss(jobs, losses);
    if (clip) tr.update(run.optimizer, run.clipNorm);
    else tr.finishUpdate();
    const correct = classify ? countCorrect(tr.parallelOutput(block, head, B), t, order, from, B, host.outputs, run.loss === 'binaryCrossEntropy', 0) : 0;
    return { loss, correct };
  } finally {
    host.leave();
  }
}

/**
 * This thread arrives at a step's barrier and waits for the workers: spinning for up to WATCH_MS
 * (their shares take about as long as this thread's), then checking every millisecond, with the
 * event loop running, until they arrive or one fails (then the step is abandoned, so the others
 * stop waiting). Resolves with whether every thread arrived.
 */
async function meetAt(host: StepHost, b: Barrier, failed: () => boolean): Promise<boolean> {
  // The memory is read again after each wait (see parallelStep), not in the spin.
  const memory = () => host.ctx.arena.memory;
  arrive(memory(), b);
  let i32 = new Int32Array(memory().buffer);
  const start = performance.now();
  for (let spins = 0; ; spins++) {
    if (arrived(i32, b)) return true;
    if ((spins & 63) === 63 && performance.now() - start > WATCH_MS) break;
  }
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    i32 = new Int32Array(memory().buffer);
    if (arrived(i32, b)) return true;
    if (failed()) {
      abandon(memory(), b);
      return false;
    }
  }
}
