// Argument conversion: typed arrays as the engine sees them, not as user code may dress them up.
// Lengths, buffers and offsets come from the intrinsic accessors (src/intrinsics.ts); every view
// simdnn makes is built with `new Float32Array(buffer, offset, length)` instead of `subarray()`
// (which calls a user-definable species constructor); plain arrays are read once per element.
import { SimdnnError, describe } from './errors.js';
import { bufferOf, byteOffsetOf, lengthOf, typedArrayName, typedArraySet } from './intrinsics.js';

const isArray = Array.isArray;
const F32 = Float32Array;
const U8 = Uint8Array;

/** The kind of a typed array ('Float32Array', 'Int32Array', …), or undefined if `value` is none. */
export function typedArrayKind(value: unknown): string | undefined {
  return typedArrayName(value);
}

/** The real element count of a typed array (what `set` and the kernels see). */
export function realLength(a: unknown): number {
  return lengthOf(a);
}

/** Whether `value` is a Float32Array, from this realm or another (internal slot, not `instanceof`:
 *  a Proxy's getPrototypeOf trap never runs). */
export function isF32(value: unknown): value is Float32Array {
  return typedArrayName(value) === 'Float32Array';
}

/** A plain view of exactly `length` floats of `a` from element `start`, built from the intrinsic
 *  buffer and offset (never `subarray()`, whose species constructor user code may define). */
export function viewF32(a: Float32Array, start: number, length: number): Float32Array {
  return new F32(bufferOf(a), byteOffsetOf(a) + start * 4, length);
}

/** `dst.set(src, offset)` with the intrinsic `set` (a subclass or own `set` never runs). Both
 *  must be typed arrays: their real lengths bound the copy. */
export function copyInto(dst: Float32Array, src: ArrayLike<number>, offset = 0): void {
  typedArraySet(dst, src, offset);
}

/** True if the typed array's ArrayBuffer was detached (transferred to a worker, or
 *  `structuredClone(…, { transfer })`): its length then reads 0. */
