import { realLength, toF32Input, typedArrayKind } from './arrays.js';
import { SimdnnError, describe } from './errors.js';

import { ACTIVATION_KINDS, CANONICAL_ACTIVATIONS } from './activation-table.js';

/** Activation kinds as the kernels number them: generated from assembly/activations.json, the one
 *  list of activations (with `enum Act` and the kernels' dispatch), by scripts/gen-activations.mjs. */
export { ACTIVATION_KINDS };

/** Canonical activation names. `geluTanh` is internal: users write `gelu` with `approximate: 'tanh'`. */
export type ActivationName = Exclude<keyof typeof ACTIVATION_KINDS, 'geluTanh'>;

/**
 * Every activation's parameters, loosely typed (`ParamsOf<N>` is the exact type for one spelling).
 * simdnn's own names first, then the framework names some spellings accept for the same parameter.
 */
export interface ActivationParams {
  /** leakyRelu (0.01), elu (1), selu (1.67326…), celu (1), hardSigmoid (0.2), thresholdedRelu (1). */
  alpha?: number;
  /** hardSigmoid: the offset (0.5). softplus: the sharpness β of (1/β)·ln(1 + e^(βx)) (1). */
  beta?: number;
  /** selu (1.05070…). */
  gamma?: number;
  /** gelu: 'none' (exact erf form, default) or 'tanh'; Keras's `false`/`true` mean the same. */
  approximate?: 'none' | 'tanh' | boolean;
  /** clip: lower bound (−Infinity). */
  min?: number;
  /** clip: upper bound (+Infinity). */
  max?: number;
  /** prelu: one slope, or one per channel (broadcast along the last axis). */
  slope?: number | ArrayLike<number>;
  /** softplus: x itself where βx > threshold (+Infinity: never). PyTorch Threshold: the threshold. */
  threshold?: number;
  /** PyTorch leaky_relu / LeakyReLU, Keras 3 leaky_relu / LeakyReLU: the slope below 0 (= alpha). */
  negative_slope?: number;
  /** PyTorch hardtanh: lower bound (= min, −1). */
  min_val?: number;
  /** PyTorch hardtanh: upper bound (= max, 1). */
  max_val?: number;
  /** PyTorch Threshold: the output below the threshold; only 0 maps onto thresholdedRelu. */
  value?: number;
  /** PyTorch prelu: the slopes (= slope). */
  weight?: number | ArrayLike<number>;
  /** Keras 2 ThresholdedReLU: the threshold (= alpha, 1). */
  theta?: number;
  /** softmax / logSoftmax: only −1 (the last axis) — ONNX and Keras spell it axis, PyTorch dim. */
  axis?: number;
  /** softmax / logSoftmax: only −1 (the last axis), PyTorch's spelling. */
  dim?: number;
}

/** A resolved activation: the kernel kind and its two scalar parameters. */
export interface ResolvedActivation {
  /** The canonical activation computed (a framework spelling resolves to one of these). */
  readonly name: ActivationName;
  /** The name as it was written (`'Hardsigmoid'`, `'hard_swish'`, `'relu'`, …). */
  readonly spelling: string;
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  /** PReLU slopes (length 1 or the channel count). */
  readonly slope?: Float32Array;
  /** The canonical activation's parameters under simdnn's names, defaults filled in (for summaries
   *  and JSON): `{ name, ...params }` written back is the same function under any spelling. */
  readonly params: Readonly<ActivationParams>;
}

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

// ---------------------------------------------------------------------------------------------
// The spellings. Each exact spelling names one definition; a definition is shared by the spellings
// that mean exactly the same function with the same defaults and parameters.

/** A parameter under simdnn's name: what the kernels and `ResolvedActivation.params` use. */
type Param =
  | 'alpha' | 'beta' | 'gamma' | 'approximate' | 'min' | 'max' | 'slope' | 'threshold' | 'axis' | 'value';

