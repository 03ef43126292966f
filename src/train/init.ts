// Seeded weight initialisation for untrained dense layers, and the seeded generator the trainer
// shuffles with. Bit-reproducible everywhere: the generator is integer arithmetic (Math.imul), and
// every float is made with +, −, ×, ÷ and √ only — operations IEEE 754 rounds exactly, so Node,
// browsers and both binaries get the same bits (Math.log/cos/exp are not required to be correctly
// rounded and differ between engines, so the normal variates use a logarithm written here).
import { SimdnnError, describe } from '../errors.js';

/** A weight initialiser: `'he'`, `'glorot'`, `'lecun'` or `'zeros'`, uniform unless a `-normal`
 *  suffix or `{ name, distribution: 'normal' }` says otherwise (`-uniform` is accepted too). */
export type InitializerName = 'he' | 'glorot' | 'lecun' | 'zeros';
export type InitializerSpec =
  | InitializerName
  | `${Exclude<InitializerName, 'zeros'>}-${'uniform' | 'normal'}`
  | { name: InitializerName; distribution?: 'uniform' | 'normal' };

export interface Initializer { name: InitializerName; distribution: 'uniform' | 'normal' }

/** The ReLU family gets He (Kaiming) initialisation by default; every other activation Glorot. */
const HE_DEFAULT = new Set(['relu', 'relu6', 'leakyRelu', 'prelu', 'elu', 'celu', 'gelu', 'silu', 'mish', 'thresholdedRelu', 'hardSwish']);

export function defaultInitializer(activation: string): Initializer {
  return { name: HE_DEFAULT.has(activation) ? 'he' : 'glorot', distribution: 'uniform' };
}

/** Read an `initializer` spec (undefined: the activation's default). */
export function parseInitializer(spec: unknown, activation: string, where: string): Initializer {
  if (spec === undefined) return defaultInitializer(activation);
  const names = ['he', 'glorot', 'lecun', 'zeros'];
  const bad = () => new SimdnnError(
    'INVALID_SPEC',
    `${where}.initializer must be 'he', 'glorot', 'lecun' or 'zeros' (optionally '-uniform' or '-normal'), ` +
      `or { name, distribution: 'uniform' | 'normal' }; received ${describe(spec)}`,
  );
  if (typeof spec === 'string') {
    const m = /^(he|glorot|lecun|zeros)(?:-(uniform|normal))?$/.exec(spec);
    if (!m || (m[1] === 'zeros' && m[2])) throw bad();
    return { name: m[1] as InitializerName, distribution: (m[2] as 'uniform' | 'normal' | undefined) ?? 'uniform' };
  }
  if (spec !== null && typeof spec === 'object') {
    const { name, distribution } = spec as Record<string, unknown>;
    if (typeof name !== 'string' || !names.includes(name)) throw bad();
    if (distribution !== undefined && distribution !== 'uniform' && distribution !== 'normal') throw bad();
    return { name: name as InitializerName, distribution: (distribution as 'uniform' | 'normal' | undefined) ?? 'uniform' };
  }
  throw bad();
}

/** A seeded stream of uint32 values (SplitMix32's increment with Mulberry32's mixer: small, fast,
 *  passes the usual statistical batteries for this use; not for cryptography). */
export class Rng {
  #s: number;
  constructor(seed: number, stream = 0) {
    // Two seeds, or one seed and two streams, give unrelated sequences.
    this.#s = mix32((seed >>> 0) ^ mix32(Math.imul(stream + 1, 0x9e3779b9) >>> 0)) >>> 0;
  }
  /** The next uint32. */
  u32(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    return mix32(this.#s);
  }
  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    return (this.u32() * 2097152 + (this.u32() >>> 11)) / 9007199254740992;
  }
  /** Uniform integer in [0, n) (n ≤ 2³²), without modulo bias. */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const v = this.u32();
      if (v < limit) return v % n;
    }
  }
  /** Standard normal (Marsaglia's polar method, with the logarithm below). */
  normal(): number {
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) return u * Math.sqrt((-2 * ln(s)) / s);
    }
  }
}

function mix32(x: number): number {
  let t = x >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** ln(s) for 0 < s < 1 from exactly rounded operations only: s = m·2^e with m in [√½, √2), then
 *  ln m = 2·atanh(r), r = (m − 1)/(m + 1) (|r| ≤ 0.172), a series summed to float64 precision. */
export function ln(s: number): number {
  let e = 0;
  let m = s;
  while (m < 0.7071067811865476) { m *= 2; e--; }
  while (m >= 1.4142135623730951) { m /= 2; e++; }
  const r = (m - 1) / (m + 1);
  const r2 = r * r;
  let term = r;
  let sum = 0;
  for (let k = 1; k < 60; k += 2) {
    sum += term / k;
    term *= r2;
    if (term < 1e-18) break;
  }
  return 2 * sum + e * 0.6931471805599453;
}

/**
 * Fill W [units][inputs] (row-major, out-in) for one layer. Bounds (Keras' and PyTorch's
 * definitions): uniform on ±√(3·scale), normal with standard deviation √scale, where scale is
 * 2/fan_in (He), 2/(fan_in + fan_out) (Glorot) or 1/fan_in (LeCun). Normal draws are not truncated.
 */
export function initWeights(init: Initializer, inputs: number, units: number, rng: Rng): Float32Array {
  const w = new Float32Array(inputs * units);
  if (init.name === 'zeros') return w;
  const scale = init.name === 'he' ? 2 / inputs : init.name === 'glorot' ? 2 / (inputs + units) : 1 / inputs;
  if (init.distribution === 'uniform') {
    const limit = Math.sqrt(3 * scale);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * limit;
  } else {
    const std = Math.sqrt(scale);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
  }
  return w;
}

/** A seed for a model or a fit call that was given none: from the platform's crypto generator
 *  when there is one (never Math.random), else a fixed value. */
export function freshSeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (c && typeof c.getRandomValues === 'function') return c.getRandomValues(new Uint32Array(1))[0]!;
  return 0x5eed;
}

/** Check a seed: an integer (used modulo 2³²). */
export function checkSeed(seed: unknown, what: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new SimdnnError('INVALID_ARGUMENT', `${what} must be an integer, received ${describe(seed)}`);
  }
  return seed >>> 0;
}
