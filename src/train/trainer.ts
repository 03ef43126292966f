// The training loop's state and one step: forward with caches, the fused loss, the backward pass
// and the optimizer, as a short sequence of kernel calls (through ops.ts) on the model's packed
// weights — the weights the model predicts with are the ones trained, never a copy.
//
// Memory: every buffer is an arena block owned by the model (freed by its dispose()):
//   - the batch block, for `capacity` rows: the input X, the targets, per layer its pre-activation
//     Z (the activation's input, which each derivative reads) and its output Y (= Z for a dense
//     layer without activation), and two gradient buffers that alternate between layers. It only
//     grows (to the largest batch seen), so steps allocate nothing.
//   - per layer with parameters (dense, prelu), one gradient block: its gradient slab in the layout
//     of the layer's parameter block (a dense layer's packed panels, then its prelu slopes when it
//     has them; an activation layer's slopes), padding lanes 0, followed by the optimizer's state
//     slabs (same layout), so every optimizer kernel runs over whole slabs and one call updates a
//     layer's weights, bias and slopes together. Gradients are zero between steps (the optimizer
//     kernels clear them as they read them).
//
// PReLU slopes are parameters (PyTorch's nn.PReLU weight): the model keeps them in arena memory,
// right after a dense layer's packed panels (or in an activation layer's own block), and the
// forward, backward and optimizer read and write them there. One shared slope runs as leakyRelu
// in predict() with the slope in its layer descriptor: the trainer copies it there after each update.
import { SimdnnError } from '../errors.js';
import { ACTIVATION_KINDS, type ResolvedActivation } from '../activations.js';
import * as ops from '../ops.js';
import type { Ctx, LossKernel } from '../ops.js';
import type { LossName, Optimizer } from './options.js';
import { dropoutParams, dropoutSeed } from './dropout.js';

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

/** The parameter layout of one layer: where its parameters start, how many floats the optimizer
 *  runs over, and where its slopes (if any) sit in that slab. The model allocates the blocks. */
export function paramLayout(type: TrainLayer['type'], K: number, N: number, slopes: number): { slab: number; slopeAt: number } {
  const panels = type === 'dense' ? packedFloats(K, N) : 0;
  return { slab: panels + (slopes ? Math.ceil(slopes / 4) * 4 : 0), slopeAt: panels };
}

/** One entry of gradients() / getWeights() / setWeights(), per layer with parameters: a dense
 *  layer's weights ([units][inputs], row-major) and bias, with `slope` when its activation is prelu;
 *  a prelu activation layer's `slope`, with `weights` and `bias` empty (it has none). One type for
 *  both, so that code written for dense-only models keeps its types. */
export interface LayerWeights {
  weights: Float32Array;
  bias: Float32Array;
  /** The prelu slopes (1, shared by every unit, or one per unit); absent without a prelu. */
  slope?: Float32Array;
}

/** The model's allocator, for blocks the model owns. */
export interface Owner {
  own(floats: number): number;
  disown(ptr: number): void;
}

/** Targets as they go into the arena: class indices or floats (n × outputs). */
export type PreparedTargets = { kind: 'labels'; labels: Int32Array } | { kind: 'floats'; values: Float32Array };

/** How the loss meets the output layer. */
export interface Head {
  kernel: LossKernel;
  /** The loss reads the last layer's pre-activation (softmax/sigmoid fused into the loss). */
  fused: boolean;
  labels: boolean;
}

const LINEAR = { kind: ACTIVATION_KINDS.linear, a: 0, b: 0 } as ResolvedActivation;
const SOFTMAXES: ReadonlySet<number> = new Set([ACTIVATION_KINDS.softmax, ACTIVATION_KINDS.logSoftmax]);

/** Floats of one region of n values: a multiple of 4 (16-byte aligned starts) plus a spare vector. */
const region = (n: number) => Math.ceil(n / 4) * 4 + 4;
/** Floats in a packed K×N block. */
const packedFloats = (K: number, N: number) => Math.ceil(N / 8) * (8 + 8 * K);

/** State slabs per optimizer (after the gradient slab). */
function stateSlabs(o: Optimizer): number {
  if (o.name === 'sgd') return o.momentum > 0 ? 1 : 0;
  if (o.name === 'rmsprop') return 1 + (o.centered ? 1 : 0) + (o.momentum > 0 ? 1 : 0);
  return 2;
}