interface Definition {
  /** The canonical activation it computes. */
  readonly name: ActivationName;
  /** The function with its defaults, for messages ("x/6 + 1/2, clipped to [0, 1]"). */
  readonly about: string;
  /** Accepted parameter names (the framework's first, then simdnn's) → the parameter each sets. */
  readonly params: { readonly [given: string]: Param };
  /** Defaults where this spelling's framework differs from simdnn's canonical defaults. */
  readonly defaults?: { readonly [P in Param]?: number };
  /** Parameters that must be given (one of their names each) ... */
  readonly requires?: readonly Param[];
  /** ... and the message when one is missing (after "<spelling>: " or "'<spelling>' is ambiguous: "). */
  readonly missing?: string;
  /** True when the spelling means different functions in different frameworks: `missing` then
   *  says which, and the parameters in `requires` pick one. */
  readonly ambiguous?: boolean;
}

const def = <const D extends Definition>(d: D): D => d;

/** simdnn's canonical definitions, from the list (assembly/activations.json): `C.relu`, `C.prelu`, …
 *  The spellings below that mean exactly the same function share these objects. */
const C = CANONICAL_ACTIVATIONS satisfies { readonly [N in ActivationName]: Definition & { readonly name: N } };

// Framework spellings whose defaults differ from simdnn's canonical ones.
const TORCH_HARDSIGMOID = def({
  name: 'hardSigmoid', about: 'max(0, min(1, x/6 + 1/2)) (PyTorch)', params: {}, defaults: { alpha: 1 / 6, beta: 0.5 },
});
const KERAS_HARD_SIGMOID = def({
  name: 'hardSigmoid', about: 'Keras: 0.2x + 0.5 before Keras 3, x/6 + 1/2 from Keras 3 (clipped to [0, 1])',
  params: { alpha: 'alpha', beta: 'beta' }, requires: ['alpha'], ambiguous: true,
  missing: 'Keras 3 (TensorFlow ≥ 2.16) uses x/6 + 1/2, Keras 2 (tf.keras, TensorFlow ≤ 2.15) 0.2x + 0.5, both clipped to [0, 1]; ' +
    'pass { alpha: 1/6 } or { alpha: 0.2 } (beta defaults to 0.5)',
});
const HARDTANH = def({
  name: 'clip', about: 'min(max(x, min_val), max_val), min_val = −1, max_val = 1',
  params: { min_val: 'min', max_val: 'max', min: 'min', max: 'max' }, defaults: { min: -1, max: 1 },
});
const LEAKY_RELU_FN = def({
  name: 'leakyRelu', about: "x < 0 ? negative_slope·x : x (PyTorch's default slope 0.01, Keras 3's 0.2)",
  params: { negative_slope: 'alpha', alpha: 'alpha' }, requires: ['alpha'], ambiguous: true,
  missing: "PyTorch's leaky_relu defaults to negative_slope 0.01, Keras 3's to 0.2; pass { negative_slope } (or { alpha })",
});
const LEAKY_RELU_LAYER = def({
  name: 'leakyRelu', about: "x < 0 ? negative_slope·x : x (PyTorch's default slope 0.01, Keras's 0.3)",
  params: { negative_slope: 'alpha', alpha: 'alpha' }, requires: ['alpha'], ambiguous: true,
  missing: "PyTorch's nn.LeakyReLU defaults to negative_slope 0.01, Keras's LeakyReLU layer to 0.3 (alpha in tf.keras, " +
    'negative_slope in Keras 3); pass { negative_slope } or { alpha }',
});
const TORCH_THRESHOLD = def({
  name: 'thresholdedRelu', about: 'x > threshold ? x : value (PyTorch; value must be 0)',
  params: { threshold: 'alpha', value: 'value', alpha: 'alpha' }, requires: ['alpha', 'value'],
  missing: "PyTorch's Threshold has no defaults: pass { threshold, value: 0 }",
});

/**
 * Every accepted spelling, matched exactly (case and separators count), and what it means.
 * simdnn's canonical names keep ONNX semantics; a framework's spelling means what that framework
 * means (README.aliases.md lists them with their sources).
 */
