import { lengthOf, typedArrayName } from './intrinsics.js';

/**
 * Stable error codes. A code never changes meaning once released; match on `err.code`, not on the
 * message text.
 */
export type ErrorCode =
  /** An argument has the wrong type or value (not a Float32Array, a negative size, …). */
  | 'INVALID_ARGUMENT'
  /** A length or shape does not match what the operation or model expects. */
  | 'SHAPE_MISMATCH'
  /** The activation name is not one simdnn knows. */
  | 'UNKNOWN_ACTIVATION'
  /** An activation parameter is unknown, missing or out of range. */
  | 'INVALID_PARAMETER'
  /** A model spec is malformed (wrong format, version, layer type, missing fields). */
  | 'INVALID_SPEC'
  /** Weights or bias have the wrong length or hold something other than finite numbers. */
  | 'INVALID_WEIGHTS'
  /** The object was disposed and can no longer be used. */
  | 'DISPOSED'
  /** The request would take WebAssembly memory past its maximum. Existing objects are intact. */
  | 'OUT_OF_MEMORY'
  /** This JavaScript engine has no WebAssembly SIMD support. */
  | 'NO_SIMD'
  /** The .wasm binary could not be fetched, read or compiled. */
  | 'WASM_LOAD_FAILED'
  /** A call re-entered the runtime while it was in the middle of another call (from a getter, a
   *  Proxy trap or a callback in an argument). Nothing was changed by the inner call. */
  | 'REENTRANT_CALL'
  /** A model file (ONNX, TF.js, safetensors, simdnn's own) is malformed, truncated or inconsistent. */
  | 'INVALID_MODEL'
  /** A model file is well-formed but uses an operator, layer or graph shape simdnn does not support. */
  | 'UNSUPPORTED_MODEL'
  /** A worker of the pool (init({ threads })) stopped while it computed the call. */
  | 'WORKER_FAILED';

/** The one error type simdnn throws for misuse; `code` is stable, `message` says what was expected
 *  and what was received. */
export class SimdnnError extends Error {
  override readonly name = 'SimdnnError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** `err instanceof SimdnnError` also holds for errors made by another copy of this class: the
   *  importers are a separate bundle (dist/load.js, loaded on first use) with their own copy. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (typeof value === 'object' && value !== null && Object.hasOwn(value, BRAND)) ||
      Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** Marks every SimdnnError, whichever bundle made it (a registered symbol is the same everywhere). */
const BRAND = Symbol.for('simdnn.SimdnnError');

/** Short description of a value for error messages: its type, and its length when it has one.
 *  Safe on hostile values: typed arrays are described from their internal slots, and a getter or
 *  Proxy trap that throws or lies cannot turn the error being built into another one. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value;
  const kind = typedArrayName(value);
  if (kind !== undefined) return `${kind}(${lengthOf(value)})`;
  try {
    if (Array.isArray(value)) return `Array(${Number(value.length)})`;
    if (typeof value === 'function') return 'function';
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? name.slice(0, 40) : 'object';
  } catch {
    return 'object';
  }
}

/** Throws INVALID_ARGUMENT unless `value` is an integer in [min, max]. Returns it. */
export function checkInt(value: unknown, what: string, min = 0, max = 2 ** 31 - 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SimdnnError(
      'INVALID_ARGUMENT',
      `${what} must be an integer in [${min}, ${max}], received ${describe(value)}`,
    );
  }
  return value;
}
