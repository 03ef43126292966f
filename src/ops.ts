// The only file that knows the kernel ABI: pointer arithmetic and kernel calls. Callers have
// already validated shapes; each function here makes exactly the kernel calls it names.
import type { Kernels } from './wasm/loader.js';
import type { Arena } from './wasm/memory.js';
import { ACTIVATION_KINDS, type ResolvedActivation } from './activations.js';
import { typedArraySet } from './intrinsics.js';
import { DESC, DESC_BYTES, LAYER_TYPE } from './wasm/abi.js';
import type { PoolModel } from './pool/pool.js';
import type { Exec } from './pool/protocol.js';
import type { SliceJob } from './train/parallel.js';

export { DESC, DESC_BYTES, LAYER_TYPE };

/** What every operation of one runtime shares. `k` and `arena` are dropped when the runtime is
 *  disposed (so its WebAssembly memory can be garbage-collected); the guard is checked first. */
export interface Ctx {
  k: Kernels;
  arena: Arena;
  /** A new Float32Array of n floats, possibly uninitialised: every caller overwrites all of it
   *  before anyone else can see it. */
  readonly result: (n: number) => Float32Array;
  readonly guard: Guard;
  /** The runtime's worker pool, for model.predictAsync (absent: one thread). */
  parallel?: Parallel;
}

/** What model.predictAsync needs of the runtime's pool (src/pool/pool.ts, loaded on first use). */
export interface Parallel {
  /** How many threads a call may use now: 1 runs it on the calling thread. */
  threads(): number;
  /** Run parts[i] (rows[i] rows each, transferred) on worker i; one output array per part. */
  run(model: PoolModel, parts: Float32Array[], rows: readonly number[]): Promise<Float32Array[]>;
  /** Whether the workers share this runtime's memory (then `exec`, else `run`). */
  readonly shared: boolean;
  /** Shared mode: slice i of a forward pass on worker i; settles when every slice has. */
  exec(jobs: readonly Exec[]): Promise<void>;
  /** Shared mode: slice i of a training step on worker i; each slice's mean loss. `onFail` hears
   *  of a slice's failure at once (the call settles when every slice has). */
  train(slices: readonly SliceJob[], onFail?: (err: unknown) => void): Promise<number[]>;
  /** The model was disposed: forget its copies. */
  drop(id: number): void;
}

/** Per-runtime call state: `busy` while a public call is running (caller code that runs inside it,
 *  from a getter, a Proxy trap or a callback, must not re-enter), `closed` once disposed. */
export interface Guard {
  busy: boolean;
  closed: boolean;
}

/** The default result allocator: a zero-filled array. */
export const zeroedResult = (n: number): Float32Array => new Float32Array(n);

/** Weight layouts understood by pack_weights_f32. MUST MATCH assembly/gemm.ts. */
export const LAYOUT = { 'out-in': 0, 'in-out': 1 } as const;

/** Copy a Float32Array into the heap at byte offset `ptr`: exactly its real length (the intrinsic
 *  `set`; the caller checked that length against the block). */
export function upload(ctx: Ctx, ptr: number, data: Float32Array): void {
  typedArraySet(ctx.arena.f32(), data, ptr >>> 2);
}

/** Index of the first NaN or ±Infinity among `n` floats at byte offset `ptr`, or -1. */
export function firstNonFinite(ctx: Ctx, ptr: number, n: number): number {
  return ctx.k.first_nonfinite_f32(ptr, n);
}

/** Copy `n` floats at byte offset `ptr` into `out` (or a new array). */
export function download(ctx: Ctx, ptr: number, n: number, out?: Float32Array): Float32Array {
  const view = new Float32Array(ctx.arena.f32().buffer, ptr, n);
  if (out) {
    typedArraySet(out, view);
    return out;
  }
  return view.slice();
}