const SPELLINGS = {
  // simdnn's canonical names (every one in the list)
  ...C,
  // simdnn's older aliases
  none: C.linear, heaviside: C.step,
  // ONNX operators
  Relu: C.relu, LeakyRelu: C.leakyRelu, PRelu: C.prelu, Elu: C.elu, Selu: C.selu, Celu: C.celu, Gelu: C.gelu, Mish: C.mish,
  Sigmoid: C.sigmoid, HardSigmoid: C.hardSigmoid, HardSwish: C.hardSwish, Tanh: C.tanh, Softplus: C.softplus,
  Softsign: C.softsign, ThresholdedRelu: C.thresholdedRelu, Clip: C.clip, Exp: C.exp, Erf: C.erf, Sign: C.sign,
  Softmax: C.softmax, LogSoftmax: C.logSoftmax, Identity: C.linear,
  // PyTorch modules (torch.nn) and functions (torch.nn.functional) not spelt as above
  ReLU: C.relu, ReLU6: C.relu6, PReLU: C.prelu, ELU: C.elu, SELU: C.selu, CELU: C.celu, GELU: C.gelu, SiLU: C.silu,
  hardsigmoid: TORCH_HARDSIGMOID, Hardsigmoid: TORCH_HARDSIGMOID, hardswish: C.hardSwish, Hardswish: C.hardSwish,
  hardtanh: HARDTANH, Hardtanh: HARDTANH, leaky_relu: LEAKY_RELU_FN, LeakyReLU: LEAKY_RELU_LAYER,
  threshold: TORCH_THRESHOLD, Threshold: TORCH_THRESHOLD, log_softmax: C.logSoftmax,
  // Keras (activation strings and layers) not spelt as above
  swish: C.silu, hard_silu: C.hardSwish, hard_swish: C.hardSwish, hard_sigmoid: KERAS_HARD_SIGMOID,
  hard_tanh: HARDTANH, exponential: C.exp, ThresholdedReLU: C.thresholdedRelu,
  // scikit-learn MLP activations
  identity: C.linear, logistic: C.sigmoid,
} as const satisfies Record<string, Definition>;

type Spellings = typeof SPELLINGS;

/** Every accepted spelling other than the canonical names. */
export type ActivationAlias = Exclude<keyof Spellings, ActivationName>;

/** Every accepted spelling: a canonical name or an alias. */
export type KnownActivation = ActivationName | ActivationAlias;

/** Every canonical activation name. */
export const ACTIVATION_NAMES = (Object.keys(ACTIVATION_KINDS) as Array<keyof typeof ACTIVATION_KINDS>)
  .filter((n): n is ActivationName => n !== 'geluTanh');

/** Every accepted spelling other than the canonical names (exact case). */
export const ACTIVATION_ALIASES = (Object.keys(SPELLINGS) as KnownActivation[])
  .filter((n): n is ActivationAlias => !Object.hasOwn(ACTIVATION_KINDS, n));

/** Exact spelling → definition. A Map: user strings such as 'constructor' find nothing. */
const EXACT: ReadonlyMap<string, Definition> = new Map(Object.entries(SPELLINGS));

/** The loose form of a spelling: lower case, `_`, `-` and spaces removed. */
const loosen = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '');

/** Loose form → the exact spellings with that form. */
const LOOSE = new Map<string, string[]>();
for (const spelling of EXACT.keys()) {
  const key = loosen(spelling);
  LOOSE.set(key, [...(LOOSE.get(key) ?? []), spelling]);
}

/**
 * Find a spelling's definition. An exact spelling is used as is. Otherwise the name is compared
 * with case and `_`/`-`/spaces ignored, and accepted only when every spelling it could be shares one
 * definition ('C.relu', 'Log_Softmax', 'HardTanh'); where they differ ('HARDSIGMOID': PyTorch's x/6 + 1/2
 * or ONNX's 0.2x + 0.5?) it is UNKNOWN_ACTIVATION, naming the exact spellings to choose from.
 */
function lookup(name: unknown): Definition {
  if (typeof name !== 'string') {
    throw new SimdnnError('UNKNOWN_ACTIVATION', `activation must be a name such as 'relu', received ${safeDescribe(name)}`);
  }
  const exact = EXACT.get(name);
  if (exact) return exact;
  const candidates = LOOSE.get(loosen(name)) ?? [];
  const defs = new Set(candidates.map((s) => EXACT.get(s)!));
  if (defs.size === 1) return [...defs][0]!;
  if (defs.size > 1) {
    const groups = [...defs].map((d) => {
      const spellings = candidates.filter((s) => EXACT.get(s) === d).map((s) => `'${s}'`).join(', ');
      return `${spellings}: ${d.about}`;
    });
    throw new SimdnnError(
      'UNKNOWN_ACTIVATION',
      `unknown activation '${name}': spellings that differ from it only in case or separators mean different ` +
        `functions (${groups.join('; ')}); write one of them exactly`,
    );
  }
  throw new SimdnnError(
    'UNKNOWN_ACTIVATION',
    `unknown activation '${name}'; expected one of: ${ACTIVATION_NAMES.join(', ')} (or a Keras, PyTorch, ONNX or scikit-learn spelling)`,
  );
}

