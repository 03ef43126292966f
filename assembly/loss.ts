// Loss functions with their gradients, fused: one call returns the loss and writes ∂loss/∂input.
//
// Every kernel returns the MEAN loss as f64 and writes `grad` = the exact gradient of that mean, so
// gradients are already scaled for a mean over the batch (the optimizer needs no 1/M); an empty
// batch (rows or n = 0) returns NaN, PyTorch's mean of nothing. Reductions
// match PyTorch's reduction='mean' (and Keras' default 'sum_over_batch_size', which is the same
// number whenever every row has the same length):
//
// softmax_cross_entropy_f32(grad, logits, labels, rows, cols): f64
//   logits [rows, cols] f32; labels [rows] i32 class indices. PyTorch CrossEntropyLoss on logits.
//   loss = (1/R) Σ_r (logsumexp(z_r) − z_r[label_r]),  grad_r = (softmax(z_r) − onehot(label_r)) / R,
//   R = the number of rows whose label is ≥ 0. Rows with a negative label are ignored (PyTorch's
//   ignore_index, −100 by default: any negative value here): grad row 0, no loss term. If every
//   row is ignored the loss is NaN (0/0, as PyTorch) and the gradient all zeros. A label ≥ cols
//   makes the loss and that gradient row NaN (the caller validates labels).
// softmax_cross_entropy_probs_f32(grad, logits, targets, rows, cols): f64
//   targets [rows, cols] f32 probability rows (one-hot, label-smoothed, soft). PyTorch
//   CrossEntropyLoss with probability targets; Keras CategoricalCrossentropy(from_logits=True).
//   loss = (1/rows) Σ_r Σ_c t[r,c]·(logsumexp(z_r) − z[r,c]),
//   grad[r,c] = (softmax(z_r)[c]·Σ_c' t[r,c'] − t[r,c]) / rows  (= (softmax − t)/rows when rows sum to 1).
// sigmoid_binary_cross_entropy_f32(grad, logits, targets, n): f64
//   PyTorch BCEWithLogitsLoss; Keras BinaryCrossentropy(from_logits=True). Over n = rows·cols
//   elements: loss = (1/n) Σ max(z,0) − z·t + log(1 + e^−|z|) (the softplus form: no overflow, no
//   log(0)), grad = (σ(z) − t)/n computed as ((1−t)·σ(z) − t·σ(−z))/n from one e^−|z|, so that
//   t = 1, z ≫ 0 keeps its tiny relative value instead of cancelling to 0.
// mse_f32(grad, y, t, n): f64
//   PyTorch MSELoss(reduction='mean') = Keras MeanSquaredError: mean over every element (batch AND
//   outputs): loss = (1/n) Σ (y − t)², grad = 2(y − t)/n. (A "mean over the batch, sum over outputs"
//   convention would be cols times larger: not what either framework does.)
// mae_f32(grad, y, t, n): f64
//   PyTorch L1Loss(reduction='mean') = Keras MeanAbsoluteError: loss = (1/n) Σ |y − t|,
//   grad = sign(y − t)/n with sign(0) = 0 (PyTorch's subgradient).
//
// Stability: the softmax kernels subtract the row maximum (logits near ±1e4 are fine) and form
// loss terms as (max − z) + log Σ e^(z − max) in float64, never log(softmax). Sums are accumulated
// in float64 (elementwise losses) or float32 lanes then float64 (softmax rows, like softmax.ts).
// NaN in an input gives NaN in the loss and in that element's gradient (for the softmax losses, the
// whole row's). ±Infinity logits are outside the contract (they give NaN, as PyTorch does).
// Layout: row-major, any 4-byte-aligned pointers; inputs are read up to the next multiple of 4
// floats (the arena pads every block by 16 bytes); grad is written exactly. Aliasing: grad may equal
// the logits / y (in place); for the elementwise losses also t; for softmax_cross_entropy_probs_f32
// grad must not overlap targets. Accuracy against float64 (test/train-kernels.test.ts): loss values
// within 1 float32 ulp relative; gradients within a few ulps of their terms (BCE: of (1−t)·σ(z) and
// t·σ(−z), so both tails keep relative accuracy until e^−|z| leaves the normal range at |z| ≈ 87);
// the softmax gradients carry the float32 row sum's error, ≤ (cols/4 + 8) ulps of softmax·Σt.

import { K, ONE, ZERO, madd, negAbs, vexpNeg, vlog1pUnit, withSignOf } from './math';
import { firstLanes, highF64, lowF64, storeFirst, sumF32Lanes, sumF64 } from './lanes';

