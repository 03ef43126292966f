// SIMD math helpers shared by every kernel. All are @inline: they expand into the caller's loop.
//
// Conventions: every helper takes and returns f32x4 vectors; NaN lanes stay NaN; ±Infinity lanes
// produce the mathematical limit. Accuracy figures are measured against a float64 reference by
// test/activations.test.ts over the whole float range.

/** Fused multiply-add `a*b + c`. In the relaxed build this is one `f32x4.relaxed_madd` (FMA on
 *  hardware that has it); in the baseline build a multiply and an add. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/**
 * Element i of a float32 table in static memory, broadcast to four lanes.
 * Why not `f32x4.splat(constant)`: V8 (Node 20, Chrome) keeps few constants in registers in a hot
 * loop and rebuilds every other `v128.const` on each iteration with three instructions (one on the
 * shuffle port); a broadcast load is one load-port instruction. Measured on exp: −25% time.
 */
@inline export function K(table: usize, i: i32 = 0): v128 {
  return v128.load32_splat(table + (<usize>i << 2));
}

// Constants used by several functions.
export const ONE = memory.data<f32>([1.0]);
export const NEG_ONE = memory.data<f32>([-1.0]);
export const ZERO = memory.data<f32>([0.0]);
export const HALF = memory.data<f32>([0.5]);
export const TWO = memory.data<f32>([2.0]);
export const NEG_FLT_MAX = memory.data<f32>([-3.4028234663852886e38]);

/** Clamp to [lo, hi] keeping NaN: wasm's pmin/pmax return their first operand when a compare is
 *  false, so `pmax(NaN, lo)` is NaN (unlike IEEE min/max, they are also single instructions). */
@inline export function clampKeepNaN(x: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(x, lo), hi);
}

/** Replace -Infinity by -FLT_MAX (NaN kept). Used before `x * g(x)` forms whose factor g tends to 0
 *  as x → -Infinity, so that the product is the limit -0 instead of `-Inf * 0 = NaN`. */
@inline export function finiteBelow(x: v128): v128 {
  return f32x4.pmax(x, K(NEG_FLT_MAX));
}

/** Copy the sign bit of `s` onto `mag` (mag must be non-negative). */
@inline export function withSignOf(mag: v128, s: v128): v128 {
  return v128.or(mag, v128.and(s, i32x4.splat(0x80000000)));
}

// [0] log2(e). [1] 1.5·2^23 + 126: adding it to x·log2(e) rounds to an integer n and leaves n + 126
// in the low mantissa bits, so shifting the sum left by 23 gives the float 2^(n−1) directly (no
// float→int conversion), and subtracting it again gives n as a float. [2], [3] −ln2 split so that
// n·0.693359375 is exact (Cody–Waite). [4] −126·ln2: inputs are clamped there. n = −126 (every
// x below −125.5·ln2 ≈ −86.99, where e^x < 1.8e-38) makes the shifted exponent field 0, so 2^(n−1)
// is exactly +0 and e^x comes out 0 with no separate flush (−Infinity → 0). [5] above ln(FLT_MAX) ≈
// 88.7228 the result is +Infinity; clamping just past it keeps n ≤ 128. [6..12] 2·e^r = 2 + r·P(r) on
// |r| ≤ ln2/2: a degree-6 fit of relative error 1.5 ulp in float32 (the factor 2 pairs with
// 2^(n−1); fitted for this kernel by weighted least squares).
const EXP = memory.data<f32>([
  1.44269504088896341, 12582912.0 + 126.0, -0.693359375, 2.12194440e-4, -87.33654475055310898, 88.73,
  0.0027687307447195053, 0.01674831099808216, 0.0833360031247139, 0.33332863450050354,
  0.9999998807907104, 2.0, 2.0,
]);

/** Σ tab[i0 + j]·r^(n−1−j) for n = 6 or 7 coefficients (highest power first) in Estrin's form:
 *  independent pairs, then steps in r². Its dependency chain is half of Horner's, and these
 *  kernels are latency-bound (measured on sigmoid: −13%). */
@inline function estrin(r: v128, tab: usize, i0: i32, n: i32): v128 {
  const r2 = f32x4.mul(r, r);
  const j = i0 + n - 6; // the first coefficient of the three pairs
  const lo = madd(K(tab, j + 4), r, K(tab, j + 5));
  const mid = madd(K(tab, j + 2), r, K(tab, j + 3));
  let p = madd(K(tab, j), r, K(tab, j + 1));
  if (n > 6) p = madd(K(tab, i0), r2, p);
  return madd(madd(p, r2, mid), r2, lo);
}

/** x − n·ln2 (or x + n·ln2 with a negated table) in two steps, tab[i] + tab[i+1] = ∓ln2 with
 *  tab[i]·n exact (Cody–Waite). */
@inline function codyWaite(n: v128, xc: v128, tab: usize, i: i32): v128 {
  return madd(n, K(tab, i + 1), madd(n, K(tab, i), xc));
}