/** The canonical name a spelling resolves to (throws UNKNOWN_ACTIVATION). */
export function canonicalActivation(name: unknown): ActivationName {
  return lookup(name).name;
}

// ---------------------------------------------------------------------------------------------
// Types per spelling, derived from SPELLINGS.

/** The value each parameter takes. */
interface ParamValue {
  alpha: number; beta: number; gamma: number; min: number; max: number; threshold: number;
  approximate: 'none' | 'tanh' | boolean; slope: number | ArrayLike<number>; axis: -1; value: 0;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The accepted names that set parameter C. */
type NamesOf<P, C> = { [K in keyof P]-?: P[K] extends C ? K : never }[keyof P];
/** Exactly one of the names in Keys, holding a V. */
type OneOf<Keys extends PropertyKey, V> = { [K in Keys]: { [Q in K]: V } & { [Q in Exclude<Keys, K>]?: never } }[Keys];
type RequireAll<P, R> = R extends readonly [infer H extends Param, ...infer T]
  ? OneOf<NamesOf<P, H>, ParamValue[H]> & RequireAll<P, T>
  : unknown;
type Required<D> = D extends { readonly requires: readonly (infer R)[] } ? R : never;
type ParamsOfDefinition<D> = D extends { readonly params: infer P }
  ? Simplify<{ -readonly [K in keyof P as P[K] extends Required<D> ? never : K]?: P[K] extends Param ? ParamValue[P[K]] : never } &
    (D extends { readonly requires: infer R } ? RequireAll<P, R> : unknown)>
  : never;

/**
 * The parameter object a spelling takes (`ParamsOf<'Hardtanh'>` is `{ min_val?, max_val?, min?, max? }`;
 * an ambiguous spelling requires its deciding parameter). A widened `string` gets the loose
 * `ActivationParams` (checked at run time).
 */
export type ParamsOf<N> = N extends KnownActivation
  ? ParamsOfDefinition<Spellings[N]>
  : N extends string ? ActivationParams : never;

/** An activation with parameters: `{ name, ...params }`, discriminated on `name`, for every spelling. */
export type ActivationObject = { [N in KnownActivation]: Simplify<{ name: N } & ParamsOf<N>> }[KnownActivation];

/** An activation as written in a model spec: a known spelling, or one with its parameters. */
export type ActivationSpec = KnownActivation | ActivationObject;

/** The expected object for spelling N (what a checked object with a wrong parameter is shown against). */
type ExpectedObject<N extends KnownActivation> = Simplify<{ name: N } & ParamsOf<N>>;

type CheckedName<S extends string> = string extends S
  ? S
  : [S] extends [KnownActivation] ? S : `unknown activation '${S}'`;

type CheckedObject<S> = S extends { readonly name: infer N }
  ? N extends string
    ? string extends N
      ? S
      : [N] extends [KnownActivation]
        ? [Exclude<keyof S, 'name' | keyof ParamsOf<N>>] extends [never]
          ? S extends ExpectedObject<N> ? S : ExpectedObject<N>
          // Unknown parameters typed `never`, so that the check also fails where it is intersected
          // with the literal's own type (a generic call site: `spec: S & CheckedSpec<S>`).
          : ExpectedObject<N> & { [K in Exclude<keyof S, 'name' | keyof ParamsOf<N>>]: never }
        : { name: `unknown activation '${N}'` }
    : never
  : never;

/**
 * A compile-time check for generic call sites:
 * `function activate<const S extends string | { readonly name: string }>(spec: CheckedActivation<S>)`.
 * It is S when S is a known spelling, a valid `{ name, ...params }` object, or a widened `string` (a
 * dynamic name or a JSON-imported spec, validated at run time); for a string literal that is no known
 * spelling it is the type `"unknown activation '<S>'"`, and for an object with a wrong or unknown
 * parameter it is the expected object type, so the compiler's message points at the problem.
 * Unions are checked member by member (`CheckedActivation<ActivationSpec>` is ActivationSpec).
 */
export type CheckedActivation<S> = [S] extends [string] ? CheckedName<S & string> : CheckedMember<S>;

/** A union mixing names and objects, member by member. (Not the top level: a distributive
 *  conditional there loses `const` inference of object literals, and every object would pass.) */
type CheckedMember<S> = S extends string ? CheckedName<S> : CheckedObject<S>;

// ---------------------------------------------------------------------------------------------
// Resolution.

/** describe() that cannot run user code into an exception (a getter on `constructor`, a Proxy). */
function safeDescribe(value: unknown): string {
  try {
    return describe(value);
  } catch {
    return typeof value;
  }
}

/** Run `read` (which reads user objects); anything it throws other than a SimdnnError becomes
 *  INVALID_ARGUMENT with the original as its cause. */
function reading<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SimdnnError) throw err;
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new SimdnnError('INVALID_ARGUMENT', `${what} threw ${text}`, { cause: err });
  }
}

