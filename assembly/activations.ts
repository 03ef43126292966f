// Elementwise activation kernels: each op's forward and derivative side by side (the Op classes
// below), and the loops that apply them. The list of activations is assembly/activations.json;
// `enum Act` and the dispatch switches (activate_f32, actVec, activation_backward_f32) are generated
// from it into assembly/activation_dispatch.ts by scripts/gen-activations.mjs.
//
// activate_f32(kind, out, inp, n, a, b): out[i] = act(inp[i]) for i < n.
//   - `out` may equal `inp` (in place); partial overlap is not allowed.
//   - `inp` must be readable up to the next multiple of 4 floats: the TypeScript arena pads every
//     allocation by 16 bytes, so the tail is computed with one full-vector load and lane stores.
//     Nothing past out[n-1] is written.
//   - a, b: the activation's parameters (alpha, beta, …), ignored by those that take none.
//     Softplus: a = β > 0, b = threshold (x itself where βx > b; +Infinity: never). β = 1 with
//     b = +Infinity is the plain ln(1 + eˣ) loop, chosen once per call, not per element.
// activation_backward_f32(kind, dx, dy, x, n, a, b): i32
//   dx[i] = dy[i]·act'(x[i]) for i < n, x the activation's INPUT (pre-activation) in the forward
//   pass; dx may equal dy or x. Returns 1, or 0 (nothing written) for a kind with no elementwise
//   derivative here: PRelu (prelu_backward_f32), Softmax and LogSoftmax (fused into the loss, or
//   refused by the trainer), or an unknown kind; test/train-kernels.test.ts calls it for every
//   kind of the list.
// prelu_backward_f32(dx, dslope, dy, x, slope, n, period): dx[i] = x[i] > 0 ? dy[i] : slope[i % period]·dy[i],
//   and, when dslope ≠ 0, dslope[j] += Σ_rows (x ≤ 0 ? dy·x : 0) for each unit j < period (the slopes'
//   gradient, accumulated row by row in float32). period = 1: one shared slope, dslope[0] += the sum
//   over all n elements (four lane sums, added at the end). dx may equal dy.
// prelu_f32(out, inp, slope, n, period): out[i] = inp[i] < 0 ? slope[i % period]·inp[i] : inp[i],
//   n a multiple of period (the slope broadcasts along the leading axes).
// Semantics follow ONNX operator definitions; NaN in → NaN out, ±Infinity → the limit.

import { storeFirst } from './lanes';
import {
  madd, splat, K, ONE, TWO, HALF, ZERO, NEG_FLT_MAX, clampKeepNaN, finiteBelow, withSignOf, vexp, verf,
  vsigmoid, vtanh, vsoftplus, vexpNeg, vlog1pUnit, negAbs,
} from './math';

// Constants as broadcast loads from static memory (see K in math.ts for why).
const SIX = memory.data<f32>([6.0]);
const SIXTH = memory.data<f32>([1.0 / 6.0]);
const SQRT1_2 = memory.data<f32>([0.70710678118654752]);
const GELU_C = memory.data<f32>([0.044715]);
const TWO_SQRT_2_PI = memory.data<f32>([1.5957691216057308]);
const MISH_CAP = memory.data<f32>([20.0]);
const FLT_MAX = memory.data<f32>([3.4028234663852886e38]);
const INV_SQRT_2PI = memory.data<f32>([0.3989422804014327]);
const TWO_SQRT_PI = memory.data<f32>([1.1283791670955126]);
const GELU_C3 = memory.data<f32>([3.0 * 0.044715]);
const THIRD = memory.data<f32>([1.0 / 3.0]);
const THREE = memory.data<f32>([3.0]);
const NEG_THREE = memory.data<f32>([-3.0]);

