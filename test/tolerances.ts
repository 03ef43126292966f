// Accuracy contract of the kernels against the float64 references in reference.ts, shared by the
// hardening tests (fuzz, isolation). The per-activation numbers are those of activations.test.ts
// (validated there over the whole float range with the default parameters); activationTolerance()
// scales the absolute part by the parameters that multiply the result, for random parameters.

export const EPS = 2 ** -23;
/** Largest finite float32. */
export const F32_MAX = 3.4028234663852886e38;

export interface Tolerance { abs: number; rel: number; exact?: boolean }

/** |actual − ref| ≤ abs + rel·|ref| for each activation (default parameters). */
export const ACTIVATION_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  linear: { abs: 0, rel: 0, exact: true },
  step: { abs: 0, rel: 0, exact: true },
  relu: { abs: 0, rel: 0, exact: true },
  relu6: { abs: 0, rel: 0, exact: true },
  leakyRelu: { abs: EPS, rel: EPS },
  prelu: { abs: EPS, rel: EPS },
  elu: { abs: 5e-6, rel: 1e-5 },
  selu: { abs: 5e-6, rel: 1e-5 },
  celu: { abs: 5e-6, rel: 1e-5 },
  gelu: { abs: 10 * EPS, rel: 5 * EPS },
  silu: { abs: 2 * EPS, rel: 6 * EPS },
  mish: { abs: 2 * EPS, rel: 6 * EPS },
  sigmoid: { abs: EPS, rel: EPS },
  hardSigmoid: { abs: EPS, rel: EPS },
  hardSwish: { abs: EPS, rel: 2 * EPS },
  tanh: { abs: EPS, rel: 4 * EPS },
  softplus: { abs: 2 * EPS, rel: 6 * EPS },
  softsign: { abs: 2 * EPS, rel: 6 * EPS },
  thresholdedRelu: { abs: 0, rel: 0, exact: true },
  clip: { abs: 0, rel: 0, exact: true },
  exp: { abs: 2 * EPS, rel: 6 * EPS },
  erf: { abs: 2 * EPS, rel: 6 * EPS },
  sign: { abs: 0, rel: 0, exact: true },
};

/** softmax.test.ts: softmax values in [0, 1]; log-softmax relative to its magnitude. */
export const SOFTMAX_TOLERANCE: Readonly<Tolerance> = { abs: 4 * EPS, rel: 8 * EPS };
export const LOG_SOFTMAX_TOLERANCE: Readonly<Tolerance> = { abs: 8 * EPS, rel: 8 * EPS };

export interface ActParams { alpha?: number; beta?: number; gamma?: number; min?: number; max?: number; approximate?: string }

/** The tolerance for an activation with (possibly non-default) parameters: the absolute part grows
 *  with the factors that scale the output (elu/celu/selu α, selu γ) or add rounding (hardSigmoid β). */
export function activationTolerance(name: string, p: ActParams = {}): Tolerance {
  const t = ACTIVATION_TOLERANCE[name];
  if (!t) throw new Error(`no tolerance for ${name}`);
  let scale = 1;
  if (name === 'elu' || name === 'celu') scale = Math.max(1, Math.abs(p.alpha ?? 1));
  if (name === 'selu') scale = Math.max(1, Math.abs((p.alpha ?? 1.6732632) * (p.gamma ?? 1.050701)) / 1.7581, Math.abs(p.gamma ?? 1));
  if (name === 'hardSigmoid') scale = 1 + Math.abs(p.beta ?? 0.5);
  return { abs: t.abs * scale, rel: t.rel, exact: t.exact };
}

/** Float32 accumulation error of a dot product of K terms plus a bias, relative to Σ|terms|: one
 *  rounding per product and per addition (2^-24 each), doubled for margin. */
export function dotTolerance(K: number): number {
  return (K + 2) * EPS;
}