/** The object's own enumerable string-keyed properties, each read exactly once: validation and use
 *  then see the same values (a getter cannot answer one to the check and another to the kernel). */
function snapshot(obj: object, what: string): Map<string, unknown> {
  return reading(`reading ${what}`, () => {
    const out = new Map<string, unknown>();
    for (const key of Object.keys(obj)) out.set(key, (obj as Record<string, unknown>)[key]);
    return out;
  });
}

/** How a value is written in a hint: `0.2`, `'tanh'`, `[…]`. */
function literal(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return `'${value.length > 20 ? value.slice(0, 20) + '…' : value}'`;
  return '…';
}

function num(name: string, key: string, value: unknown, finite: boolean): number {
  // The kernels take float32 parameters: 1e39 is finite here but would reach them as Infinity.
  if (typeof value !== 'number' || Number.isNaN(value) || (finite && !Number.isFinite(Math.fround(value)))) {
    throw new SimdnnError(
      'INVALID_PARAMETER',
      `${name}: parameter '${key}' must be a ${finite ? 'finite number within the float32 range (|v| ≤ 3.4028234663852886e38)' : 'number'}, received ${safeDescribe(value)}`,
    );
  }
  return value;
}

/**
 * softplus: a threshold at or above this never changes a float32 result, so the kernel gets
 * +Infinity (its fast path when β = 1). Where βx > t ≥ 16, ln(1 + e^(βx))/β = x + δ with
 * δ ≤ e^(−βx)/β, so δ/x ≤ e^(−t)/t ≤ 7e-9, below half an ulp of x (≥ 2^−25·x = 3e-8): x + δ rounds
 * to x, which is what the threshold returns. PyTorch's default threshold 20 is therefore exact too.
 */
const SOFTPLUS_THRESHOLD_NEVER_MATTERS = 16;

/**
 * Validate an activation and its parameters and resolve it for the kernels.
 * `spec` is a spelling or `{ name, ...params }`; `params` (for the method form) are merged over it.
 * Each spelling accepts simdnn's parameter names and, for a framework's spelling, that framework's
 * names for the same parameters; two names for one parameter, an unknown name or a missing
 * required one are INVALID_PARAMETER: nothing is silently ignored.
 */
/** A parameter as given (its key as written) or its default. */
function argOf(set: Map<Param, { key: string; value: unknown }>, d: Definition, p: Param, fallback: unknown): [string, unknown] {
  const g = set.get(p);
  if (g) return [g.key, g.value];
  const dflt = d.defaults?.[p];
  return [p, dflt !== undefined ? dflt : fallback];
}

function numberOf(spelling: string, set: Map<Param, { key: string; value: unknown }>, d: Definition, p: Param, fallback: number, finite = true): number {
  return num(spelling, ...argOf(set, d, p, fallback), finite);
}

/** Resolutions of bare names (no parameters), which every `nn.relu(x)` repeats: immutable, so
 *  shared. Bounded, so that a stream of distinct dynamic names cannot grow it without end. */
const BY_NAME = new Map<string, ResolvedActivation>();

/**
 * Validate an activation and its parameters and resolve it for the kernels.
 * `spec` is a name or `{ name, ...params }`; `params` (for the method form) are merged over it.
 * The result is frozen.
 */