// Each op is a final class with two @inline methods, its forward `apply` and its derivative
// `deriv` (f'(x) from the forward's input x, with the same a/b parameters), so `mapLoop<Op>` and
// `gradLoop<Op>` expand to loops with the op's body inside them (AssemblyScript has no static calls
// on type parameters, hence changetype). Piecewise ops are exact (0/1/α selects; at a kink the
// side PyTorch takes); smooth ones reuse the forward's helpers (float32 accuracy of a few ulp of
// the largest term).
@final @unmanaged export class OpLinear {
  @inline apply(x: v128, a: f32, b: f32): v128 { return x; }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return K(ONE);
  }
}
@final @unmanaged export class OpStep {
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const r = v128.and(f32x4.gt(x, splat(0.0)), K(ONE));
    return v128.bitselect(x, r, f32x4.ne(x, x));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return splat(0.0); // 0 almost everywhere (PyTorch's heaviside has no gradient either)
  }
}
@final @unmanaged export class OpRelu {
  @inline apply(x: v128, a: f32, b: f32): v128 { return f32x4.pmax(x, splat(0.0)); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return v128.and(f32x4.gt(x, splat(0.0)), K(ONE)); // 1 where x > 0 (0 at the kink, as PyTorch)
  }
}
@final @unmanaged export class OpRelu6 {
  @inline apply(x: v128, a: f32, b: f32): v128 { return clampKeepNaN(x, splat(0.0), K(SIX)); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return v128.and(v128.and(f32x4.gt(x, splat(0.0)), f32x4.lt(x, K(SIX))), K(ONE));
  }
}
@final @unmanaged export class OpLeakyRelu {
  @inline apply(x: v128, a: f32, b: f32): v128 {
    return v128.bitselect(f32x4.mul(x, splat(a)), x, f32x4.lt(x, splat(0.0)));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return v128.bitselect(K(ONE), splat(a), f32x4.gt(x, splat(0.0)));
  }
}
@final @unmanaged export class OpElu {
  // x > 0 ? x : alpha·(e^x − 1)
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const neg = f32x4.mul(splat(a), f32x4.sub(vexp(x), K(ONE)));
    return v128.bitselect(x, neg, f32x4.gt(x, splat(0.0)));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return v128.bitselect(K(ONE), f32x4.mul(splat(a), vexp(x)), f32x4.gt(x, splat(0.0)));
  }
}
@final @unmanaged export class OpSelu {
  // gamma·(x > 0 ? x : alpha·(e^x − 1)); a = alpha, b = gamma
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const neg = f32x4.mul(splat(a), f32x4.sub(vexp(x), K(ONE)));
    return f32x4.mul(splat(b), v128.bitselect(x, neg, f32x4.gt(x, splat(0.0))));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return f32x4.mul(splat(b), v128.bitselect(K(ONE), f32x4.mul(splat(a), vexp(x)), f32x4.gt(x, splat(0.0))));
  }
}
@final @unmanaged export class OpCelu {
  // max(0, x) + min(0, alpha·(e^(x/alpha) − 1)), i.e. x > 0 ? x : alpha·(e^(x/alpha) − 1)
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const neg = f32x4.mul(splat(a), f32x4.sub(vexp(f32x4.div(x, splat(a))), K(ONE)));
    return v128.bitselect(x, neg, f32x4.gt(x, splat(0.0)));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return v128.bitselect(K(ONE), vexp(f32x4.div(x, splat(a))), f32x4.gt(x, splat(0.0)));
  }
}
@final @unmanaged export class OpGelu {
  // x·Φ(x) = x/2 + (x/2)·erf(x/√2)
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const h = f32x4.mul(finiteBelow(x), K(HALF));
    return madd(h, verf(f32x4.mul(x, K(SQRT1_2))), h);
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // Φ(x) + x·φ(x) = (1 + erf(x/√2))/2 + x·e^(−x²/2)/√(2π)
    const xf = finiteBelow(x);
    const cdf = madd(verf(f32x4.mul(xf, K(SQRT1_2))), K(HALF), K(HALF));
    const pdf = f32x4.mul(vexpNeg(f32x4.mul(f32x4.mul(xf, xf), splat(-0.5))), K(INV_SQRT_2PI));
    return madd(xf, pdf, cdf);
  }
}
@final @unmanaged export class OpGeluTanh {
  // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), u = √(2/π)·(x + 0.044715·x³)
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const xf = finiteBelow(x);
    const x2 = f32x4.mul(xf, xf);
    const inner = madd(x2, K(GELU_C), K(ONE));
    const u2 = f32x4.mul(f32x4.mul(xf, inner), K(TWO_SQRT_2_PI));
    return f32x4.mul(xf, vsigmoid(u2));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // s + x·s·(1 − s)·2c·(1 + 3·0.044715·x²), s = sigmoid(2u)
    const xf = finiteBelow(x);
    const x2 = f32x4.mul(xf, xf);
    const s = vsigmoid(f32x4.mul(f32x4.mul(xf, madd(x2, K(GELU_C), K(ONE))), K(TWO_SQRT_2_PI)));
    const du = f32x4.mul(madd(x2, K(GELU_C3), K(ONE)), K(TWO_SQRT_2_PI));
    return madd(f32x4.mul(xf, f32x4.mul(s, f32x4.sub(K(ONE), s))), du, s);
  }
}
@final @unmanaged export class OpSilu {
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const xf = finiteBelow(x);
    return f32x4.mul(xf, vsigmoid(xf));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // s·(1 + x·(1 − s))
    const xf = finiteBelow(x);
    const s = vsigmoid(xf);
    return f32x4.mul(s, madd(xf, f32x4.sub(K(ONE), s), K(ONE)));
  }
}
@final @unmanaged export class OpMish {
  // x·tanh(softplus(x)) = x·n/(n + 2) with n = e^x·(e^x + 2); e^x capped at e^20, where the
  // ratio is already 1 in float32.
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const xf = finiteBelow(x);
    const e = vexp(f32x4.pmin(xf, K(MISH_CAP)));
    const n = f32x4.mul(e, f32x4.add(e, K(TWO)));
    return f32x4.mul(xf, f32x4.div(n, f32x4.add(n, K(TWO))));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // t + x·(1 − t²)·sigmoid(x), t = tanh(softplus(x)) = n/(n + 2); 1 − t = 2/(n + 2) (no cancellation)
    const xf = finiteBelow(x);
    const e = vexp(f32x4.pmin(xf, K(MISH_CAP)));
    const n = f32x4.mul(e, f32x4.add(e, K(TWO)));
    const r = f32x4.div(K(ONE), f32x4.add(n, K(TWO)));
    const t = f32x4.mul(n, r);
    const sech2 = f32x4.mul(f32x4.mul(K(TWO), r), f32x4.add(K(ONE), t));
    return madd(f32x4.mul(xf, sech2), vsigmoid(xf), t);
  }
}
@final @unmanaged export class OpSigmoid {
  @inline apply(x: v128, a: f32, b: f32): v128 { return vsigmoid(x); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    const s = vsigmoid(x);
    return f32x4.mul(s, f32x4.sub(K(ONE), s));
  }
}
@final @unmanaged export class OpHardSigmoid {
  // max(0, min(1, alpha·x + beta))
  @inline apply(x: v128, a: f32, b: f32): v128 {
    return clampKeepNaN(madd(x, splat(a), splat(b)), splat(0.0), K(ONE));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // alpha inside the linear part (0 < alpha·x + beta < 1), else 0
    const u = madd(x, splat(a), splat(b));
    return v128.and(v128.and(f32x4.gt(u, splat(0.0)), f32x4.lt(u, K(ONE))), splat(a));
  }
}
@final @unmanaged export class OpHardSwish {
  // x·max(0, min(1, x/6 + 1/2))
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const xf = finiteBelow(x);
    const g = clampKeepNaN(madd(xf, K(SIXTH), K(HALF)), splat(0.0), K(ONE));
    return f32x4.mul(xf, g);
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // PyTorch: 0 for x < −3, x/3 + 1/2 for −3 ≤ x ≤ 3, 1 above
    const mid = madd(x, K(THIRD), K(HALF));
    const r = v128.bitselect(K(ONE), mid, f32x4.gt(x, K(THREE)));
    return v128.andnot(r, f32x4.lt(x, K(NEG_THREE)));
  }
}
@final @unmanaged export class OpTanh {
  @inline apply(x: v128, a: f32, b: f32): v128 { return vtanh(x); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    const t = vtanh(x);
    return madd(f32x4.neg(t), t, K(ONE));
  }
}
@final @unmanaged export class OpSoftplus {
  @inline apply(x: v128, a: f32, b: f32): v128 { return vsoftplus(x); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return vsigmoid(x);
  }
}
@final @unmanaged export class OpSoftplusBeta {
  // PyTorch's softplus: βx > threshold ? x : (1/β)·ln(1 + e^(βx)); a = β > 0, b = threshold.
  // Written max(x, 0) + log1p(e^(−|βx|))/β: the linear part is x itself (max(βx, 0)/β = max(x, 0)
  // exactly, no rounding of βx there), so βx overflowing to ±Infinity still gives x or 0, never
  // Infinity or NaN. NaN: βx > b is false, and the formula keeps NaN.
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const z = f32x4.mul(x, splat(a));
    const tail = f32x4.div(vlog1pUnit(vexpNeg(negAbs(z))), splat(a));
    const y = f32x4.add(f32x4.pmax(x, K(ZERO)), tail);
    return v128.bitselect(x, y, f32x4.gt(z, splat(b)));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // sigmoid(βx), or 1 where βx > threshold (the linear part)
    const z = f32x4.mul(x, splat(a));
    return v128.bitselect(K(ONE), vsigmoid(z), f32x4.gt(z, splat(b)));
  }
}
@final @unmanaged export class OpSoftsign {
  // x/(1 + |x|); ±Inf → ±1
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const xc = clampKeepNaN(x, K(NEG_FLT_MAX), K(FLT_MAX));
    return f32x4.div(xc, f32x4.add(f32x4.abs(xc), K(ONE)));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // 1/(1 + |x|)²
    const d = f32x4.add(f32x4.abs(x), K(ONE));
    return f32x4.div(K(ONE), f32x4.mul(d, d));
  }
}
@final @unmanaged export class OpThresholdedRelu {
  // x > alpha ? x : 0 (NaN kept)
  @inline apply(x: v128, a: f32, b: f32): v128 {
    return v128.bitselect(splat(0.0), x, f32x4.le(x, splat(a)));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return v128.and(f32x4.gt(x, splat(a)), K(ONE));
  }
}
@final @unmanaged export class OpClip {
  // min(max(x, lo), hi); a = lo, b = hi
  @inline apply(x: v128, a: f32, b: f32): v128 { return clampKeepNaN(x, splat(a), splat(b)); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return v128.and(v128.and(f32x4.ge(x, splat(a)), f32x4.le(x, splat(b))), K(ONE)); // PyTorch's clamp: ends included
  }
}
@final @unmanaged export class OpExp {
  @inline apply(x: v128, a: f32, b: f32): v128 { return vexp(x); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return vexp(x);
  }
}
@final @unmanaged export class OpErf {
  @inline apply(x: v128, a: f32, b: f32): v128 { return verf(x); }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    // 2/√π·e^(−x²)
    return f32x4.mul(vexpNeg(f32x4.neg(f32x4.mul(x, x))), K(TWO_SQRT_PI));
  }
}
@final @unmanaged export class OpSign {
  // −1, 0 (keeping −0) or 1; NaN kept
  @inline apply(x: v128, a: f32, b: f32): v128 {
    const one = withSignOf(K(ONE), x);
    const r = v128.bitselect(x, one, f32x4.eq(x, splat(0.0)));
    return v128.bitselect(x, r, f32x4.ne(x, x));
  }
  @inline deriv(x: v128, a: f32, b: f32): v128 {
    return splat(0.0);
  }
}


