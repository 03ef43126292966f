// Softmax and log-softmax over the last axis of a row-major [rows, cols] block.
//
// softmax_f32(out, inp, rows, cols):     out[r,j] = e^(x[r,j] − m) / Σ_k e^(x[r,k] − m), m = max_k x[r,k]
// log_softmax_f32(out, inp, rows, cols): out[r,j] = x[r,j] − m − ln Σ_k e^(x[r,k] − m)
//   - `out` may equal `inp`; inputs are read up to the next multiple of 4 floats (arena padding).
//   - Subtracting the row maximum first means inputs near ±1e4 (or ±3e38) never overflow.
//   - A NaN anywhere in a row makes the whole row NaN. If the maximum is +Infinity, the +Infinity
//     entries share the mass equally (the limit) and the rest get 0 (−Infinity for log-softmax).
//     A row that is entirely −Infinity has no limit and becomes NaN.
//   - The row sum is accumulated in four float32 lanes and then in float64.

import { splat, vexpNeg } from './math';
import { storeFirst } from './lanes';

/** Row maximum (NaN lanes are ignored here; they propagate through the exponentials later). */
@inline function rowMax(p: usize, cols: i32): f32 {
  let m = splat(-Infinity);
  let j = 0;
  for (; j + 4 <= cols; j += 4) m = f32x4.pmax(v128.load(p + (<usize>j << 2)), m);
  let s = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; j < cols; j++) s = max(s, load<f32>(p + (<usize>j << 2)));
  return s;
}

/** Writes e^(x − m) to out (when `write`) and returns Σ e^(x − m) in float64. */
@inline function expSum(out: usize, p: usize, cols: i32, m: f32, write: bool): f64 {
  const mv = splat(m);
  // x − m ≤ 0, so the exponential needs no upper clamp. Two vectors per iteration (independent
  // exp chains for the out-of-order core), each with its own accumulator.
  let acc = splat(0.0);
  let acc2 = splat(0.0);
  let j = 0;
  for (; j + 8 <= cols; j += 8) {
    const q = p + (<usize>j << 2);
    const e0 = vexpNeg(f32x4.sub(v128.load(q), mv));
    const e1 = vexpNeg(f32x4.sub(v128.load(q, 16), mv));
    if (write) {
      const o = out + (<usize>j << 2);
      v128.store(o, e0);
      v128.store(o, e1, 16);
    }
    acc = f32x4.add(acc, e0);
    acc2 = f32x4.add(acc2, e1);
  }
  for (; j + 4 <= cols; j += 4) {
    const e = vexpNeg(f32x4.sub(v128.load(p + (<usize>j << 2)), mv));
    if (write) v128.store(out + (<usize>j << 2), e);
    acc = f32x4.add(acc, e);
  }
  acc = f32x4.add(acc, acc2);
  let s: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) +
    <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  if (j < cols) {
    const rem = cols - j;
    const e = vexpNeg(f32x4.sub(v128.load(p + (<usize>j << 2)), mv));
    if (write) storeFirst(out + (<usize>j << 2), e, rem);
    s += <f64>f32x4.extract_lane(e, 0);
    if (rem > 1) s += <f64>f32x4.extract_lane(e, 1);
    if (rem > 2) s += <f64>f32x4.extract_lane(e, 2);
  }
  return s;
}

/** Row whose maximum is +Infinity: the +Infinity entries share the mass (or all NaN if any NaN). */
function infiniteRow(out: usize, p: usize, cols: i32, log: bool): void {
  let count = 0;
  let nan = false;
  for (let j = 0; j < cols; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    if (v == Infinity) count++;
    else if (isNaN(v)) nan = true;
  }
  const share: f32 = nan ? NaN : <f32>(1.0 / <f64>count);
  const rest: f32 = nan ? NaN : 0;
  for (let j = 0; j < cols; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    const s = v == Infinity ? share : rest;
    store<f32>(out + (<usize>j << 2), log ? <f32>Math.log(<f64>s) : s);
  }
}

@inline function scaleRow(out: usize, cols: i32, k: f32): void {
  const kv = splat(k);
  let j = 0;
  for (; j + 4 <= cols; j += 4) v128.store(out + (<usize>j << 2), f32x4.mul(v128.load(out + (<usize>j << 2)), kv));
  for (; j < cols; j++) store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) * k);
}

/** out = (x − m) − l, in that order so that large m loses nothing. */
@inline function shiftRow(out: usize, p: usize, cols: i32, m: f32, l: f32): void {
  const mv = splat(m);
  const lv = splat(l);
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    v128.store(out + (<usize>j << 2), f32x4.sub(f32x4.sub(v128.load(p + (<usize>j << 2)), mv), lv));
  }
  for (; j < cols; j++) store<f32>(out + (<usize>j << 2), (load<f32>(p + (<usize>j << 2)) - m) - l);
}

export function softmax_f32(out: usize, inp: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const m = rowMax(inp, cols);
    if (m == Infinity) {
      infiniteRow(out, inp, cols, false);
    } else {
      // m == -Infinity (whole row −Inf): x − m is NaN, so the row becomes NaN, as documented.
      const s = expSum(out, inp, cols, m, true);
      scaleRow(out, cols, <f32>(1.0 / s));
    }
    inp += stride;
    out += stride;
  }
}

export function log_softmax_f32(out: usize, inp: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const m = rowMax(inp, cols);
    if (m == Infinity) {
      infiniteRow(out, inp, cols, true);
    } else {
      const s = expSum(0, inp, cols, m, false);
      shiftRow(out, inp, cols, m, <f32>Math.log(s));
    }
    inp += stride;
    out += stride;
  }
}