export function resolveActivation(spec: unknown, params?: unknown): ResolvedActivation {
  if (typeof spec === 'string' && params === undefined) {
    const cached = BY_NAME.get(spec);
    if (cached) return cached;
    const resolved = resolveUncached(spec);
    if (BY_NAME.size < 256) BY_NAME.set(spec, resolved);
    return resolved;
  }
  return resolveUncached(spec, params);
}

function resolveUncached(spec: unknown, params?: unknown): ResolvedActivation {
  let rawName: unknown = spec;
  let given = new Map<string, unknown>();
  if (reading('reading the activation', () => spec !== null && typeof spec === 'object' && !Array.isArray(spec))) {
    given = snapshot(spec as object, 'the activation spec');
    rawName = given.get('name');
    given.delete('name');
  }
  const d = lookup(rawName);
  const spelling = rawName as string;
  const accepted = Object.keys(d.params);
  if (params !== undefined) {
    if (params === null || typeof params !== 'object' || reading('reading the parameters', () => Array.isArray(params))) {
      const hint = accepted.length
        ? `parameters are an object: { ${accepted[0]}: ${literal(params)} }`
        : `${spelling} takes no parameters`;
      throw new SimdnnError(
        'INVALID_PARAMETER',
        `${spelling}: parameters must be an object, received ${safeDescribe(params)} (${hint})`,
      );
    }
    for (const [k, v] of snapshot(params, `${spelling}'s parameters`)) given.set(k, v);
  }

  // Given names → the parameters they set (an explicit `undefined` means the default).
  const set = new Map<Param, { key: string; value: unknown }>();
  for (const [key, value] of given) {
    if (!Object.hasOwn(d.params, key)) {
      throw new SimdnnError(
        'INVALID_PARAMETER',
        `${spelling}: unknown parameter '${key}'; expected ${accepted.length ? accepted.join(', ') : 'no parameters'}`,
      );
    }
    if (value === undefined) continue;
    const param = d.params[key]!;
    const other = set.get(param);
    if (other) {
      throw new SimdnnError(
        'INVALID_PARAMETER',
        `${spelling}: '${other.key}' and '${key}' are two names for one parameter; pass one of them`,
      );
    }
    set.set(param, { key, value });
  }
  for (const param of d.requires ?? []) {
    if (set.has(param) || param === 'slope') continue; // prelu's slope: toSlope says what it takes
    throw new SimdnnError('INVALID_PARAMETER', d.ambiguous ? `'${spelling}' is ambiguous: ${d.missing}` : `${spelling}: ${d.missing}`);
  }

  /** The value of parameter p and the name to report it under. */

  const name = d.name;
  const filled: ActivationParams = {};
  let kind: number = ACTIVATION_KINDS[name];
  let a = 0;
  let b = 0;
  let slope: Float32Array | undefined;
  switch (name) {
    case 'leakyRelu':
      a = filled.alpha = numberOf(spelling, set, d, 'alpha', 0.01);
      break;
    case 'elu':
      a = filled.alpha = numberOf(spelling, set, d, 'alpha', 1);
      break;
    case 'thresholdedRelu': {
      a = filled.alpha = numberOf(spelling, set, d, 'alpha', 1);
      if (set.has('value')) {
        const [key, v] = argOf(set, d, 'value', 0);
        if (v !== 0) {
          throw new SimdnnError(
            'INVALID_PARAMETER',
            `${spelling}: parameter '${key}' must be 0 (simdnn's thresholdedRelu outputs 0 at or below the threshold), received ${safeDescribe(v)}`,
          );
        }
      }
      break;
    }
    case 'celu':
      a = filled.alpha = numberOf(spelling, set, d, 'alpha', 1);
      if (a === 0) throw new SimdnnError('INVALID_PARAMETER', `${spelling}: parameter '${argOf(set, d, 'alpha', 1)[0]}' must be non-zero, received 0`);
      break;
    case 'selu':
      a = filled.alpha = numberOf(spelling, set, d, 'alpha', SELU_ALPHA);
      b = filled.gamma = numberOf(spelling, set, d, 'gamma', SELU_GAMMA);
      break;
    case 'hardSigmoid':
      a = filled.alpha = numberOf(spelling, set, d, 'alpha', 0.2);
      b = filled.beta = numberOf(spelling, set, d, 'beta', 0.5);
      break;
    case 'clip':
      a = filled.min = numberOf(spelling, set, d, 'min', -Infinity, false);
      b = filled.max = numberOf(spelling, set, d, 'max', Infinity, false);
      break;
    case 'softplus': {
      const beta = filled.beta = numberOf(spelling, set, d, 'beta', 1);
      if (!(beta > 0)) {
        throw new SimdnnError('INVALID_PARAMETER', `${spelling}: parameter '${argOf(set, d, 'beta', 1)[0]}' must be positive, received ${safeDescribe(beta)}`);
      }
      const threshold = filled.threshold = numberOf(spelling, set, d, 'threshold', Infinity, false);
      a = beta;
      b = threshold >= SOFTPLUS_THRESHOLD_NEVER_MATTERS ? Infinity : threshold;
      break;
    }
    case 'gelu': {
      const [key, v] = argOf(set, d, 'approximate', 'none');
      const approximate = v === true ? 'tanh' : v === false ? 'none' : v;
      if (approximate !== 'none' && approximate !== 'tanh') {
        throw new SimdnnError(
          'INVALID_PARAMETER',
          `${spelling}: parameter '${key}' must be 'none' or 'tanh', received ${safeDescribe(v)} (Keras's false and true are accepted too)`,
        );
      }
      filled.approximate = approximate;
      if (approximate === 'tanh') kind = ACTIVATION_KINDS.geluTanh;
      break;
    }
    case 'softmax': case 'logSoftmax': {
      const [key, v] = argOf(set, d, 'axis', -1);
      if (v !== -1) {
        throw new SimdnnError(
          'INVALID_PARAMETER',
          `${spelling}: parameter '${key}' must be -1 (simdnn normalises the last axis), received ${safeDescribe(v)}`,
        );
      }
      break;
    }
    case 'prelu': {
      const [key, v] = argOf(set, d, 'slope', undefined);
      slope = toSlope(v, spelling, key);
      filled.slope = Array.from(slope);
      if (slope.length === 1) {
        // One shared slope is a leaky ReLU: use its fused, broadcast-free kernel.
        kind = ACTIVATION_KINDS.leakyRelu;
        a = slope[0]!;
        slope = undefined;
      }
      break;
    }
    default:
      break;
  }
  return Object.freeze({ name, spelling, kind, a: Math.fround(a), b: Math.fround(b), slope, params: Object.freeze(filled) });
}