/** Elementwise activation (not softmax/logSoftmax) of n floats; out may equal inp. */
export function activate(ctx: Ctx, act: ResolvedActivation, out: number, inp: number, n: number, slopePtr: number): void {
  if (act.kind === ACTIVATION_KINDS.prelu) ctx.k.prelu_f32(out, inp, slopePtr, n, act.slope!.length);
  else ctx.k.activate_f32(act.kind, out, inp, n, act.a, act.b);
}

/** Softmax or log-softmax over rows of `cols`; out may equal inp. */
export function softmax(ctx: Ctx, log: boolean, out: number, inp: number, rows: number, cols: number): void {
  if (log) ctx.k.log_softmax_f32(out, inp, rows, cols);
  else ctx.k.softmax_f32(out, inp, rows, cols);
}

/** Bytes of packed weights for a K×N layer: packed_size_f32's formula (test/abi checks they agree),
 *  computed in float64 so that a huge layer is an OUT_OF_MEMORY, not a wrapped 32-bit size. */
export function packedBytes(K: number, N: number): number {
  return Math.ceil(N / 8) * (8 + 8 * K) * 4;
}

/** Thread t of `threads`' share of a layer of N units split by whole 8-unit panels: its first unit
 *  and how many (the last share ends at N). Every split by units uses it, so a thread's units are
 *  the same in each (fit's first-layer product and its update: the weights stay with one core). */
export function unitRange(N: number, t: number, threads: number): { u0: number; units: number } {
  const panels = Math.ceil(N / 8);
  const u0 = 8 * Math.floor((panels * t) / threads);
  return { u0, units: Math.min(N, 8 * Math.floor((panels * (t + 1)) / threads)) - u0 };
}

/** Read a K×N layer's weights ([N][K], out-in) and bias back from its packed panels. */
export function unpackWeights(ctx: Ctx, packed: number, K: number, N: number): { weights: Float32Array; bias: Float32Array } {
  const heap = ctx.arena.f32();
  const weights = new Float32Array(N * K);
  const bias = new Float32Array(N);
  const panelFloats = 8 + 8 * K;
  for (let n = 0; n < N; n++) {
    const base = (packed >>> 2) + (n >> 3) * panelFloats + (n & 7);
    bias[n] = heap[base]!;
    for (let k = 0; k < K; k++) weights[n * K + k] = heap[base + 8 + 8 * k]!;
  }
  return { weights, bias };
}

/** Pack weights (and bias; 0 for none) already uploaded at w/bias into `packed`. */
export function packWeights(ctx: Ctx, packed: number, w: number, bias: number, K: number, N: number, layout: keyof typeof LAYOUT): void {
  ctx.k.pack_weights_f32(packed, w, bias, K, N, LAYOUT[layout]);
}

/** Y = act(X·Wᵀ + b) for one layer with packed weights (activation fused when elementwise). */
export function dense(ctx: Ctx, out: number, x: number, packed: number, M: number, K: number, N: number, act: ResolvedActivation): void {
  ctx.k.dense_f32(out, x, packed, M, K, N, act.kind, act.a, act.b);
}

/** Write one layer descriptor at byte offset `ptr`. */
export function writeDescriptor(
  ctx: Ctx,
  ptr: number,
  d: { type: number; inputs: number; units: number; packed: number; act: ResolvedActivation; slope: number },
): void {
  const mem = ctx.arena.memory.buffer;
  const i32 = new Int32Array(mem, ptr, 8);
  const f32 = new Float32Array(mem, ptr, 8);
  i32[DESC.type] = d.type;
  i32[DESC.inputs] = d.inputs;
  i32[DESC.units] = d.units;
  i32[DESC.packed] = d.packed;
  i32[DESC.kind] = d.act.kind;
  f32[DESC.a] = d.act.a;
  f32[DESC.b] = d.act.b;
  i32[DESC.slope] = d.slope;
}

/** The whole forward pass: one kernel call for all layers. */
export function modelForward(ctx: Ctx, out: number, x: number, batch: number, desc: number, layers: number, bufA: number, bufB: number): void {
  ctx.k.model_forward_f32(out, x, batch, desc, layers, bufA, bufB);
}