/** Store the first `lanes` lanes of v (all four when lanes ≥ 4). */
@inline function put(ptr: usize, v: v128, lanes: i32): void {
  if (lanes >= 4) v128.store(ptr, v);
  else storeFirst(ptr, v, lanes);
}

/** Row maximum (NaN lanes are ignored here; they propagate through the exponentials later). */
@inline function rowMax(p: usize, cols: i32): f32 {
  let m = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= cols; j += 4) m = f32x4.pmax(v128.load(p + (<usize>j << 2)), m);
  let s = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; j < cols; j++) s = max(s, load<f32>(p + (<usize>j << 2)));
  return s;
}

/** out[j] = e^(z[j] − mx) for j < cols; returns Σ_j in float64 (float32 lanes summed in float64).
 *  One loop with a masked last vector (the exponential's code exists once). */
@inline function expRow(out: usize, z: usize, cols: i32, mx: f32): f64 {
  const mv = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  for (let j = 0; j < cols; j += 4) {
    const e = v128.and(vexpNeg(f32x4.sub(v128.load(z + (<usize>j << 2)), mv)), firstLanes(min(cols - j, 4), 0));
    put(out + (<usize>j << 2), e, cols - j);
    acc = f32x4.add(acc, e);
  }
  return sumF32Lanes(acc);
}

/** out[j] *= k for j < cols. */
@inline function scaleRow(out: usize, cols: i32, k: f32): void {
  const kv = f32x4.splat(k);
  let j = 0;
  for (; j + 4 <= cols; j += 4) v128.store(out + (<usize>j << 2), f32x4.mul(v128.load(out + (<usize>j << 2)), kv));
  if (j < cols) storeFirst(out + (<usize>j << 2), f32x4.mul(v128.load(out + (<usize>j << 2)), kv), cols - j);
}

export function softmax_cross_entropy_f32(grad: usize, logits: usize, labels: usize, rows: i32, cols: i32): f64 {
  let count = 0;
  for (let r = 0; r < rows; r++) if (load<i32>(labels + (<usize>r << 2)) >= 0) count++;
  const inv = 1.0 / <f64>count;
  const stride = <usize>cols << 2;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const label = load<i32>(labels + (<usize>r << 2));
    const z = logits + <usize>r * stride;
    const g = grad + <usize>r * stride;
    if (label < 0) {
      memory.fill(g, 0, stride);
      continue;
    }
    if (label >= cols) {
      total = NaN;
      memory.fill(g, 0xff, stride); // 0xffffffff is a NaN
      continue;
    }
    const zt = <f64>load<f32>(z + (<usize>label << 2)); // read before an in-place overwrite
    const mx = rowMax(z, cols);
    const s = expRow(g, z, cols, mx);
    total += (<f64>mx - zt) + Math.log(s);
    const et = <f64>load<f32>(g + (<usize>label << 2));
    scaleRow(g, cols, <f32>(inv / s));
    store<f32>(g + (<usize>label << 2), <f32>((et / s - 1.0) * inv));
  }
  return count == 0 ? NaN : total * inv;
}

export function softmax_cross_entropy_probs_f32(grad: usize, logits: usize, targets: usize, rows: i32, cols: i32): f64 {
  const stride = <usize>cols << 2;
  const inv: f64 = 1.0 / <f64>rows;
  const negInv = f32x4.splat(<f32>-inv);
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const z = logits + <usize>r * stride;
    const t = targets + <usize>r * stride;
    const g = grad + <usize>r * stride;
    const mx = rowMax(z, cols);
    const mv = f32x4.splat(mx);
    // One pass: e = e^(z − mx) into g, Σe, Σt and Σ t·(mx − z) (non-negative terms: no cancellation);
    // lanes past cols masked to 0.
    let se = f32x4.splat(0), st = se, sl = se;
    for (let j = 0; j < cols; j += 4) {
      const o = <usize>j << 2;
      const mask = firstLanes(min(cols - j, 4), 0);
      const d = v128.and(f32x4.sub(mv, v128.load(z + o)), mask);
      const tv = v128.and(v128.load(t + o), mask);
      const e = v128.and(vexpNeg(f32x4.neg(d)), mask);
      put(g + o, e, cols - j);
      se = f32x4.add(se, e);
      st = f32x4.add(st, tv);
      sl = madd(tv, d, sl);
    }
    const s = sumF32Lanes(se);
    const ts = sumF32Lanes(st);
    total += sumF32Lanes(sl) + ts * Math.log(s);
    // grad = e·(Σt/(s·rows)) − t/rows
    const kv = f32x4.splat(<f32>(ts / s * inv));
    for (let j = 0; j < cols; j += 4) {
      const o = <usize>j << 2;
      put(g + o, madd(v128.load(t + o), negInv, f32x4.mul(v128.load(g + o), kv)), cols - j);
    }
  }
  return total * inv;
}