/** Four vectors per iteration: four independent dependency chains for the out-of-order core to
 *  overlap (the transcendental ones are long serial chains; measured on sigmoid: 11.1 ns per vector
 *  one at a time, 8.9 two at a time, 7.7 four at a time). Then single vectors, then the tail. */
@inline export function mapLoop<Op>(out: usize, inp: usize, n: i32, a: f32, b: f32): void {
  const op = changetype<Op>(0);
  const end = inp + (<usize>n << 2);
  while (inp + 64 <= end) {
    const y0 = op.apply(v128.load(inp), a, b);
    const y1 = op.apply(v128.load(inp, 16), a, b);
    const y2 = op.apply(v128.load(inp, 32), a, b);
    const y3 = op.apply(v128.load(inp, 48), a, b);
    v128.store(out, y0);
    v128.store(out, y1, 16);
    v128.store(out, y2, 32);
    v128.store(out, y3, 48);
    inp += 64;
    out += 64;
  }
  while (inp + 16 <= end) {
    v128.store(out, op.apply(v128.load(inp), a, b));
    inp += 16;
    out += 16;
  }
  if (inp < end) {
    storeFirst(out, op.apply(v128.load(inp), a, b), <i32>((end - inp) >> 2));
  }
}

/** PReLU with a slope vector of length `period` broadcast along the leading axes (n % period == 0). */
export function prelu_f32(out: usize, inp: usize, slope: usize, n: i32, period: i32): void {
  if (period <= 0) return;
  const rows = n / period;
  const zero = splat(0.0);
  for (let r = 0; r < rows; r++) {
    let j = 0;
    for (; j + 4 <= period; j += 4) {
      const x = v128.load(inp + (<usize>j << 2));
      const s = v128.load(slope + (<usize>j << 2));
      v128.store(out + (<usize>j << 2), v128.bitselect(f32x4.mul(x, s), x, f32x4.lt(x, zero)));
    }
    if (j < period) {
      const x = v128.load(inp + (<usize>j << 2));
      const s = v128.load(slope + (<usize>j << 2));
      storeFirst(out + (<usize>j << 2), v128.bitselect(f32x4.mul(x, s), x, f32x4.lt(x, zero)), period - j);
    }
    inp += <usize>period << 2;
    out += <usize>period << 2;
  }
}

