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
}

/** The rows' side: byte addresses of the inputs, the targets, each layer's pre-activation Z and
 *  output Y (Y = Z for a dense layer without activation; a dropout or activation layer's Z is the
 *  previous Y), two gradient buffers of rows × the widest layer, and per layer its gradient slab
 *  (0 for a layer without parameters). `row` is the index of the first row in the whole batch. */
export interface PassBuffers {
  readonly x: number;
  readonly t: number;
  readonly z: readonly number[];
  readonly y: readonly number[];
  readonly ga: number;
  readonly gb: number;
  readonly grads: readonly number[];
  readonly row: number;
}

const LINEAR = { kind: ACTIVATION_KINDS.linear, a: 0, b: 0 } as ResolvedActivation;
const SOFTMAXES: ReadonlySet<number> = new Set([ACTIVATION_KINDS.softmax, ACTIVATION_KINDS.logSoftmax]);

export function isSoftmax(kind: number): boolean {
  return SOFTMAXES.has(kind);
}

/** Forward pass over B rows, keeping every layer's Z and Y. With `masks`, dropout layers drop (a
 *  training step); without, they copy their input (evaluate, gradients). */
export function forward(ctx: Ctx, plan: PassPlan, s: PassBuffers, B: number, masks?: MaskSource): void {
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
    if (l.type === 'dense') ops.dense(ctx, z, src, l.packed, B, l.K, l.N, LINEAR);
    if (SOFTMAXES.has(l.act.kind)) ops.softmax(ctx, l.act.kind === ACTIVATION_KINDS.logSoftmax, y, z, B, l.N);
    else if (l.slopes) ops.preluForward(ctx, y, z, B * l.N, l.slope, l.slopes, l.N);
    else if (y !== z) ops.activate(ctx, l.act, y, z, B * l.N, l.slope);
    src = y;
  });
}

/** The loss input: the last layer's pre-activation when the loss is fused, else its output. */
export function lossInput(plan: PassPlan, head: Head, s: PassBuffers): number {
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
  const L = layers.length;
  let g = s.ga;
  let other = s.gb;
  for (let i = L - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.type === 'dropout') {
      // dx = dy·mask: the same kernel with the same seed as the forward pass
      if (masks && l.rate > 0) {
        const { threshold, scale } = dropoutParams(l.rate);
        ops.dropout(ctx, g, g, B * l.N, dropoutSeed(masks.base, masks.step, l.index), threshold, scale, s.row * l.N);
      }
      continue;
    }
    if (l.slopes) {
      ops.preluBackward(ctx, g, s.grads[i]! + 4 * plan.slopeAt[i]!, g, s.z[i]!, B * l.N, l.slope, l.slopes, l.N);
    } else if (!(i === L - 1 && head.fused) && l.act.kind !== ACTIVATION_KINDS.linear) {
      if (!ops.activationBackward(ctx, l.act, g, g, s.z[i]!, B * l.N)) {
        throw new SimdnnError('UNSUPPORTED_MODEL', `layers[${l.index}] ('${l.name}'): ${l.act.name} has no derivative`);
      }
    }
    if (l.type === 'dense') {
      const x = i === 0 ? s.x : s.y[i - 1]!;
      ops.denseBackward(ctx, i === 0 ? 0 : other, s.grads[i]!, g, x, l.packed, B, l.K, l.N);
      [g, other] = [other, g];
    }
  }
}

/** One slice of a parallel step, as a worker runs it: forward, loss, the loss gradient scaled by
 *  `weight` (this slice's share of the whole batch's mean), backward. Returns the slice's mean loss. */
export interface SliceJob {
  readonly plan: PassPlan;
  readonly head: Head;
  readonly bufs: PassBuffers;
  readonly rows: number;
  readonly weight: number;
  readonly masks?: MaskSource;
}

export function runSlice(ctx: Ctx, j: SliceJob): number {
  forward(ctx, j.plan, j.bufs, j.rows, j.masks);
  const value = loss(ctx, j.plan, j.head, j.bufs, j.rows);
  if (j.weight !== 1) ops.scale(ctx, j.bufs.ga, j.bufs.ga, j.weight, j.rows * j.plan.outputs);
  backward(ctx, j.plan, j.head, j.bufs, j.rows, j.masks);
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

/** A chunk of one layer's parameters: the model's gradients at g (slice 0's), the other slices'
 *  gradients for the same chunk at `sources` (added in order, then cleared), and the optimizer. */
export interface UpdatePart {
  readonly p: number;
  readonly g: number;
  readonly n: number;
  readonly slab: number;
  readonly sources: readonly number[];
}

/** A worker's share of a parallel step's update: chunks of every layer's slab. */
export interface UpdateJob {
  readonly opt: Optimizer;
  readonly t: number;
  readonly parts: readonly UpdatePart[];
}

/** Sum the slices' gradients into the model's (in slice order: each element's sum has the same
 *  order whatever the chunks) and take the optimizer step, chunk by chunk. */
export function runUpdate(ctx: Ctx, job: UpdateJob): void {
  for (const part of job.parts) {
    for (const src of part.sources) ops.accumulate(ctx, part.g, src, part.n);
    optimize(ctx, job.opt, job.t, part.p, part.g, part.n, part.slab);
  }
}