/** Optimizer state carries over between calls while this is unchanged (hyperparameters may change). */
function stateKey(o: Optimizer | undefined): string {
  if (!o) return 'none';
  if (o.name === 'sgd') return o.momentum > 0 ? 'sgd-momentum' : 'sgd';
  if (o.name === 'rmsprop') return `rmsprop-${o.centered}-${o.momentum > 0}`;
  return o.name;
}

export class Trainer {
  readonly #ctx: Ctx;
  readonly #owner: Owner;
  readonly #layers: readonly TrainLayer[];
  readonly #inputs: number;
  readonly #outputs: number;
  readonly #widest: number;

  #capacity = 0;
  #block = 0;
  #x = 0;
  #t = 0;
  #z: number[] = [];
  #y: number[] = [];
  #ga = 0;
  #gb = 0;

  /** Per layer (0 for layers without parameters): the gradient block, the slab size in floats, the
   *  parameters' address and the slopes' offset in the slab. */
  #params: number[] = [];
  #slab: number[] = [];
  #param: number[] = [];
  #slopeAt: number[] = [];
  #key = '';
  #stateCount = 0;
  /** Optimizer steps taken with the current state (Adam's bias correction, SGD's first step). */
  #step = 0;

  constructor(ctx: Ctx, owner: Owner, layers: readonly TrainLayer[], inputs: number, outputs: number) {
    this.#ctx = ctx;
    this.#owner = owner;
    this.#layers = layers;
    this.#inputs = inputs;
    this.#outputs = outputs;
    this.#widest = Math.max(inputs, ...layers.map((l) => l.N));
    const layout = layers.map((l) => paramLayout(l.type, l.K, l.N, l.slopes));
    this.#slab = layout.map((p) => p.slab);
    this.#slopeAt = layout.map((p) => p.slopeAt);
    this.#param = layers.map((l) => (l.type === 'dense' ? l.packed : l.slope));
    this.#dropout = layers.some((l) => l.rate > 0);
    this.#params = layers.map(() => 0);
  }

  get capacity(): number { return this.#capacity; }

  /** Whether a training step draws dropout masks (a dropout layer with rate > 0). */
  get dropout(): boolean { return this.#dropout; }
  readonly #dropout: boolean;

  /** Check that this model can be trained with `loss`, and how the loss meets its output. */
  head(loss: LossName, labels: boolean, what: string): Head {
    const L = this.#layers.length;
    const last = this.#layers[L - 1]!;
    const kind = last.act.kind;
    let head: Head;
    switch (loss) {
      case 'crossEntropy':
        head = { kernel: labels ? 'ce' : 'ceProbs', fused: SOFTMAXES.has(kind), labels };
        break;
      case 'binaryCrossEntropy':
        head = { kernel: 'bce', fused: kind === ACTIVATION_KINDS.sigmoid, labels: false };
        break;
      default:
        head = { kernel: loss, fused: false, labels: false };
    }
    this.#layers.forEach((l, i) => {
      if (!SOFTMAXES.has(l.act.kind) || (i === L - 1 && head.fused)) return;
      const where = `layers[${l.index}] ('${l.name}')`;
      throw new SimdnnError(
        'UNSUPPORTED_MODEL',
        i === L - 1
          ? `${what}: ${where} ends in ${l.act.name}, which trains only with loss 'crossEntropy' (fused into the loss); received loss '${loss}'`
          : `${what}: ${where} has a ${l.act.name} activation inside the model; training supports softmax and logSoftmax only as the output of a crossEntropy model`,
      );
    });
    return head;
  }

