import { SimdnnError, describe } from './errors.js';

/**
 * Activation kinds as the kernels number them.
 * MUST MATCH `enum Act` in assembly/activations.ts (test/abi.test.ts parses both and compares).
 */
export const ACTIVATION_KINDS = {
  linear: 0, step: 1, relu: 2, relu6: 3, leakyRelu: 4, prelu: 5, elu: 6, selu: 7, celu: 8,
  gelu: 9, geluTanh: 10, silu: 11, mish: 12, sigmoid: 13, hardSigmoid: 14, hardSwish: 15,
  tanh: 16, softplus: 17, softsign: 18, thresholdedRelu: 19, clip: 20, exp: 21, erf: 22,
  sign: 23, softmax: 24, logSoftmax: 25,
} as const;

/** Canonical activation names. `geluTanh` is internal: users write `gelu` with `approximate: 'tanh'`. */
export type ActivationName = Exclude<keyof typeof ACTIVATION_KINDS, 'geluTanh'>;

/** Every activation's parameters, with ONNX's defaults. */
export interface ActivationParams {
  /** leakyRelu (0.01), elu (1), selu (1.67326…), celu (1), hardSigmoid (0.2), thresholdedRelu (1). */
  alpha?: number;
  /** hardSigmoid (0.5). */
  beta?: number;
  /** selu (1.05070…). */
  gamma?: number;
  /** gelu: 'none' (exact erf form, default) or 'tanh'. */
  approximate?: 'none' | 'tanh';
  /** clip: lower bound (−Infinity). */
  min?: number;
  /** clip: upper bound (+Infinity). */
  max?: number;
  /** prelu: one slope, or one per channel (broadcast along the last axis). */
  slope?: number | ArrayLike<number>;
}

/** An activation as written in a model spec: a name, or a name with parameters. */
export type ActivationSpec = ActivationName | (ActivationParams & { name: ActivationName | string }) | string;

/** A resolved activation: the kernel kind and its two scalar parameters. */
export interface ResolvedActivation {
  readonly name: ActivationName;
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  /** PReLU slopes (length 1 or the channel count). */
  readonly slope?: Float32Array;
  /** The parameters as given, with defaults filled in (for summaries and JSON). */
  readonly params: Readonly<ActivationParams>;
}

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

/** name → the parameters it accepts and their defaults. */
const PARAMS: Record<ActivationName, Partial<Record<keyof ActivationParams, unknown>>> = {
  linear: {}, step: {}, relu: {}, relu6: {},
  leakyRelu: { alpha: 0.01 },
  prelu: { slope: undefined },
  elu: { alpha: 1 },
  selu: { alpha: SELU_ALPHA, gamma: SELU_GAMMA },
  celu: { alpha: 1 },
  gelu: { approximate: 'none' },
  silu: {}, mish: {}, sigmoid: {},
  hardSigmoid: { alpha: 0.2, beta: 0.5 },
  hardSwish: {}, tanh: {}, softplus: {}, softsign: {},
  thresholdedRelu: { alpha: 1 },
  clip: { min: -Infinity, max: Infinity },
  exp: {}, erf: {}, sign: {}, softmax: {}, logSoftmax: {},
};

/** Every public activation name. */
export const ACTIVATION_NAMES = Object.keys(PARAMS) as ActivationName[];

/** Lower-case, separator-free spellings → canonical name (Keras, PyTorch and ONNX spellings too). */
const ALIASES: Record<string, ActivationName> = {
  identity: 'linear', none: 'linear', heaviside: 'step', swish: 'silu', exponential: 'exp',
  hardtanh: 'clip',
};
for (const name of ACTIVATION_NAMES) ALIASES[name.toLowerCase()] = name;

/** Resolve a user-facing activation name (any case, `_`/`-` ignored) to its canonical name. */
export function canonicalActivation(name: unknown): ActivationName {
  if (typeof name !== 'string') {
    throw new SimdnnError('UNKNOWN_ACTIVATION', `activation must be a name such as 'relu', received ${describe(name)}`);
  }
  const found = ALIASES[name.toLowerCase().replace(/[_\-\s]/g, '')];
  if (!found) {
    throw new SimdnnError(
      'UNKNOWN_ACTIVATION',
      `unknown activation '${name}'; expected one of: ${ACTIVATION_NAMES.join(', ')}`,
    );
  }
  return found;
}