// ---------------------------------------------------------------------------------------------
// Training (src/train/trainer.ts is the only caller).

/** dx = dy·act'(z) for an elementwise activation (dx may equal dy). False for a kind with no
 *  elementwise derivative (prelu: preluBackward; softmax, logSoftmax). */
export function activationBackward(ctx: Ctx, act: ResolvedActivation, dx: number, dy: number, z: number, n: number): boolean {
  return ctx.k.activation_backward_f32(act.kind, dx, dy, z, n, act.a, act.b) === 1;
}

/** PReLU forward in training, its `slopes` slopes (1, shared, or `period`, one per unit) read from
 *  the parameter block at slopePtr: the trained values, never the resolved activation's. */
export function preluForward(ctx: Ctx, out: number, inp: number, n: number, slopePtr: number, slopes: number, period: number): void {
  if (slopes === 1) ctx.k.activate_f32(ACTIVATION_KINDS.leakyRelu, out, inp, n, ctx.arena.f32()[slopePtr >>> 2]!, 0);
  else ctx.k.prelu_f32(out, inp, slopePtr, n, period);
}

/** PReLU backward: dx = dy·prelu'(z) (dx may equal dy) and dslope += ∂loss/∂slope (`slopes` floats
 *  at dslope: 1, shared, or `period`, one per unit). */
export function preluBackward(ctx: Ctx, dx: number, dslope: number, dy: number, z: number, n: number, slopePtr: number, slopes: number, period: number): void {
  ctx.k.prelu_backward_f32(dx, dslope, dy, z, slopePtr, n, slopes === 1 ? 1 : period);
}

/** dx = dY·W (dx = 0: skipped) and dpacked += [Σ dY | dYᵀ·X] on the packed panels. */
export function denseBackward(ctx: Ctx, dx: number, dpacked: number, dy: number, x: number, packed: number, M: number, K: number, N: number): void {
  ctx.k.dense_backward_f32(dx, dpacked, dy, x, packed, M, K, N);
}

/** dpacked += [Σ dY | dYᵀ·X] for units [u0, u0+N) alone: dpacked at panel u0/8, dy at column u0 of
 *  rows `ldy` floats long (a thread's share of a layer's parameter gradients). */
export function denseBackwardParams(ctx: Ctx, dpacked: number, dy: number, x: number, M: number, K: number, N: number, ldy: number): void {
  ctx.k.dense_backward_params_f32(dpacked, dy, x, M, K, N, ldy);
}

export type LossKernel = 'ce' | 'ceProbs' | 'bce' | 'mse' | 'mae';

/** Mean loss over the batch; writes its gradient w.r.t. `y` into `grad`. */
export function loss(ctx: Ctx, kind: LossKernel, grad: number, y: number, t: number, rows: number, cols: number): number {
  const k = ctx.k;
  switch (kind) {
    case 'ce': return k.softmax_cross_entropy_f32(grad, y, t, rows, cols);
    case 'ceProbs': return k.softmax_cross_entropy_probs_f32(grad, y, t, rows, cols);
    case 'bce': return k.sigmoid_binary_cross_entropy_f32(grad, y, t, rows * cols);
    case 'mse': return k.mse_f32(grad, y, t, rows * cols);
    default: return k.mae_f32(grad, y, t, rows * cols);
  }
}

export function sgd(ctx: Ctx, p: number, buf: number, g: number, n: number, lr: number, momentum: number, dampening: number, wd: number, nesterov: boolean): void {
  ctx.k.sgd_f32(p, buf, g, n, lr, momentum, dampening, wd, nesterov ? 1 : 0, 1);
}