/** Slopes beyond this many are refused (a layer has at most 2^24 units). */
const MAX_SLOPES = 2 ** 24;

/** A PReLU slope as float32, each element read once (see snapshot). */
function toSlope(value: unknown, name: string, key: string): Float32Array {
  const kind = typedArrayKind(value);
  if (kind === 'BigInt64Array' || kind === 'BigUint64Array') {
    throw new SimdnnError('INVALID_PARAMETER', `${name}: '${key}' must hold numbers, received ${safeDescribe(value)} (BigInt values)`);
  }
  let items: unknown[];
  if (typeof value === 'number') items = [value];
  else if (kind !== undefined) {
    // A typed array (any realm): its real elements, by its real length (never its own `length`).
    if (realLength(value) > MAX_SLOPES) {
      throw new SimdnnError('INVALID_PARAMETER', `${name}: '${key}' has ${realLength(value)} values; at most ${MAX_SLOPES} are supported`);
    }
    items = Array.from(toF32Input(value, `${name}: '${key}'`).array);
  } else if (reading(`reading '${key}'`, () => Array.isArray(value))) {
    items = reading(`reading '${key}'`, () => {
      const arr = value as unknown[];
      const n = arr.length;
      if (!(n <= MAX_SLOPES)) {
        throw new SimdnnError('INVALID_PARAMETER', `${name}: '${key}' has ${n} values; at most ${MAX_SLOPES} are supported`);
      }
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = arr[i];
      return out;
    });
  } else {
    throw new SimdnnError(
      'INVALID_PARAMETER',
      `${name}: parameter '${key}' (a number or an array of per-channel slopes) is required, received ${safeDescribe(value)}`,
    );
  }
  if (items.length === 0 || items.length > MAX_SLOPES || !items.every((v) => typeof v === 'number' && Number.isFinite(Math.fround(v)))) {
    throw new SimdnnError('INVALID_PARAMETER', `${name}: '${key}' must hold one or more finite numbers, received ${safeDescribe(value)}`);
  }
  return Float32Array.from(items as number[]);
}
