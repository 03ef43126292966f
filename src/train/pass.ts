// One training pass over rows already in the arena: forward with caches, the fused loss and the
// backward pass, as a short sequence of kernel calls on explicit buffers. The trainer runs it over a
// whole batch on the calling thread; a worker of the pool (src/worker.ts) runs it over a slice of a
// batch's rows in shared memory, writing only into that slice's rows and its own gradient slabs, so
// slices run at the same time and the caller sums their gradients in a fixed order.
import { SimdnnError } from '../errors.js';
import { ACTIVATION_KINDS } from '../activation-table.js';
import * as ops from '../ops.js';
import type { Ctx, LossKernel } from '../ops.js';
import { dropoutParams, dropoutSeed } from './dropout.js';
import type { ResolvedActivation } from '../activations.js';
import type { Optimizer } from './options.js';

export interface TrainLayer {
  type: 'dense' | 'activation' | 'dropout';
  index: number;
  name: string;
  K: number;
  N: number;
  packed: number;
  act: ResolvedActivation;
  /** PReLU: the slopes' address (after a dense layer's panels, or the activation layer's block). */
  slope: number;
  /** PReLU: how many slopes (1, shared by every unit, or N); 0 for any other activation. */
  slopes: number;
  /** A shared slope: the byte address of its copy in the layer descriptor (`a`), kept in step. */
  descA: number;
  /** dropout: the drop rate (0 ≤ rate < 1); 0 for other layers. */
  rate: number;
}

/** Where a training step's dropout masks come from (their seeds: src/train/dropout.ts); absent in
 *  evaluate() and gradients(), where dropout is the identity. */
export interface MaskSource {
  base: number;
  step: number;
}

/** How the loss meets the output layer. */
export interface Head {
  kernel: LossKernel;
  /** The loss reads the last layer's pre-activation (softmax/sigmoid fused into the loss). */
  fused: boolean;
  labels: boolean;
}

/** The model's side of a pass: its layers, where each layer's slopes sit in its gradient slab, and
 *  the output width. Plain data (a worker receives it as a message). */
export interface PassPlan {
  readonly layers: readonly TrainLayer[];
  readonly slopeAt: readonly number[];
  readonly outputs: number;
  /** Per layer, whether a layer under it has parameters (else its input gradient is not needed). */
  readonly below: readonly boolean[];
}

/** The rows' side: byte addresses of the inputs, the targets, and each layer's pre-activation Z and
 *  output Y (Y = Z for a dense layer without activation; a dropout or activation layer's Z is the
 *  previous Y). `row` is the index of the first row in the whole batch. */
export interface RowBuffers {
  readonly x: number;
  readonly t: number;
  readonly z: readonly number[];
  readonly y: readonly number[];
  readonly row: number;
}

/** A one-thread pass: the rows, two gradient buffers of rows × the widest layer, and per layer its
 *  gradient slab (0 for a layer without parameters). */
export interface PassBuffers extends RowBuffers {
  readonly ga: number;
  readonly gb: number;
  readonly grads: readonly number[];
}

const LINEAR = { kind: ACTIVATION_KINDS.linear, a: 0, b: 0 } as ResolvedActivation;
/** The row-wise activations (no elementwise derivative: trained only fused into cross-entropy). */
export const SOFTMAXES: ReadonlySet<number> = new Set([ACTIVATION_KINDS.softmax, ACTIVATION_KINDS.logSoftmax]);

/** Forward pass over B rows, keeping every layer's Z and Y. With `masks`, dropout layers drop (a
 *  training step); without, they copy their input (evaluate, gradients). */
export function forward(ctx: Ctx, plan: PassPlan, s: RowBuffers, B: number, masks?: MaskSource, firstDone = false): void {
  let src = s.x;
  plan.layers.forEach((l, i) => {
    const z = s.z[i]!;
    const y = s.y[i]!;
    if (l.type === 'dropout') {
      if (masks && l.rate > 0) {
        const { threshold, scale } = dropoutParams(l.rate);
        ops.dropout(ctx, y, z, B * l.N, dropoutSeed(masks.base, masks.step, l.index), threshold, scale, s.row * l.N);
      } else ops.copy(ctx, y, z, B * l.N);
      src = y;
      return;
    }
    if (l.type === 'dense' && !(i === 0 && firstDone)) ops.dense(ctx, z, src, l.packed, B, l.K, l.N, LINEAR);
    if (SOFTMAXES.has(l.act.kind)) ops.softmax(ctx, l.act.kind === ACTIVATION_KINDS.logSoftmax, y, z, B, l.N);
    else if (l.slopes) ops.preluForward(ctx, y, z, B * l.N, l.slope, l.slopes, l.N);
    else if (y !== z) ops.activate(ctx, l.act, y, z, B * l.N, l.slope);
    src = y;
  });
}

/** The loss input: the last layer's pre-activation when the loss is fused, else its output. */
export function lossInput(plan: PassPlan, head: Head, s: Pick<PassBuffers, 'z' | 'y'>): number {
  const L = plan.layers.length;
  return head.fused ? s.z[L - 1]! : s.y[L - 1]!;
}

/** The mean loss over the B rows of the forward pass just run; its gradient w.r.t. the loss input
 *  (already divided by the rows the mean is over) lands in ga. */
export function loss(ctx: Ctx, plan: PassPlan, head: Head, s: PassBuffers, B: number): number {
  return ops.loss(ctx, head.kernel, s.ga, lossInput(plan, head, s), s.t, B, plan.outputs);
}

/** Backward pass from the loss gradient in ga: parameter gradients accumulate into the slabs. The
 *  masks must be the forward pass's. */