export function isDetached(a: unknown): boolean {
  if (lengthOf(a) !== 0) return false;
  try {
    new U8(bufferOf(a) as ArrayBuffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function detachedError(what: string, value: unknown): SimdnnError {
  return new SimdnnError(
    'INVALID_ARGUMENT',
    `${what} is a ${describe(value)} whose ArrayBuffer was detached (transferred, e.g. to a worker, or by ` +
      `structuredClone with transfer); pass an array that still owns its memory`,
  );
}

/**
 * A Float32Array argument with its real length: throws INVALID_ARGUMENT unless `value` is a
 * Float32Array (any realm) that is not detached. The returned `length` is the one to use for every
 * check; never read `value.length`.
 */
export function checkF32(value: unknown, what: string): { array: Float32Array; length: number } {
  if (!isF32(value)) {
    throw new SimdnnError('INVALID_ARGUMENT', `${what} must be a Float32Array, received ${describe(value)}${hintFor(value)}`);
  }
  const length = lengthOf(value);
  if (length === 0 && isDetached(value)) throw detachedError(what, value);
  return { array: value, length };
}

/** Numbers in any of the forms the API accepts for inputs: converted to float32 on the way in. */
export type NumberArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array
  | Int32Array | Uint32Array | ReadonlyArray<number>;

const NUMERIC_KINDS = new Set([
  'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float16Array',
]);

/** A hint for common wrong shapes of input (appended to the error message). */
function hintFor(value: unknown): string {
  if (isArray(value) && value.length > 0 && (isArray(value[0]) || typedArrayName(value[0]) !== undefined)) {
    return ` holding ${value.length} arrays: flatten the rows into one array (for example x.flat()) and pass batch = ${value.length}`;
  }
  return '';
}

/**
 * Float32 values of an input argument, read once: a Float32Array (any realm) is used as it is; any
 * other numeric typed array is converted; a plain array must be dense (no holes) and hold only
 * numbers, each read exactly once. Anything else is INVALID_ARGUMENT. The result is this realm's
 * Float32Array (or the caller's own, unchanged) and its real length.
 */
export function toF32Input(value: unknown, what: string, expect = 'a Float32Array (or another numeric typed array, or an array of numbers)'): { array: Float32Array; length: number } {
  const kind = typedArrayName(value);
  if (kind === 'Float32Array') return checkF32(value, what);
  if (kind !== undefined) {
    if (!NUMERIC_KINDS.has(kind)) {
      throw new SimdnnError('INVALID_ARGUMENT', `${what} must be ${expect}, received ${describe(value)}`);
    }
    const n = lengthOf(value);
    if (n === 0 && isDetached(value)) throw detachedError(what, value);
    // The intrinsic `set` converts from the source's real elements (never its own indexing).
    const out = new F32(n);
    copyInto(out, value as ArrayLike<number>);
    return { array: out, length: n };
  }
  if (!isArray(value)) {
    throw new SimdnnError('INVALID_ARGUMENT', `${what} must be ${expect}, received ${describe(value)}`);
  }
  const arr = value as unknown[];
  const n = arr.length;
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 30) {
    throw new SimdnnError('INVALID_ARGUMENT', `${what} has an impossible length ${String(n)}`);
  }
  const out = new F32(n);
  for (let i = 0; i < n; i++) {
    if (!(i in arr)) {
      throw new SimdnnError('INVALID_ARGUMENT', `${what} is a sparse array: element ${i} is a hole; every element must be a number`);
    }
    const v = arr[i];
    if (typeof v !== 'number') {
      throw new SimdnnError('INVALID_ARGUMENT', `${what}[${i}] is ${describe(v)}; every element must be a number${hintFor(value)}`);
    }
    out[i] = v;
  }
  return { array: out, length: n };
}

const TYPED_ARRAY_CTORS: Record<string, new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayLike<unknown>> = {
  __proto__: null as never,
  Float32Array, Float64Array, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, BigInt64Array, BigUint64Array,
};

/** Element `i` of an array-like for an error message: a typed array's real element (through a
 *  fresh view, never the object's own indexing), else whatever indexing gives (or undefined if it
 *  throws). */
export function elementAt(value: unknown, i: number): unknown {
  try {
    const kind = typedArrayName(value);
    if (kind !== undefined) {
      const Ctor = TYPED_ARRAY_CTORS[kind];
      return Ctor ? new Ctor(bufferOf(value), byteOffsetOf(value), lengthOf(value))[i] : undefined;
    }
    return (value as ArrayLike<unknown>)[i];
  } catch {
    return undefined;
  }
}

const toStringTag = Object.prototype.toString;
const sliceU8 = U8.prototype.slice;

/** A real Uint8Array (internal slot, any realm): never a Proxy or look-alike, whose `instanceof` lies. */
export function isBytes(value: unknown): value is Uint8Array {
  return typedArrayName(value) === 'Uint8Array';
}

/** Bytes per element of a typed array kind ('Float64Array' → 8). */
function elementBytes(kind: string): number {
  return kind.includes('64') ? 8 : kind.includes('32') ? 4 : kind.includes('16') ? 2 : 1;
}

// A DataView's own accessors, captured now (a subclass may shadow them).
function dataViewGetter<T>(key: string): (v: unknown) => T {
  return Function.prototype.call.bind(Object.getOwnPropertyDescriptor(DataView.prototype, key)!.get!) as (v: unknown) => T;
}
const dataViewBuffer = dataViewGetter<ArrayBufferLike>('buffer');
const dataViewOffset = dataViewGetter<number>('byteOffset');
const dataViewLength = dataViewGetter<number>('byteLength');

/** A copy of the bytes of a typed array, DataView, ArrayBuffer or SharedArrayBuffer, taken now and
 *  through the engine's own accessors (a subclass or a Proxy cannot change what is copied); undefined
 *  when `value` is none of them. A detached buffer is INVALID_ARGUMENT. */
export function copyBytes(value: unknown, what: string): Uint8Array | undefined {
  let view: Uint8Array;
  if (typedArrayName(value) !== undefined) {
    if (isDetached(value)) throw detachedError(what, value);
    // Element size from the kind (internal slot), never the object's own BYTES_PER_ELEMENT.
    view = new U8(bufferOf(value) as ArrayBuffer, byteOffsetOf(value), lengthOf(value) * elementBytes(typedArrayName(value)!));
  } else {
    const tag = toStringTag.call(value);
    try {
      if (tag === '[object DataView]') {
        view = new U8(dataViewBuffer(value) as ArrayBuffer, dataViewOffset(value), dataViewLength(value));
      } else if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') view = new U8(value as ArrayBuffer);
      else return undefined;
    } catch {
      throw new SimdnnError('INVALID_ARGUMENT', `${what} is a detached ${tag.slice(8, -1)} (transferred, e.g. to a worker); pass bytes that still own their memory`);
    }
  }
  return sliceU8.call(view);
}
