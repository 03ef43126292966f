// The engine's own typed-array accessors, captured when this module loads.
//
// A Float32Array's `length`, `buffer` and `byteOffset` are accessors on %TypedArray%.prototype that
// user code can shadow (an own `length` property, a subclass getter) or that a Proxy can fake, while
// `TypedArray.prototype.set` and the kernels use the real, internal values. simdnn reads every
// length, buffer and offset it relies on through these, never through the object.

// `uncurry(fn)(self, ...args)` is `fn.call(self, ...args)` with `call` captured now, so a later change
// to Function.prototype.call (or to the accessors) cannot reach these.
const uncurry = Function.prototype.bind.bind(Function.prototype.call) as <A extends unknown[], R>(
  fn: (this: never, ...args: A) => R,
) => (self: unknown, ...args: A) => R;

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;

function getter<T>(key: PropertyKey): (self: unknown) => T {
  const d = Object.getOwnPropertyDescriptor(TypedArrayPrototype, key);
  return uncurry(d!.get as (this: never) => T);
}

/** The typed array's kind ('Float32Array', …) from its internal slot; undefined for anything that
 *  is not a typed array, Proxies of one included. Works across realms (a `vm` context, an iframe),
 *  where `instanceof Float32Array` is false. Never runs user code. */
export const typedArrayName: (self: unknown) => string | undefined = getter(Symbol.toStringTag);
/** Real element count of a typed array (0 once its buffer is detached). */
export const lengthOf: (self: unknown) => number = getter('length');
/** The typed array's real ArrayBuffer (or SharedArrayBuffer). */
export const bufferOf: (self: unknown) => ArrayBufferLike = getter('buffer');
/** The typed array's real offset into its buffer, in bytes. */
export const byteOffsetOf: (self: unknown) => number = getter('byteOffset');
/** `TypedArray.prototype.set`, uncurried: copies by the real lengths of both typed arrays. */
export const typedArraySet = uncurry(
  (TypedArrayPrototype as { set: (this: never, src: ArrayLike<number>, offset?: number) => void }).set,
) as (self: ArrayLike<number>, src: ArrayLike<number>, offset?: number) => void;
