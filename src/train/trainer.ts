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
import { region } from '../wasm/abi.js';
import type { Ctx } from '../ops.js';
import type { LossName, Optimizer } from './options.js';
import * as pass from './pass.js';
import type { Head, MaskSource, PassBuffers, PassPlan, TrainLayer } from './pass.js';
import type { ColumnJob, SliceBuffers, SliceJob, UpdateJob, UpdatePart } from './parallel.js';

export type { Head, MaskSource, TrainLayer } from './pass.js';

/** The parameter layout of one layer: where its parameters start, how many floats the optimizer
 *  runs over, and where its slopes (if any) sit in that slab. The model allocates the blocks. */
export function paramLayout(type: TrainLayer['type'], K: number, N: number, slopes: number): { slab: number; slopeAt: number } {
  const panels = type === 'dense' ? ops.packedBytes(K, N) / 4 : 0;
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

/** Barriers of a parallel step (src/train/parallel.ts): after the first layer's product, after the
 *  row slices, and after the update. */
export const BARRIERS = 3;

/** The rows of a parallel step (one batch block; see Trainer#parallelLayout), as byte addresses. */
export interface ParallelBlock {
  readonly capacity: number;
  readonly slices: number;
  readonly x: number;
  readonly t: number;
  readonly z: readonly number[];
  readonly y: readonly number[];
  readonly g: readonly number[];
  /** Slices 1, 2, …: per layer, where that slice adds its slope gradients (0 without slopes). */
  readonly slopes: readonly (readonly number[])[];
  /** The barriers' cells: BARRIERS sets of one 16-byte cell per thread (parallel.ts Barrier). */
  readonly barriers: number;
  /** Where the threads put their share of the first layer's product (B × N floats), or 0 when the
   *  first layer is not dense (then each slice computes its rows' whole forward pass). */
  readonly columns: number;
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
        head = { kernel: labels ? 'ce' : 'ceProbs', fused: pass.SOFTMAXES.has(kind), labels };
        break;
      case 'binaryCrossEntropy':
        head = { kernel: 'bce', fused: kind === ACTIVATION_KINDS.sigmoid, labels: false };
        break;
      default:
        head = { kernel: loss, fused: false, labels: false };
    }
    this.#layers.forEach((l, i) => {
      if (!pass.SOFTMAXES.has(l.act.kind) || (i === L - 1 && head.fused)) return;
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
    let p = 0;
    const take = (n: number) => { const at = p; p += region(n); return at; };
    const rows = this.#rowLayout(B, take);
    const ga = take(B * this.#widest);
    const gb = take(B * this.#widest);
    if (this.#block) this.#owner.disown(this.#block);
    this.#block = 0;
    this.#capacity = 0;
    const base = this.#owner.own(p);
    const at = (f: number) => base + 4 * f;
    this.#x = at(rows.x);
    this.#t = at(rows.t);
    this.#z = rows.z.map(at);
    this.#y = rows.y.map(at);
    this.#ga = at(ga);
    this.#gb = at(gb);
    this.#block = base;
    this.#capacity = B;
  }

  /** The rows of a batch of B in a block, carved by `take` (floats → offset in floats): inputs,
   *  targets, and each layer's pre-activation Z and output Y (Y = Z for a dense layer without
   *  activation; an activation or dropout layer's Z is the previous Y). */
  #rowLayout(B: number, take: (floats: number) => number): { x: number; t: number; z: number[]; y: number[] } {
    const x = take(B * this.#inputs);
    const t = take(B * this.#outputs);
    const z: number[] = [];
    const y: number[] = [];
    let prev = x;
    for (const l of this.#layers) {
      const zi = l.type === 'dense' ? take(B * l.N) : prev;
      const yi = l.type === 'dense' && l.act.kind === ACTIVATION_KINDS.linear ? zi : take(B * l.N);
      z.push(zi);
      y.push(yi);
      prev = yi;
    }
    return { x, t, z, y };
  }

  /** Parameter blocks with gradient slabs and the state `opt` needs (kept while compatible). */
  prepare(opt: Optimizer): void {
    this.#ensureState(opt);
  }

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

  // ---------------------------------------------------------------------------------------------
  // Parallel steps (fit on the worker pool, shared memory; src/train/pass.ts describes the two
  // rounds). The block holds the batch's rows (inputs, targets, every layer's Z and Y, and the
  // gradient buffers, one per dense layer and one for the output) and each extra slice's slope
  // gradients; slices are row ranges of it.

  /** The block's layout for `capacity` rows and `slices` slices: offsets in floats from its start. */
  #parallelLayout(capacity: number, slices: number) {
    const B = Math.max(capacity, 1);
    const L = this.#layers;
    let p = 0;
    const take = (n: number) => { const at = p; p += region(n); return at; };
    const { x, t, z, y } = this.#rowLayout(B, take);
    const g: number[] = new Array<number>(L.length);
    g[L.length - 1] = take(B * this.#outputs);
    for (let i = L.length - 1; i > 0; i--) g[i - 1] = L[i]!.type === 'dense' ? take(B * L[i]!.K) : g[i]!;
    const scratch = p;
    const slopes = Array.from({ length: slices - 1 }, () => L.map((l) => (l.slopes ? take(l.slopes) : 0)));
    const barriers = take(BARRIERS * 4 * slices);
    const columns = this.#columnPanels(slices) ? take(B * L[0]!.N) : -1;
    return { floats: p, capacity: B, x, t, z, y, g, slopes, scratch, barriers, columns };
  }

  /** Whether a step on `threads` threads splits the first layer's product by units: when it is
   *  dense with at least one panel per thread. Returns its panel count, else 0. */
  #columnPanels(threads: number): number {
    const first = this.#layers[0];
    const panels = first?.type === 'dense' ? Math.ceil(first.N / 8) : 0;
    return panels >= threads ? panels : 0;
  }

  /** Floats of a parallel block for `capacity` rows and `slices` slices. */
  parallelFloats(capacity: number, slices: number): number {
    return this.#parallelLayout(capacity, slices).floats;
  }

  /** Lay out a parallel block at `base` (parallelFloats(capacity, slices) floats, from the arena:
   *  the caller frees it once every slice has settled) and zero the extra slices' slope gradients. */
  parallelBlock(base: number, capacity: number, slices: number): ParallelBlock {
    const o = this.#parallelLayout(capacity, slices);
    const at = (f: number) => base + 4 * f;
    ops.zero(this.#ctx, at(o.scratch), o.floats - o.scratch);
    return {
      capacity: o.capacity, slices,
      x: at(o.x), t: at(o.t), z: o.z.map(at), y: o.y.map(at), g: o.g.map(at),
      slopes: o.slopes.map((set) => set.map((f, i) => (this.#layers[i]!.slopes ? at(f) : 0))),
      barriers: at(o.barriers), columns: o.columns < 0 ? 0 : at(o.columns),
    };
  }

  /** Put batch rows idx[from..from+B) of x and the targets into a parallel block. */
  loadParallel(block: ParallelBlock, x: Float32Array, t: PreparedTargets, idx: Uint32Array, from: number, B: number): void {
    ops.gatherRows(this.#ctx, block.x, x, idx, from, B, this.#inputs);
    if (t.kind === 'labels') ops.gatherLabels(this.#ctx, block.t, t.labels, idx, from, B);
    else ops.gatherRows(this.#ctx, block.t, t.values, idx, from, B, this.#outputs);
  }

  /**
   * Round 1 of a parallel step on a batch of B rows loaded into `block`: one job per slice of
   * contiguous rows, the first ones one row longer. Each slice's loss gradient is weighted by its
   * share of the batch (rows/B). Slice 0 adds its slope gradients into the model's slabs (zero
   * between steps), the others into the block's.
   */
  slices(block: ParallelBlock, head: Head, B: number, masks: MaskSource | undefined): SliceJob[] {
    const tw = head.labels ? 1 : this.#outputs;
    const T = block.slices;
    const N = this.#layers.map((l) => l.N);
    let at = 0;
    return Array.from({ length: T }, (_, j) => {
      const rows = Math.floor(B / T) + (j < B % T ? 1 : 0);
      const bufs: SliceBuffers = {
        x: block.x + 4 * at * this.#inputs,
        t: block.t + 4 * at * tw,
        // rows of width N (an activation or dropout layer's Z is its input, as wide as its output)
        z: block.z.map((p, i) => p + 4 * at * N[i]!),
        y: block.y.map((p, i) => p + 4 * at * N[i]!),
        g: block.g.map((p, i) => p + 4 * at * N[i]!),
        slopes: j === 0 ? this.#layers.map((l, i) => (l.slopes ? this.#params[i]! + 4 * this.#slopeAt[i]! : 0)) : block.slopes[j - 1]!,
        row: at,
      };
      at += rows;
      return { plan: this.plan, head, bufs, rows, weight: rows / B, ...(masks ? { masks } : {}), ...this.#columnJob(block, B, j) };
    });
  }

  /** Thread j's share of the first layer's product on a parallel block (a range of whole panels),
   *  or nothing when the step does not split it. */
  #columnJob(block: ParallelBlock, B: number, j: number): { columns: ColumnJob } | undefined {
    if (!block.columns) return undefined;
    const l = this.#layers[0]!;
    const { u0, units } = ops.unitRange(l.N, j, block.slices); // as in updateJobs
    return {
      columns: {
        x: block.x, packed: l.packed + ops.packedBytes(l.K, u0), out: block.columns + 4 * B * u0,
        z: block.z[0]! + 4 * u0, M: B, K: l.K, N: units, ldz: l.N,
      },
    };
  }

  /** The batch's mean loss from its slices' means. */
  meanLoss(jobs: readonly SliceJob[], losses: readonly number[]): number {
    return jobs.reduce((sum, j, i) => sum + losses[i]! * j.weight, 0);
  }

  /** Clear the model's gradient slabs (a parallel step that failed half-way). */
  clearGradients(): void {
    this.#forSlabs((g, n) => ops.zero(this.#ctx, g, n));
  }

  /**
   * Round 2 of a parallel step on B rows, split between `workers`: each takes a range of whole
   * panels of every dense layer (dW and db over every row, then the optimizer there); a layer's
   * slopes go to one worker, which first sums the slices' slope gradients in slice order. Without
   * `opt` the optimizer is left out (the caller clips the whole gradient and runs update()); with
   * it, call finishUpdate() once the step is done (it counts the step).
   */
  updateJobs(opt: Optimizer | undefined, block: ParallelBlock, B: number, workers: number): UpdateJob[] {
    const t = opt ? this.#step + 1 : 0;
    const parts: UpdatePart[][] = Array.from({ length: workers }, () => []);
    let next = 0; // the worker that takes the next slope set
    this.#layers.forEach((l, i) => {
      const slab = this.#slab[i]!;
      if (!slab) return;
      const p = this.#param[i]!;
      const g = this.#params[i]!;
      if (l.type === 'dense') {
        const x = i === 0 ? block.x : block.y[i - 1]!;
        for (let w = 0; w < workers; w++) {
          const { u0, units } = ops.unitRange(l.N, w, workers); // as in #columnJob
          if (units === 0) continue;
          const at = ops.packedBytes(l.K, u0);
          parts[w]!.push({
            p: p + at, g: g + at, n: ops.packedBytes(l.K, units) / 4, slab, sources: [],
            dw: { dy: block.g[i]! + 4 * u0, x, M: B, K: l.K, N: units, ldy: l.N },
          });
        }
      }
      if (l.slopes) {
        const at = this.#slopeAt[i]!;
        parts[next++ % workers]!.push({
          p: p + 4 * at, g: g + 4 * at, n: slab - at, slab, sources: block.slopes.map((set) => set[i]!),
        });
      }
    });
    return parts.map((list) => ({ ...(opt ? { opt } : {}), t, parts: list }));
  }

  /** After an update made by updateJobs (with an optimizer): the step counted, and shared PReLU
   *  slopes back into their layer descriptors. */
  finishUpdate(): void {
    this.#step++;
    for (const l of this.#layers) if (l.descA) ops.copyFloat(this.#ctx, l.descA, l.slope);
  }

  /** The loss input of a parallel block's batch (logits when fused), for accuracy: read at once. */
  parallelOutput(block: ParallelBlock, head: Head, B: number): Float32Array {
    return ops.view(this.#ctx, pass.lossInput(this.plan, head, block), B * this.#outputs);
  }

  /** The masks of the forward pass just run (the backward pass applies the same ones). */
  #masks: MaskSource | undefined;

  /** The pass's view of the model (plain data: the pool's workers receive it). */
  get plan(): PassPlan {
    // Only what the kernels read (each layer's activation without its spelling, parameters object
    // or slope array), so the message a worker gets each step stays small.
    return (this.#plan ??= {
      layers: this.#layers.map((l) => ({ ...l, act: { kind: l.act.kind, a: l.act.a, b: l.act.b, name: l.act.name } as ResolvedActivation })),
      slopeAt: this.#slopeAt,
      outputs: this.#outputs,
      below: this.#layers.map((_, i) => this.#layers.slice(0, i).some((l) => l.type === 'dense' || l.slopes > 0)),
    });
  }
  #plan: PassPlan | undefined;

  /** The whole batch's buffers (reserve's block) and the model's gradient slabs. */
  #bufs(): PassBuffers {
    return { x: this.#x, t: this.#t, z: this.#z, y: this.#y, ga: this.#ga, gb: this.#gb, grads: this.#params, row: 0 };
  }

  /** Forward pass over the loaded batch, keeping every layer's Z and Y. With `masks`, dropout
   *  layers drop (a training step); without, they copy their input (evaluate, gradients). */
  forward(B: number, masks?: MaskSource): void {
    this.#masks = masks;
    pass.forward(this.#ctx, this.plan, this.#bufs(), B, masks);
  }

  /** The loss over the forward pass just run; its gradient w.r.t. the loss input lands in ga. */
  loss(head: Head, B: number): number {
    return pass.loss(this.#ctx, this.plan, head, this.#bufs(), B);
  }

  /** The loss input (logits when fused), for accuracy: a live view, read at once. */
  outputView(head: Head, B: number): Float32Array {
    return ops.view(this.#ctx, pass.lossInput(this.plan, head, this.#bufs()), B * this.#outputs);
  }

  /** Backward pass from the loss gradient in ga: parameter gradients accumulate into the slabs. */
  backward(head: Head, B: number): void {
    pass.backward(this.#ctx, this.plan, head, this.#bufs(), B, this.#masks);
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
      pass.optimize(ctx, opt, t, this.#param[i]!, this.#params[i]!, n, n);
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