/** e^x for x already clamped to [EXP[4], EXP[5]] (or NaN). */
@inline function expCore(xc: v128): v128 {
  const magic = K(EXP, 1);
  const v = madd(xc, K(EXP, 0), magic);
  const s = i32x4.shl(v, 23); // 2^(n−1), +0 when n = −126
  const n = f32x4.sub(v, magic);
  return f32x4.mul(estrin(codyWaite(n, xc, EXP, 2), EXP, 6, 7), s);
}

// e^−x for sigmoid, without negating x: n = round(−x·log2 e), q = x + n·ln2 (= −r), and
// 2·e^r = P(−q), a degree-5 fit of relative error 1.1e-7 on |r| ≤ ln2/2 (fitted like EXP[6..12])
// with its odd coefficients negated. Sigmoid's tolerance allows about 3 ulp of e^−x.
// [0] −log2 e, [1] the magic bias, [2], [3] ln2 split (Cody–Waite), [4] −88.73 (just past
// −ln(FLT_MAX): e^−x overflows to +Infinity there, so sigmoid(−Inf) is exactly 0), [5] 126·ln2
// (n = −126: e^−x is exactly +0, sigmoid 1),
// [6..11] P, highest power first, [12] ln2 as one float32 (the relaxed build: with FMA, n·ln2 is not
// rounded before the addition, and ln2's own float32 error is n·1.5e-9, 3e-7 relative at most).
const EXPM = memory.data<f32>([
  -1.44269504088896341, 12582912.0 + 126.0, 0.693359375, -2.12194440e-4, -88.73, 87.33654475055310898,
  -0.01662496104836464, 0.08378007262945175, -0.3333422839641571, 0.999984622001648, -2.0, 2.0,
  0.69314718055994531,
]);

/** e^−x: +Infinity for x below about −88.72, 0 for x above about 86.99, NaN → NaN. */
@inline function vexpMinus(x: v128): v128 {
  const xc = clampKeepNaN(x, K(EXPM, 4), K(EXPM, 5));
  const magic = K(EXPM, 1);
  const v = madd(xc, K(EXPM, 0), magic);
  const s = i32x4.shl(v, 23); // 2^(n−1)
  const n = f32x4.sub(v, magic);
  if (ASC_FEATURE_RELAXED_SIMD) {
    // One ln2 constant (see [12]) and Horner: with FMA's short latency Horner beats Estrin's
    // extra multiply.
    return f32x4.mul(horner(madd(n, K(EXPM, 12), xc), EXPM, 6, 6), s);
  }
  return f32x4.mul(estrin(codyWaite(n, xc, EXPM, 2), EXPM, 6, 6), s);
}

/**
 * e^x for four lanes. Range reduction n = round(x·log2 e), r = x − n·ln2 (two-constant ln2);
 * e^r by a polynomial; 2^n by building the exponent bits. e^x ≥ FLT_MAX gives +Infinity,
 * x below about −86.99 (e^x < 1.8e-38, near and in the subnormal range) gives 0, NaN passes
 * through. Error ≤ 2 ulp.
 */
@inline export function vexp(x: v128): v128 {
  return expCore(clampKeepNaN(x, K(EXP, 4), K(EXP, 5)));
}

/** e^x for x ≤ 0 (or NaN): vexp without the upper clamp. */
@inline export function vexpNeg(x: v128): v128 {
  return expCore(f32x4.pmax(x, K(EXP, 4)));
}

/** −|x| in one instruction (set the sign bit). */
@inline export function negAbs(x: v128): v128 {
  return v128.or(x, i32x4.splat(0x80000000));
}

/** Σ tab[i0 + j]·s^(n−1−j) for j < n (Horner; coefficients highest power first, n ≤ 10). Written
 *  out, not looped: Binaryen does not unroll loops, and a loop here would run per vector; n is a
 *  constant at every call, so the untaken steps fold away. */
@inline function horner(s: v128, tab: usize, i0: i32, n: i32): v128 {
  let p = K(tab, i0);
  if (n > 1) p = madd(p, s, K(tab, i0 + 1));
  if (n > 2) p = madd(p, s, K(tab, i0 + 2));
  if (n > 3) p = madd(p, s, K(tab, i0 + 3));
  if (n > 4) p = madd(p, s, K(tab, i0 + 4));
  if (n > 5) p = madd(p, s, K(tab, i0 + 5));
  if (n > 6) p = madd(p, s, K(tab, i0 + 6));
  if (n > 7) p = madd(p, s, K(tab, i0 + 7));
  if (n > 8) p = madd(p, s, K(tab, i0 + 8));
  if (n > 9) p = madd(p, s, K(tab, i0 + 9));
  return p;
}

/**
 * An odd function that saturates at ±1 (tanh, erf) as x·P(x²)/Q(x²) with x clamped to [−L, L].
 * tab: P (6 coefficients, highest power first), Q (qTerms coefficients), then L and −L.
 * Near saturation the fits overshoot 1 by up to 2 ulp, so the result is clamped to [−1, 1]: that
 * also makes every |x| ≥ L (and ±Infinity) exactly ±1, in two instructions instead of a compare
 * and select on |x| (which took a quarter of tanh's time). NaN → NaN.
 */