export function adam(ctx: Ctx, decoupled: boolean, p: number, m: number, v: number, g: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void {
  (decoupled ? ctx.k.adamw_f32 : ctx.k.adam_f32)(p, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2, 1);
}

export function rmsprop(ctx: Ctx, p: number, sq: number, ga: number, buf: number, g: number, n: number, lr: number, alpha: number, eps: number, wd: number, momentum: number): void {
  ctx.k.rmsprop_f32(p, sq, ga, buf, g, n, lr, alpha, eps, wd, momentum, 1);
}

/** dst += src over n floats, then src = 0 (a gradient slab summed into another and cleared): SGD's
 *  kernel with lr −1 and nothing else, p + 1·g, which rounds once on both binaries (1·g is exact). */
export function accumulate(ctx: Ctx, dst: number, src: number, n: number): void {
  ctx.k.sgd_f32(dst, 0, src, n, -1, 0, 0, 0, 0, 1);
}

export function sumSquares(ctx: Ctx, x: number, n: number): number {
  return ctx.k.sum_squares_f32(x, n);
}

export function scale(ctx: Ctx, out: number, inp: number, s: number, n: number): void {
  ctx.k.scale_f32(out, inp, s, n);
}

/** Inverted dropout of n floats (out may equal inp): out = inp·mask(seed), the mask kept where the
 *  element's hash ≥ threshold, scaled by `scale` (assembly/dropout.ts); `first` is the index of
 *  out[0] in the whole batch (a slice of rows gets the whole batch's mask for those rows). */
export function dropout(ctx: Ctx, out: number, inp: number, n: number, seed: number, threshold: number, scale: number, first = 0): void {
  ctx.k.dropout_f32(out, inp, n, seed | 0, threshold | 0, scale, first | 0);
}

/** Copy n floats from byte offset src to dst (the ranges may overlap). */
export function copy(ctx: Ctx, dst: number, src: number, n: number): void {
  if (n > 0 && dst !== src) ctx.arena.f32().copyWithin(dst >>> 2, src >>> 2, (src >>> 2) + n);
}

/** Copy `rows` rows of n floats from src (rows `lds` floats apart) to dst (rows `ldd` apart). */
export function copyRows(ctx: Ctx, dst: number, ldd: number, src: number, lds: number, rows: number, n: number): void {
  const heap = ctx.arena.f32();
  for (let r = 0, d = dst >>> 2, s = src >>> 2; r < rows; r++, d += ldd, s += lds) heap.copyWithin(d, s, s + n);
}

/** Copy one float from byte offset src to dst. */
export function copyFloat(ctx: Ctx, dst: number, src: number): void {
  const heap = ctx.arena.f32();
  heap[dst >>> 2] = heap[src >>> 2]!;
}

/** Set n floats at byte offset ptr to zero. */
export function zero(ctx: Ctx, ptr: number, n: number): void {
  ctx.arena.f32().fill(0, ptr >>> 2, (ptr >>> 2) + n);
}

/** Copy rows idx[from..from+count) of `src` (rows of `width`) to consecutive rows at ptr. */
export function gatherRows(ctx: Ctx, ptr: number, src: Float32Array, idx: Uint32Array, from: number, count: number, width: number): void {
  const heap = ctx.arena.f32();
  let o = ptr >>> 2;
  for (let r = 0; r < count; r++, o += width) {
    const i = idx[from + r]! * width;
    heap.set(src.subarray(i, i + width), o);
  }
}

/** Int32 views of memory buffers (weakly held: a disposed runtime's memory stays collectable). */
const i32Views = new WeakMap<ArrayBufferLike, Int32Array>();

/** Copy labels idx[from..from+count) as int32 to ptr. */
export function gatherLabels(ctx: Ctx, ptr: number, src: Int32Array, idx: Uint32Array, from: number, count: number): void {
  const buffer = ctx.arena.f32().buffer;
  let heap = i32Views.get(buffer);
  if (!heap) i32Views.set(buffer, (heap = new Int32Array(buffer)));
  const o = ptr >>> 2;
  for (let r = 0; r < count; r++) heap[o + r] = src[idx[from + r]!]!;
}

/** A live view of n floats at ptr (valid until memory grows: use at once). */
export function view(ctx: Ctx, ptr: number, n: number): Float32Array {
  return ctx.arena.f32().subarray(ptr >>> 2, (ptr >>> 2) + n);
}
