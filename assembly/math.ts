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

/** Clamp to [lo, hi] keeping NaN: wasm's pmin/pmax return their first operand when a compare is
 *  false, so `pmax(NaN, lo)` is NaN (unlike IEEE min/max, they are also single instructions). */
@inline export function clampKeepNaN(x: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(x, lo), hi);
}

/** Replace -Infinity by -FLT_MAX (NaN kept). Used before `x * g(x)` forms whose factor g tends to 0
 *  as x → -Infinity, so that the product is the limit -0 instead of `-Inf * 0 = NaN`. */
@inline export function finiteBelow(x: v128): v128 {
  return f32x4.pmax(x, splat(-3.4028234663852886e38));
}

/** Copy the sign bit of `s` onto `mag` (mag must be non-negative). */
@inline export function withSignOf(mag: v128, s: v128): v128 {
  return v128.or(mag, v128.and(s, i32x4.splat(0x80000000)));
}

/**
 * e^x for four lanes.
 * Method (Cody–Waite / Cephes expf): n = round(x·log2 e); r = x − n·ln2 with ln2 split in two
 * constants so r is exact; e^r by a degree-6 polynomial on |r| ≤ ln2/2; 2^n applied in two halves
 * so results between FLT_MAX/2 and FLT_MAX, and subnormal results, come out right.
 * Inputs are clamped to [−104, 89] first (outside, e^x is 0 or +Inf in float32); NaN passes through.
 * Error ≤ 2 ulp over the whole range (see: Moshier, Cephes Math Library, expf.c).
 */
@inline export function vexp(x: v128): v128 {
  const xc = clampKeepNaN(x, splat(-104.0), splat(89.0));
  const n = f32x4.nearest(f32x4.mul(xc, splat(1.44269504088896341)));
  let r = madd(n, splat(-0.693359375), xc);
  r = madd(n, splat(2.12194440e-4), r);
  let p = splat(1.9875691500e-4);
  p = madd(p, r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, splat(1.0)));
  // 2^n as two factors 2^(n>>1) and 2^(n - (n>>1)), each a normal float for n in [-150, 129].
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/**
 * log(1 + y) for y in [0, 1] (NaN passes through). Used by softplus with y = e^−|x|.
 * Method: u = 1 + y. If u < √2, t = u − 1 is exact and log1p(y) = y·(1 + t·Q(t)), where
 * log(1+t) = t + t²·Q'(t) is Cephes' logf polynomial; multiplying by y instead of t corrects the
 * rounding of u (Goldberg's log1p trick, without a division). Otherwise log1p(y) = ln2 + log(u/2).
 * Error ≤ 2 ulp.
 */
@inline export function vlog1pUnit(y: v128): v128 {
  const u = f32x4.add(y, splat(1.0));
  const big = f32x4.gt(u, splat(1.41421356237));
  // t = u - 1 (exact) for the small branch, (y - 1)/2 for the large one.
  const t = v128.bitselect(f32x4.mul(f32x4.sub(y, splat(1.0)), splat(0.5)), f32x4.sub(u, splat(1.0)), big);
  let p = splat(7.0376836292e-2);
  p = madd(p, t, splat(-1.1514610310e-1));
  p = madd(p, t, splat(1.1676998740e-1));
  p = madd(p, t, splat(-1.2420140846e-1));
  p = madd(p, t, splat(1.4249322787e-1));
  p = madd(p, t, splat(-1.6668057665e-1));
  p = madd(p, t, splat(2.0000714765e-1));
  p = madd(p, t, splat(-2.4999993993e-1));
  p = madd(p, t, splat(3.3333331174e-1));
  // q = -1/2 + t·P(t), so log(1+t) = t + t²·q = t·(1 + t·q).
  const q = madd(p, t, splat(-0.5));
  const f = madd(t, q, splat(1.0)); // log(1+t)/t
  const small = f32x4.mul(y, f);
  const large = madd(t, f, splat(0.693147180559945309));
  return v128.bitselect(large, small, big);
}