  /** Make room for `batch` rows (grows only; nothing is kept between steps). */
  reserve(batch: number): void {
    if (batch <= this.#capacity) return;
    const B = Math.max(batch, 1);
    const L = this.#layers;
    let floats = region(B * this.#inputs) + region(B * this.#outputs) + 2 * region(B * this.#widest);
    for (const l of L) {
      const own = l.type === 'dense' ? 1 : 0;
      const linear = l.type === 'dense' && l.act.kind === ACTIVATION_KINDS.linear;
      floats += (own + (linear ? 0 : 1)) * region(B * l.N);
    }
    if (this.#block) this.#owner.disown(this.#block);
    this.#block = 0;
    this.#capacity = 0;
    const base = this.#owner.own(floats);
    let p = base;
    const take = (n: number) => { const at = p; p += region(n) * 4; return at; };
    this.#x = take(B * this.#inputs);
    this.#t = take(B * this.#outputs);
    this.#ga = take(B * this.#widest);
    this.#gb = take(B * this.#widest);
    let prev = this.#x;
    this.#z = [];
    this.#y = [];
    for (const l of L) {
      const z = l.type === 'dense' ? take(B * l.N) : prev;
      const y = l.type === 'dense' && l.act.kind === ACTIVATION_KINDS.linear ? z : take(B * l.N);
      this.#z.push(z);
      this.#y.push(y);
      prev = y;
    }
    this.#block = base;
    this.#capacity = B;
  }

  /** Parameter blocks with gradient slabs and the state `opt` needs (kept while compatible). */
  #ensureState(opt: Optimizer | undefined): void {
    const key = stateKey(opt);
    if (this.#key !== '' && (opt === undefined || key === this.#key)) return;
    const count = opt ? stateSlabs(opt) : 0;
    for (let i = 0; i < this.#layers.length; i++) {
      if (this.#params[i]) this.#owner.disown(this.#params[i]!);
      this.#params[i] = 0;
    }
    this.#key = '';
    for (let i = 0; i < this.#layers.length; i++) {
      const n = this.#slab[i]!;
      if (n === 0) continue;
      const ptr = this.#owner.own(n * (1 + count));
      ops.zero(this.#ctx, ptr, n * (1 + count));
      this.#params[i] = ptr;
    }
    this.#key = key;
    this.#stateCount = count;
    this.#step = 0;
  }

  /** Forget the optimizer state (the next step starts fresh). */
  resetOptimizer(): void {
    this.#step = 0;
    this.#stateCount = 0;
    for (let i = 0; i < this.#layers.length; i++) {
      if (this.#params[i]) this.#owner.disown(this.#params[i]!);
      this.#params[i] = 0;
    }
    this.#key = '';
  }

  /** Put batch rows idx[from..from+B) of x and the targets into the arena. */
  load(x: Float32Array, t: PreparedTargets, idx: Uint32Array, from: number, B: number): void {
    ops.gatherRows(this.#ctx, this.#x, x, idx, from, B, this.#inputs);
    if (t.kind === 'labels') ops.gatherLabels(this.#ctx, this.#t, t.labels, idx, from, B);
    else ops.gatherRows(this.#ctx, this.#t, t.values, idx, from, B, this.#outputs);
  }

  /** The masks of the forward pass just run (the backward pass applies the same ones). */
  #masks: MaskSource | undefined;

  /** Forward pass over the loaded batch, keeping every layer's Z and Y. With `masks`, dropout
   *  layers drop (a training step); without, they copy their input (evaluate, gradients). */
  forward(B: number, masks?: MaskSource): void {
    const ctx = this.#ctx;
    let src = this.#x;
    this.#masks = masks;
    this.#layers.forEach((l, i) => {
      const z = this.#z[i]!;
      const y = this.#y[i]!;
      if (l.type === 'dropout') {
        if (masks && l.rate > 0) {
          const { threshold, scale } = dropoutParams(l.rate);
          ops.dropout(ctx, y, z, B * l.N, dropoutSeed(masks.base, masks.step, l.index), threshold, scale);
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

  /** The loss over the forward pass just run; its gradient w.r.t. the loss input lands in ga. */
  loss(head: Head, B: number): number {
    const L = this.#layers.length;
    const input = head.fused ? this.#z[L - 1]! : this.#y[L - 1]!;
    return ops.loss(this.#ctx, head.kernel, this.#ga, input, this.#t, B, this.#outputs);
  }

  /** The loss input (logits when fused), for accuracy: a live view, read at once. */
  outputView(head: Head, B: number): Float32Array {
    const L = this.#layers.length;
    return ops.view(this.#ctx, head.fused ? this.#z[L - 1]! : this.#y[L - 1]!, B * this.#outputs);
  }

  /** Backward pass from the loss gradient in ga: parameter gradients accumulate into the slabs. */
  backward(head: Head, B: number): void {
    const ctx = this.#ctx;
    const L = this.#layers.length;
    let g = this.#ga;
    let other = this.#gb;
    for (let i = L - 1; i >= 0; i--) {
      const l = this.#layers[i]!;
      if (l.type === 'dropout') {
        // dx = dy·mask: the same kernel with the same seed as the forward pass
        const masks = this.#masks;
        if (masks && l.rate > 0) {
          const { threshold, scale } = dropoutParams(l.rate);
          ops.dropout(ctx, g, g, B * l.N, dropoutSeed(masks.base, masks.step, l.index), threshold, scale);
        }
        continue;
      }
      if (l.slopes) {
        ops.preluBackward(ctx, g, this.#params[i]! + 4 * this.#slopeAt[i]!, g, this.#z[i]!, B * l.N, l.slope, l.slopes, l.N);
      } else if (!(i === L - 1 && head.fused) && l.act.kind !== ACTIVATION_KINDS.linear) {
        if (!ops.activationBackward(ctx, l.act, g, g, this.#z[i]!, B * l.N)) {
          throw new SimdnnError('UNSUPPORTED_MODEL', `layers[${l.index}] ('${l.name}'): ${l.act.name} has no derivative`);
        }
      }
      if (l.type === 'dense') {
        const x = i === 0 ? this.#x : this.#y[i - 1]!;
        ops.denseBackward(ctx, i === 0 ? 0 : other, this.#params[i]!, g, x, l.packed, B, l.K, l.N);
        [g, other] = [other, g];
      }
    }
  }

  /** One optimizer step over every layer with parameters (clipping the global gradient norm first). */
  update(opt: Optimizer, clipNorm: number): void {
    const ctx = this.#ctx;
    if (clipNorm > 0) {
      let total = 0;
      this.#forSlabs((g, n) => { total += ops.sumSquares(ctx, g, n); });
      const norm = Math.sqrt(total);
      if (norm > clipNorm) {
        const s = clipNorm / (norm + 1e-6);
        this.#forSlabs((g, n) => ops.scale(ctx, g, g, s, n));
      }
    }
    const t = ++this.#step;
    this.#layers.forEach((l, i) => {
      const n = this.#slab[i]!;
      if (n === 0) return;
      const g = this.#params[i]!;
      const p = this.#param[i]!;
      const s1 = g + 4 * n;
      const s2 = s1 + 4 * n;
      const s3 = s2 + 4 * n;
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
      if (l.descA) ops.copyFloat(ctx, l.descA, l.slope);
    });
  }

  #forSlabs(f: (g: number, n: number) => void): void {
    this.#layers.forEach((_, i) => { if (this.#slab[i]) f(this.#params[i]!, this.#slab[i]!); });
  }

  /** A whole step on the loaded batch: forward (dropout masks from `masks`), loss, backward,
   *  update. Returns the mean loss. */
  step(head: Head, B: number, opt: Optimizer, clipNorm: number, masks?: MaskSource): number {
    this.#ensureState(opt);
    this.forward(B, masks);
    const loss = this.loss(head, B);
    this.backward(head, B);
    this.update(opt, clipNorm);
    return loss;
  }

  /** Mean gradients of the loaded batch, one entry per layer with parameters (see LayerWeights);
   *  no update (the slabs are cleared again). */
  gradients(head: Head, B: number): { loss: number; layers: LayerWeights[] } {
    this.#ensureState(undefined);
    this.forward(B);
    const loss = this.loss(head, B);
    this.backward(head, B);
    const layers: LayerWeights[] = [];
    this.#layers.forEach((l, i) => {
      if (!this.#slab[i]) return;
      layers.push(this.readParams(i, this.#params[i]!));
      ops.zero(this.#ctx, this.#params[i]!, this.#slab[i]!);
    });
    return { loss, layers };
  }

  /** Layer i's entry read from a block in its parameter layout (its parameters or its gradients). */
  readParams(i: number, block: number): LayerWeights {
    const l = this.#layers[i]!;
    const slope = l.slopes ? ops.download(this.#ctx, block + 4 * this.#slopeAt[i]!, l.slopes) : undefined;
    if (l.type !== 'dense') return { weights: new Float32Array(0), bias: new Float32Array(0), slope: slope! };
    const { weights, bias } = ops.unpackWeights(this.#ctx, block, l.K, l.N);
    return slope ? { weights, bias, slope } : { weights, bias };
  }

  /** Forward and loss only (evaluate). */
  evaluate(head: Head, B: number): number {
    this.forward(B);
    return this.loss(head, B);
  }

  /** State slabs per dense layer (tests). */
  get stateCount(): number { return this.#stateCount; }
}