function num(name: string, key: string, value: unknown, finite: boolean): number {
  // The kernels take float32 parameters: 1e39 is finite here but would reach them as Infinity.
  if (typeof value !== 'number' || Number.isNaN(value) || (finite && !Number.isFinite(Math.fround(value)))) {
    throw new SimdnnError(
      'INVALID_PARAMETER',
      `${name}: parameter '${key}' must be a ${finite ? 'finite number within the float32 range (|v| ≤ 3.4028234663852886e38)' : 'number'}, received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Validate an activation and its parameters and resolve it for the kernels.
 * `spec` is a name or `{ name, ...params }`; `params` (for the method form) are merged over it.
 */
export function resolveActivation(spec: unknown, params?: ActivationParams): ResolvedActivation {
  let rawName: unknown = spec;
  let given: Record<string, unknown> = {};
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    ({ name: rawName, ...given } = spec as Record<string, unknown>);
  }
  if (params !== undefined) {
    if (params === null || typeof params !== 'object') {
      throw new SimdnnError('INVALID_PARAMETER', `activation parameters must be an object, received ${describe(params)}`);
    }
    given = { ...given, ...(params as Record<string, unknown>) };
  }
  const name = canonicalActivation(rawName);
  const accepted = PARAMS[name];
  for (const key of Object.keys(given)) {
    if (!(key in accepted)) {
      const list = Object.keys(accepted);
      throw new SimdnnError(
        'INVALID_PARAMETER',
        `${name}: unknown parameter '${key}'; expected ${list.length ? list.join(', ') : 'no parameters'}`,
      );
    }
  }
  // An explicit `undefined` (a forwarded optional option) means the default.
  for (const key of Object.keys(given)) if (given[key] === undefined) delete given[key];
  const p = { ...accepted, ...given } as Record<string, unknown>;
  const filled: ActivationParams = {};
  let kind: number = ACTIVATION_KINDS[name];
  let a = 0;
  let b = 0;
  let slope: Float32Array | undefined;
  switch (name) {
    case 'leakyRelu': case 'elu': case 'thresholdedRelu':
      a = filled.alpha = num(name, 'alpha', p.alpha, true);
      break;
    case 'celu':
      a = filled.alpha = num(name, 'alpha', p.alpha, true);
      if (a === 0) throw new SimdnnError('INVALID_PARAMETER', `celu: parameter 'alpha' must be non-zero, received 0`);
      break;
    case 'selu':
      a = filled.alpha = num(name, 'alpha', p.alpha, true);
      b = filled.gamma = num(name, 'gamma', p.gamma, true);
      break;
    case 'hardSigmoid':
      a = filled.alpha = num(name, 'alpha', p.alpha, true);
      b = filled.beta = num(name, 'beta', p.beta, true);
      break;
    case 'clip':
      a = filled.min = num(name, 'min', p.min, false);
      b = filled.max = num(name, 'max', p.max, false);
      break;
    case 'softplus':
      // The kernel's a = β, b = threshold (PyTorch's parameters); ln(1 + eˣ) is β = 1, no threshold.
      a = 1;
      b = Infinity;
      break;
    case 'gelu':
      if (p.approximate !== 'none' && p.approximate !== 'tanh') {
        throw new SimdnnError(
          'INVALID_PARAMETER',
          `gelu: parameter 'approximate' must be 'none' or 'tanh', received ${describe(p.approximate)}`,
        );
      }
      filled.approximate = p.approximate;
      if (p.approximate === 'tanh') kind = ACTIVATION_KINDS.geluTanh;
      break;
    case 'prelu':
      slope = toSlope(p.slope);
      filled.slope = Array.from(slope);
      if (slope.length === 1) {
        // One shared slope is a leaky ReLU: use its fused, broadcast-free kernel.
        kind = ACTIVATION_KINDS.leakyRelu;
        a = slope[0]!;
        slope = undefined;
      }
      break;
    default:
      break;
  }
  return { name, kind, a: Math.fround(a), b: Math.fround(b), slope, params: filled };
}

function toSlope(value: unknown): Float32Array {
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    throw new SimdnnError('INVALID_PARAMETER', `prelu: 'slope' must hold numbers, received ${describe(value)} (BigInt values)`);
  }
  let out: Float32Array;
  if (typeof value === 'number') out = Float32Array.of(value);
  else if (value instanceof Float32Array) out = value.slice();
  else if (Array.isArray(value) || ArrayBuffer.isView(value)) out = Float32Array.from(value as ArrayLike<number>);
  else {
    throw new SimdnnError(
      'INVALID_PARAMETER',
      `prelu: parameter 'slope' (a number or an array of per-channel slopes) is required, received ${describe(value)}`,
    );
  }
  if (out.length === 0 || Array.prototype.some.call(value, (v: unknown) => typeof v !== 'number') ||
      !out.every(Number.isFinite)) {
    throw new SimdnnError('INVALID_PARAMETER', `prelu: 'slope' must hold one or more finite numbers, received ${describe(value)}`);
  }
  return out;
}