// The elementwise losses share one loop: each op's `step` stores the first `lanes` gradient lanes
// (k = the 1/n scale folded with any constant factor) and returns the vector whose float64 sum,
// after `reduce`, is n times the loss.

@final @unmanaged class Bce {
  @inline step(g: usize, z: v128, t: v128, k: v128, lanes: i32): v128 {
    // e = e^−|z|, r = 1/(1 + e): σ(|z|) = r, σ(−|z|) = e·r. NaN z: e is NaN, so is everything.
    const e = vexpNeg(negAbs(z));
    const r = f32x4.div(K(ONE), f32x4.add(e, K(ONE)));
    const er = f32x4.mul(e, r);
    const pos = f32x4.ge(z, K(ZERO));
    const sp = v128.bitselect(r, er, pos); // σ(z)
    const sn = v128.bitselect(er, r, pos); // σ(−z)
    put(g, f32x4.mul(f32x4.sub(f32x4.mul(f32x4.sub(K(ONE), t), sp), f32x4.mul(t, sn)), k), lanes);
    // max(z, 0) − z·t + log1p(e^−|z|), in float32 (each term within an ulp or two of its size)
    return f32x4.add(madd(f32x4.neg(z), t, f32x4.pmax(z, K(ZERO))), vlog1pUnit(e));
  }
  @inline reduce(lo: v128): v128 { return lo; }
}

@final @unmanaged class Mse {
  @inline step(g: usize, y: v128, t: v128, k: v128, lanes: i32): v128 {
    const d = f32x4.sub(y, t);
    put(g, f32x4.mul(d, k), lanes); // k = 2/n
    return d;
  }
  @inline reduce(d: v128): v128 { return f64x2.mul(d, d); } // squared in float64: exact
}

@final @unmanaged class Mae {
  @inline step(g: usize, y: v128, t: v128, k: v128, lanes: i32): v128 {
    const d = f32x4.sub(y, t);
    const s = v128.and(withSignOf(k, d), f32x4.ne(d, f32x4.splat(0))); // ±k, 0 at d = 0 (NaN: ±k …)
    put(g, v128.bitselect(s, d, f32x4.eq(d, d)), lanes); // … so NaN lanes take d itself
    return d;
  }
  @inline reduce(d: v128): v128 { return f64x2.abs(d); }
}

/** acc + reduce(lanes 0, 1) + reduce(lanes 2, 3), in float64. */
@inline function accumulate<Op>(op: Op, acc: v128, l: v128): v128 {
  return f64x2.add(acc, f64x2.add(op.reduce(lowF64(l)), op.reduce(highF64(l))));
}

@inline function elementwiseLoss<Op>(grad: usize, y: usize, t: usize, n: i32, gscale: f64): f64 {
  const op = changetype<Op>(0);
  const k = f32x4.splat(<f32>gscale);
  // One loop for full vectors and the tail (each op's body exists once in the binary: these run
  // over a batch's outputs once per step, nowhere near the GEMMs' cost). Loads come before the
  // store, so grad may equal y or t. Lanes past n are masked out of the sum.
  let acc = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const l = op.step(grad + o, v128.load(y + o), v128.load(t + o), k, n - i);
    acc = accumulate<Op>(op, acc, v128.and(l, firstLanes(min(n - i, 4), 0)));
  }
  return sumF64(acc) / <f64>n;
}

export function sigmoid_binary_cross_entropy_f32(grad: usize, logits: usize, targets: usize, n: i32): f64 {
  return elementwiseLoss<Bce>(grad, logits, targets, n, 1.0 / <f64>n);
}

export function mse_f32(grad: usize, y: usize, t: usize, n: i32): f64 {
  return elementwiseLoss<Mse>(grad, y, t, n, 2.0 / <f64>n);
}

export function mae_f32(grad: usize, y: usize, t: usize, n: i32): f64 {
  return elementwiseLoss<Mae>(grad, y, t, n, 1.0 / <f64>n);
}
