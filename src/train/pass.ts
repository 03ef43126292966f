// One training pass over rows already in the arena: forward with caches, the fused loss and the
// backward pass, as a short sequence of kernel calls on explicit buffers. The trainer runs it over a
// whole batch on the calling thread; on the worker pool every thread runs its parts over a slice of a
// batch's rows or a range of units in shared memory (src/train/parallel.ts).
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

export const LINEAR = { kind: ACTIVATION_KINDS.linear, a: 0, b: 0 } as ResolvedActivation;
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
export function toPreActivation(ctx: Ctx, plan: PassPlan, head: Head, i: number, g: number, z: number, dslope: number, B: number, row: number, masks: MaskSource | undefined): void {
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