/**
 * erfc(z) for four lanes, fractional error < 1.2e-7 in exact arithmetic, over the whole line
 * (Chebyshev fit: Press et al., Numerical Recipes, 2nd ed., §6.2 "erfcc").
 * erfc(+Inf) = 0, erfc(−Inf) = 2, NaN passes through.
 */
@inline export function verfc(z: v128): v128 {
  const a = f32x4.abs(z);
  const t = f32x4.div(splat(1.0), madd(a, splat(0.5), splat(1.0)));
  let p = splat(0.17087277);
  p = madd(p, t, splat(-0.82215223));
  p = madd(p, t, splat(1.48851587));
  p = madd(p, t, splat(-1.13520398));
  p = madd(p, t, splat(0.27886807));
  p = madd(p, t, splat(-0.18628806));
  p = madd(p, t, splat(0.09678418));
  p = madd(p, t, splat(0.37409196));
  p = madd(p, t, splat(1.00002368));
  p = madd(p, t, splat(-1.26551223));
  const e = f32x4.mul(t, vexp(f32x4.sub(p, f32x4.mul(a, a))));
  // erfc(-a) = 2 - erfc(a)
  return v128.bitselect(f32x4.sub(splat(2.0), e), e, f32x4.lt(z, splat(0.0)));
}

/**
 * erf(z): for |z| < 0.5 the Maclaurin series to z^13 (truncation < 1e-9, so small arguments keep
 * full relative accuracy); elsewhere 1 − erfc(z).
 */
@inline export function verf(z: v128): v128 {
  const z2 = f32x4.mul(z, z);
  let p = splat(1.0 / 9360.0);
  p = madd(p, z2, splat(-1.0 / 1320.0));
  p = madd(p, z2, splat(1.0 / 216.0));
  p = madd(p, z2, splat(-1.0 / 42.0));
  p = madd(p, z2, splat(1.0 / 10.0));
  p = madd(p, z2, splat(-1.0 / 3.0));
  p = madd(p, z2, splat(1.0));
  const series = f32x4.mul(f32x4.mul(p, z), splat(1.1283791670955126));
  const far = f32x4.sub(splat(1.0), verfc(z));
  return v128.bitselect(series, far, f32x4.lt(f32x4.abs(z), splat(0.5)));
}

/**
 * Logistic sigmoid 1/(1+e^−x). With t = e^−|x| (never overflows): x ≥ 0 → 1/(1+t), x < 0 →
 * t/(1+t). One division; sigmoid(−Inf) = 0, sigmoid(+Inf) = 1, NaN → NaN.
 */
@inline export function vsigmoid(x: v128): v128 {
  const t = vexp(f32x4.neg(f32x4.abs(x)));
  const num = v128.bitselect(t, splat(1.0), f32x4.lt(x, splat(0.0)));
  return f32x4.div(num, f32x4.add(t, splat(1.0)));
}

/**
 * tanh(x). |x| < 0.625: x + x³·P(x²) (Cephes tanhf polynomial); otherwise 1 − 2/(e^{2|x|} + 1)
 * with the sign of x. tanh(±Inf) = ±1, NaN → NaN.
 */
@inline export function vtanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = madd(p, z, splat(2.06390887954e-2));
  p = madd(p, z, splat(-5.37397155531e-2));
  p = madd(p, z, splat(1.33314422036e-1));
  p = madd(p, z, splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  const e = vexp(f32x4.add(a, a));
  const large = withSignOf(f32x4.sub(splat(1.0), f32x4.div(splat(2.0), f32x4.add(e, splat(1.0)))), x);
  return v128.bitselect(small, large, f32x4.lt(a, splat(0.625)));
}

/** softplus(x) = ln(1 + e^x) = max(x, 0) + log1p(e^−|x|): never overflows; softplus(−Inf) = 0. */
@inline export function vsoftplus(x: v128): v128 {
  const y = vexp(f32x4.neg(f32x4.abs(x)));
  return f32x4.add(f32x4.pmax(x, splat(0.0)), vlog1pUnit(y));
}