export function backward(ctx: Ctx, plan: PassPlan, head: Head, s: PassBuffers, B: number, masks?: MaskSource): void {
  const layers = plan.layers;
  let g = s.ga;
  let other = s.gb;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    toPreActivation(ctx, plan, head, i, g, s.z[i]!, l.slopes ? s.grads[i]! + 4 * plan.slopeAt[i]! : 0, B, s.row, masks);
    if (l.type === 'dense') {
      const x = i === 0 ? s.x : s.y[i - 1]!;
      ops.denseBackward(ctx, i === 0 ? 0 : other, s.grads[i]!, g, x, l.packed, B, l.K, l.N);
      [g, other] = [other, g];
    }
  }
}

/** Layer i's output gradient g (B rows) made, in place, the gradient of its pre-activation: dropout's
 *  mask (the forward pass's, from `masks` and the first row's index), PReLU's derivative (adding the
 *  slope gradients at dslope), or the activation's; nothing for a linear layer or the loss-fused
 *  output. */
function toPreActivation(ctx: Ctx, plan: PassPlan, head: Head, i: number, g: number, z: number, dslope: number, B: number, row: number, masks: MaskSource | undefined): void {
  const l = plan.layers[i]!;
  if (l.type === 'dropout') {
    // dx = dy·mask: the same kernel with the same seed as the forward pass
    if (masks && l.rate > 0) {
      const { threshold, scale } = dropoutParams(l.rate);
      ops.dropout(ctx, g, g, B * l.N, dropoutSeed(masks.base, masks.step, l.index), threshold, scale, row * l.N);
    }
  } else if (l.slopes) {
    ops.preluBackward(ctx, g, dslope, g, z, B * l.N, l.slope, l.slopes, l.N);
  } else if (!(i === plan.layers.length - 1 && head.fused) && l.act.kind !== ACTIVATION_KINDS.linear) {
    if (!ops.activationBackward(ctx, l.act, g, g, z, B * l.N)) {
      throw new SimdnnError('UNSUPPORTED_MODEL', `layers[${l.index}] ('${l.name}'): ${l.act.name} has no derivative`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
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
 *  round 2 (`update`, after the barrier `meet`, where it leaves its slice's loss) and the cell
 *  where it says it is done (`signal`; see Signal). */
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
  readonly signal?: Signal;
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

/** Whether every thread has arrived: true, false (not yet), or undefined (abandoned). */
export function arrived(memory: { buffer: ArrayBufferLike }, b: Barrier): boolean | undefined {
  const i32 = new Int32Array(memory.buffer);
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

/**
 * A 16-byte cell in shared memory through which a worker says a job is done before its reply
 * message arrives: the job's result (a float64) at `at`, then `seq` stored into the int32 at
 * `at + 8` (Atomics.store, after the result). The calling thread, done with its own share, watches
 * the cells for a short while instead of waiting for the messages to be delivered.
 */
export interface Signal {
  readonly at: number;
  readonly seq: number;
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

/**
 * One optimizer step (step number t) over n parameters at p with their gradients at g, clearing the
 * gradients. The optimizer's state slabs follow the gradient slab, `slab` floats apart, so a chunk of
 * a slab (every pointer moved by the same offset) is updated exactly as the whole slab is there.
 */
export function optimize(ctx: Ctx, opt: Optimizer, t: number, p: number, g: number, n: number, slab: number): void {
  const s1 = g + 4 * slab;
  const s2 = s1 + 4 * slab;
  const s3 = s2 + 4 * slab;
  switch (opt.name) {
    case 'sgd':
      ops.sgd(ctx, p, opt.momentum > 0 ? s1 : 0, g, n, opt.lr, opt.momentum, t === 1 ? 0 : opt.dampening, opt.weightDecay, opt.nesterov);
      break;
    case 'adam': case 'adamw':
      ops.adam(ctx, opt.name === 'adamw', p, s1, s2, g, n, opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weightDecay, 1 - opt.beta1 ** t, 1 - opt.beta2 ** t);
      break;
    case 'rmsprop': {
      const ga = opt.centered ? s2 : 0;
      const buf = opt.momentum > 0 ? (opt.centered ? s3 : s2) : 0;
      ops.rmsprop(ctx, p, s1, ga, buf, g, n, opt.lr, opt.alpha, opt.eps, opt.weightDecay, opt.momentum);
      break;
    }
  }
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
  if (j.signal) signalDone(memory, j.signal, value);
  return value;
}

/** Report a job done through its signal cell (a worker, after the job succeeded). */
export function signalDone(memory: { buffer: ArrayBufferLike }, signal: Signal, value: number): void {
  new Float64Array(memory.buffer, signal.at, 1)[0] = value;
  Atomics.store(new Int32Array(memory.buffer, signal.at + 8, 1), 0, signal.seq);
}

/**
 * On the calling thread: whether every cell reports its job done, watching for at most `ms`
 * milliseconds (then the caller waits for the messages). Returns the results, or undefined.
 */
export function watchSignals(memory: { buffer: ArrayBufferLike }, signals: readonly Signal[], ms: number): number[] | undefined {
  const buffer = memory.buffer;
  const i32 = new Int32Array(buffer);
  const start = performance.now();
  for (let spins = 0; ; spins++) {
    if (signals.every((s) => Atomics.load(i32, (s.at + 8) >> 2) === s.seq)) {
      return signals.map((s) => new Float64Array(buffer, s.at, 1)[0]!);
    }
    if ((spins & 63) === 63 && performance.now() - start > ms) return undefined;
  }
}