/** dx = dy·act'(x), one vector at a time (the tail with lane stores): each derivative's body is
 *  emitted once, which keeps the binary small; the backward pass is dominated by the GEMMs. */
@inline export function gradLoop<Op>(dx: usize, dy: usize, x: usize, n: i32, a: f32, b: f32): i32 {
  const op = changetype<Op>(0);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    storeFirst(dx + o, f32x4.mul(v128.load(dy + o), op.deriv(v128.load(x + o), a, b)), n - i);
  }
  return 1;
}

/** Input and slope gradients of PReLU with a per-unit slope vector broadcast along the leading
 *  axes (see the file header). period = 1 is one slope shared by every element: a flat loop with
 *  the slope in a register and the slope gradient summed in one vector (lanes added at the end). */
export function prelu_backward_f32(dx: usize, dslope: usize, dy: usize, x: usize, slope: usize, n: i32, period: i32): void {
  if (period <= 0) return;
  if (period == 1) {
    const zero = splat(0.0);
    const s = v128.load32_splat(slope);
    let acc = zero;
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2;
      const g = v128.load(dy + o);
      const xv = v128.load(x + o);
      const pos = f32x4.gt(xv, zero);
      // lanes past n: zeroed, so the padding never reaches the sum
      const live = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n - i));
      acc = f32x4.add(acc, v128.and(v128.andnot(f32x4.mul(g, xv), pos), live));
      storeFirst(dx + o, v128.bitselect(g, f32x4.mul(g, s), pos), n - i);
    }
    if (dslope != 0) {
      const sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      store<f32>(dslope, load<f32>(dslope) + sum);
    }
    return;
  }
  const rows = n / period;
  const zero = splat(0.0);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < period; j += 4) {
      const o = <usize>j << 2;
      const g = v128.load(dy + o);
      const xv = v128.load(x + o);
      const pos = f32x4.gt(xv, zero);
      if (dslope != 0) storeFirst(dslope + o, f32x4.add(v128.load(dslope + o), v128.andnot(f32x4.mul(g, xv), pos)), period - j);
      storeFirst(dx + o, v128.bitselect(g, f32x4.mul(g, v128.load(slope + o)), pos), period - j);
    }
    dx += <usize>period << 2;
    dy += <usize>period << 2;
    x += <usize>period << 2;
  }
}