@inline function saturatingOddRational(x: v128, tab: usize, qTerms: i32): v128 {
  const lim = 6 + qTerms;
  const xc = clampKeepNaN(x, K(tab, lim + 1), K(tab, lim));
  const s = f32x4.mul(xc, xc);
  const y = f32x4.div(f32x4.mul(xc, horner(s, tab, 0, 6)), horner(s, tab, 6, qTerms));
  return clampKeepNaN(y, K(NEG_ONE), K(ONE));
}

/**
 * log(1 + y) for y in [0, 1] (NaN passes through). Used by softplus with y = e^−|x|.
 * Method: u = 1 + y. If u < √2, t = u − 1 is exact and log1p(y) = y·(1 + t·Q(t)), where
 * log(1+t) = t + t²·Q'(t) is Cephes' logf polynomial; multiplying by y instead of t corrects the
 * rounding of u (Goldberg's log1p trick, without a division). Otherwise log1p(y) = ln2 + log(u/2).
 * Error ≤ 2 ulp.
 */
@inline export function vlog1pUnit(y: v128): v128 {
  const one = K(ONE);
  const u = f32x4.add(y, one);
  const big = f32x4.gt(u, K(LOG1P, 0));
  // t = u - 1 (exact) for the small branch, (y - 1)/2 for the large one.
  const t = v128.bitselect(f32x4.mul(f32x4.sub(y, one), K(HALF)), f32x4.sub(u, one), big);
  const p = horner(t, LOG1P, 2, 10); // ends with q = −1/2 + t·P(t)
  // log(1+t) = t + t²·q = t·(1 + t·q)
  const f = madd(t, p, one); // log(1+t)/t
  const small = f32x4.mul(y, f);
  const large = madd(t, f, K(LOG1P, 1));
  return v128.bitselect(large, small, big);
}

// [0] √2, [1] ln2, [2..10] Cephes logf polynomial P, [11] −1/2.
const LOG1P = memory.data<f32>([
  1.41421356237, 0.693147180559945309,
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1, -0.5,
]);

// erf(z) = z·P(z²)/Q(z²) for |z| < 4, a rational fit of relative error 2.5e-8 made for this kernel
// (weighted least squares, Loeb's iteration, on [0, 4]); erf is ±1 in float32 beyond.
// [0..5] P, highest power first; [6..11] Q, highest first; [12] 4; [13] −4.
const ERF = memory.data<f32>([
  1.986615870919195e-06, 0.00028454800485633314, 0.0038831764832139015, 0.053101178258657455,
  0.1935431808233261, 1.1283791065216064,
  3.74174996977672e-05, 0.0011855040211230516, 0.015206925570964813, 0.1153489351272583,
  0.504855751991272, 1.0,
  4.0, -4.0,
]);

/** erf(z) by a rational function: no exponential, one division. erf(±Inf) = ±1, NaN → NaN. */
@inline export function verf(z: v128): v128 {
  return saturatingOddRational(z, ERF, 6);
}

/**
 * Logistic sigmoid 1/(1+e^−x), as written: e^−x overflowing to +Infinity gives the limit 0, and
 * its relative error carries over to the result for x < 0, so the tail keeps its relative accuracy
 * (measured against float64: within 4e-7 down to x = −87). One division; sigmoid(−Inf) = 0,
 * sigmoid(+Inf) = 1, NaN → NaN. (The form with e^−|x| and a select cost 11–18% more time.)
 */
@inline export function vsigmoid(x: v128): v128 {
  const one = K(ONE);
  return f32x4.div(one, f32x4.add(vexpMinus(x), one));
}

// tanh(x) = x·P(x²)/Q(x²) for |x| < 9, a rational fit of relative error 7e-8 made for this kernel
// (weighted least squares, Loeb's iteration, on [0, 9]); tanh is ±1 in float32 beyond.
// [0..5] P, highest power first; [6..9] Q, highest first; [10] 9; [11] −9.
const TANH = memory.data<f32>([
  1.8534562773453445e-11, -1.2903372592631968e-08, 9.312765541835688e-06, 0.0029260641895234585,
  0.12924271821975708, 0.9999999403953552,
  0.00022881352924741805, 0.023785224184393883, 0.4625755846500397, 1.0,
  9.0, -9.0,
]);

/**
 * tanh(x) by a rational function: no exponential, one division. tanh(±Inf) = ±1, NaN → NaN.
 */
@inline export function vtanh(x: v128): v128 {
  return saturatingOddRational(x, TANH, 4);
}

/** softplus(x) = ln(1 + e^x) = max(x, 0) + log1p(e^−|x|): never overflows; softplus(−Inf) = 0. */
@inline export function vsoftplus(x: v128): v128 {
  const y = vexpNeg(negAbs(x));
  return f32x4.add(f32x4.pmax(x, K(ZERO)), vlog1pUnit(y));
}
