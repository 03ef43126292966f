import { SimdnnError, checkF32, checkInt, describe } from './errors.js';
import {
  ACTIVATION_KINDS, resolveActivation, type ActivationName, type ActivationParams, type ActivationSpec,
} from './activations.js';
import { Arena } from './wasm/memory.js';
import { detectFeatures, load, type Binary, type Platform, type WasmSource, type Kernels } from './wasm/loader.js';
import { Registry } from './resource.js';
import { Sequential, type DenseLayerSpec, type ModelSpec } from './model.js';
import * as ops from './ops.js';

/** Options for init(). */
export interface InitOptions {
  /** 'auto' (default) loads the relaxed-SIMD binary (FMA) when the engine validates it, else the
   *  baseline SIMD128 one; 'relaxed' or 'baseline' forces one (relaxed throws NO_SIMD where unsupported). */
  simd?: 'auto' | 'relaxed' | 'baseline';
  /** The binary, when the default location does not work (bundlers that do not copy assets, workers
   *  that refuse fetch): a URL or path, a Response, the bytes, or a compiled WebAssembly.Module.
   *  Either the binary `simd` selects (build/simdnn-relaxed.wasm or build/simdnn-simd.wasm), or
   *  both as `{ baseline, relaxed }` so that `simd: 'auto'` can still choose (given only one of
   *  them, 'auto' uses that one). */
  wasm?: WasmSource | { baseline?: WasmSource; relaxed?: WasmSource };
  /** Upper bound of WebAssembly memory in bytes (default 2 GiB, at most 4 GiB). Allocations past it
   *  throw OUT_OF_MEMORY and leave every existing object intact. Memory only grows, never shrinks. */
  maximumMemory?: number;
}

/** What was loaded. */
export interface Features {
  /** Which binary runs: 'relaxed' (fused multiply-add) or 'baseline' (SIMD128). */
  readonly binary: Binary;
  /** Always true: simdnn needs WebAssembly SIMD128. */
  readonly simd: true;
  /** Whether the engine supports relaxed SIMD (whichever binary was chosen). */
  readonly relaxedSimd: boolean;
}

/** nn.memory(): what is allocated. */
export interface MemoryInfo {
  /** Live objects (models, layers) that own memory: each must be disposed. */
  readonly objects: number;
  /** Bytes those objects own (padding included). */
  readonly bytes: number;
  /** Bytes of the runtime's reusable staging buffer for activate()/softmax(). */
  readonly scratchBytes: number;
  /** Current size of WebAssembly memory (it never shrinks). */
  readonly heapBytes: number;
  /** The memory's maximum. */
  readonly maximumBytes: number;
}

type Out = Float32Array | undefined;

const PAGE = 65536;

/**
 * Elementwise calls stream through the staging buffer in chunks of this many floats (64 KiB): the
 * copy in, the kernel and the copy out of one chunk stay in cache, so a large input crosses main
 * memory twice (read x, write out) instead of six times. Measured on 1M-float relu/sigmoid.
 */
const CHUNK = 16384;

/**
 * A loaded simdnn: kernels, their memory, and the operations on top. Get one with `init()`.
 * Everything it creates (models, layers) lives in its memory and must be disposed.
 */
export class Runtime {
  /** What was loaded. */
  readonly features: Features;
  readonly #ctx: ops.Ctx;
  readonly #registry: Registry;
  #staging = { ptr: 0, floats: 0 };

  /** @internal use init() */
  constructor(
    kernels: Kernels, memory: WebAssembly.Memory, binary: Binary, relaxedSimd: boolean, maximumBytes: number,
    result: (n: number) => Float32Array = ops.zeroedResult,
  ) {
    const arena = new Arena(memory, kernels.heap_base(), maximumBytes);
    this.#ctx = { k: kernels, arena, result };
    this.#registry = new Registry(arena);
    this.features = Object.freeze({ binary, simd: true as const, relaxedSimd });
    bindMethods(this);
  }

  /** Live objects and bytes, the staging buffer and the memory size. */
  memory(): MemoryInfo {
    const s = this.#ctx.arena.stats();
    const scratch = this.#staging.floats > 0 ? this.#ctx.arena.sizeOf(this.#staging.ptr) : 0;
    return {
      objects: this.#registry.live.size,
      bytes: s.bytes - scratch,
      scratchBytes: scratch,
      heapBytes: s.heapBytes,
      maximumBytes: this.#ctx.arena.maxBytes,
    };
  }

  /** A staging buffer of at least `floats` floats, reused across calls (grows only). */
  #stage(floats: number): number {
    const st = this.#staging;
    if (floats > st.floats) {
      // Its contents are never needed across calls: free it first, so that the new buffer can
      // reuse that space.
      if (st.floats > 0) this.#ctx.arena.release(st.ptr);
      this.#staging = { ptr: 0, floats: 0 };
      const sizes = [Math.max(floats, st.floats * 2, 1024), floats];
      const { ptr, index } = this.#ctx.arena.allocF32First(sizes);
      this.#staging = { ptr, floats: sizes[index]! };
    }
    return this.#staging.ptr;
  }

  /**
   * Apply an activation elementwise: returns `out` (or a new Float32Array) holding act(x).
   * `out` may be `x` itself (in place). Softmax and logSoftmax treat x as one row; use
   * softmax(x, cols) for several rows.
   */
  activate(name: ActivationSpec, x: Float32Array, params?: ActivationParams, out?: Float32Array): Float32Array {
    const act = resolveActivation(name, params);
    checkF32(x, `${act.name}: x`);
    const result = this.#out(out, x.length, act.name);
    if (act.kind === ACTIVATION_KINDS.softmax || act.kind === ACTIVATION_KINDS.logSoftmax) {
      return this.#softmax(act.kind === ACTIVATION_KINDS.logSoftmax, x, x.length, result, act.name);
    }
    if (act.slope && x.length % act.slope.length !== 0) {
      throw new SimdnnError(
        'SHAPE_MISMATCH',
        `prelu: slope has ${act.slope.length} values, which must divide the input length ${x.length} (one slope per channel of the last axis)`,
      );
    }
    const n = x.length;
    if (n === 0) return result;
    const slope = act.slope;
    // Chunks hold whole slope periods so that the PReLU slope lines up in every chunk; the slope
    // itself sits after the chunk in the staging buffer.
    return this.#stream(x, result, slope ? slope.length : 1, slope ? slope.length : 0, (ptr, len, extra) => {
      ops.activate(this.#ctx, act, ptr, ptr, len, extra);
    }, slope && ((extra) => ops.upload(this.#ctx, extra, slope)));
  }

  /**
   * Run an in-place kernel over x in chunks of whole `unit`s (a PReLU slope period, a softmax row)
   * through the staging buffer, writing `out` (see CHUNK). `extra` floats after the chunk are the
   * caller's, set up once by `prepare`.
   */
  #stream(
    x: Float32Array, out: Float32Array, unit: number, extra: number,
    kernel: (ptr: number, len: number, extraPtr: number) => void, prepare?: (extraPtr: number) => void,
  ): Float32Array {
    const n = x.length;
    const chunk = Math.min(n, Math.max(unit, Math.floor(CHUNK / unit) * unit));
    const ptr = this.#stage(chunk + extra);
    const extraPtr = ptr + chunk * 4;
    prepare?.(extraPtr);
    for (let start = 0; start < n; start += chunk) {
      const len = Math.min(chunk, n - start);
      ops.upload(this.#ctx, ptr, x.subarray(start, start + len));
      kernel(ptr, len, extraPtr);
      ops.download(this.#ctx, ptr, len, out.subarray(start, start + len));
    }
    return out;
  }

  #out(out: Out, n: number, what: string): Float32Array {
    if (out === undefined) return this.#ctx.result(n); // #stream writes every value
    checkF32(out, `${what}: out`);
    if (out.length !== n) {
      throw new SimdnnError('SHAPE_MISMATCH', `${what}: out has ${out.length} values but the result has ${n}`);
    }
    return out;
  }

  #softmax(log: boolean, x: Float32Array, cols: number | undefined, out: Float32Array, what: string): Float32Array {
    checkF32(x, `${what}: x`);
    const c = cols ?? x.length;
    checkInt(c, `${what}: cols`, x.length === 0 ? 0 : 1);
    if (c === 0 || x.length === 0) return out;
    if (x.length % c !== 0) {
      throw new SimdnnError('SHAPE_MISMATCH', `${what}: input has ${x.length} values, which is not a whole number of rows of ${c} columns`);
    }
    return this.#stream(x, out, c, 0, (ptr, len) => ops.softmax(this.#ctx, log, ptr, ptr, len / c, c));
  }

  /** Softmax over each row of `cols` values (default: all of x is one row). */
  softmax(x: Float32Array, cols?: number, out?: Float32Array): Float32Array {
    return this.#softmax(false, x, cols, this.#out(out, checkF32(x, 'softmax: x').length, 'softmax'), 'softmax');
  }

  /** Log-softmax over each row of `cols` values (default: all of x is one row). */
  logSoftmax(x: Float32Array, cols?: number, out?: Float32Array): Float32Array {
    return this.#softmax(true, x, cols, this.#out(out, checkF32(x, 'logSoftmax: x').length, 'logSoftmax'), 'logSoftmax');
  }

  /** A model from a spec (see ModelSpec; the README documents the JSON format). */
  sequential(spec: ModelSpec): Sequential {
    return new Sequential(this.#ctx, this.#registry, spec);
  }

  /** One dense layer as a model: `nn.dense({ inputs: 3, units: 2, weights, bias, activation: 'relu' })`. */
  dense(spec: DenseLayerSpec): Sequential {
    if (spec === null || typeof spec !== 'object') {
      throw new SimdnnError('INVALID_SPEC', `dense: spec must be an object, received ${describe(spec)}`);
    }
    return this.sequential({ layers: [{ ...spec, type: 'dense' }] });
  }

  // One named method per activation. Those with parameters take them before `out`.
  linear(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('linear', x, undefined, out); }
  step(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('step', x, undefined, out); }
  relu(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('relu', x, undefined, out); }
  relu6(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('relu6', x, undefined, out); }
  leakyRelu(x: Float32Array, params?: { alpha?: number }, out?: Float32Array): Float32Array { return this.activate('leakyRelu', x, params, out); }
  prelu(x: Float32Array, params: { slope: number | ArrayLike<number> }, out?: Float32Array): Float32Array { return this.activate('prelu', x, params, out); }
  elu(x: Float32Array, params?: { alpha?: number }, out?: Float32Array): Float32Array { return this.activate('elu', x, params, out); }
  selu(x: Float32Array, params?: { alpha?: number; gamma?: number }, out?: Float32Array): Float32Array { return this.activate('selu', x, params, out); }
  celu(x: Float32Array, params?: { alpha?: number }, out?: Float32Array): Float32Array { return this.activate('celu', x, params, out); }
  gelu(x: Float32Array, params?: { approximate?: 'none' | 'tanh' }, out?: Float32Array): Float32Array { return this.activate('gelu', x, params, out); }
  silu(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('silu', x, undefined, out); }
  swish(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('silu', x, undefined, out); }
  mish(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('mish', x, undefined, out); }
  sigmoid(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('sigmoid', x, undefined, out); }
  hardSigmoid(x: Float32Array, params?: { alpha?: number; beta?: number }, out?: Float32Array): Float32Array { return this.activate('hardSigmoid', x, params, out); }
  hardSwish(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('hardSwish', x, undefined, out); }
  tanh(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('tanh', x, undefined, out); }
  softplus(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('softplus', x, undefined, out); }
  softsign(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('softsign', x, undefined, out); }
  thresholdedRelu(x: Float32Array, params?: { alpha?: number }, out?: Float32Array): Float32Array { return this.activate('thresholdedRelu', x, params, out); }
  clip(x: Float32Array, params?: { min?: number; max?: number }, out?: Float32Array): Float32Array { return this.activate('clip', x, params, out); }
  exp(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('exp', x, undefined, out); }
  erf(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('erf', x, undefined, out); }
  sign(x: Float32Array, out?: Float32Array): Float32Array { return this.activate('sign', x, undefined, out); }
}

/** Bind a runtime's public methods so they may be passed around or destructured
 *  (`const { relu } = nn`). Outside the class: a reference to `Runtime` inside its own body makes
 *  esbuild rename the class, and stack traces would then say `_Runtime.sequential`. */
function bindMethods(nn: Runtime): void {
  const self = nn as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(Runtime.prototype)) {
    const method = self[name];
    if (name !== 'constructor' && typeof method === 'function') self[name] = method.bind(nn);
  }
}

/** The canonical activation names accepted by `activate` and model specs. */
export type { ActivationName };

const OPTION_KEYS = ['simd', 'wasm', 'maximumMemory'];

/** Validate init() options (throws INVALID_ARGUMENT); returns simd and maximumMemory with their
 *  defaults filled in. Unknown keys are rejected: a misspelt option must not be silently ignored. */
function checkOptions(options: unknown): { mode: 'auto' | 'relaxed' | 'baseline'; maxBytes: number } {
  if (options === null || typeof options !== 'object') {
    throw new SimdnnError('INVALID_ARGUMENT', `init(options): options must be an object, received ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new SimdnnError('INVALID_ARGUMENT', `init: unknown option '${key}'; expected ${OPTION_KEYS.join(', ')}`);
    }
  }
  const o = options as InitOptions;
  const mode = o.simd ?? 'auto';
  if (mode !== 'auto' && mode !== 'relaxed' && mode !== 'baseline') {
    throw new SimdnnError('INVALID_ARGUMENT', `init: simd must be 'auto', 'relaxed' or 'baseline', received ${describe(mode)}`);
  }
  const maxBytes = o.maximumMemory ?? 2 ** 31;
  if (typeof maxBytes !== 'number' || !Number.isFinite(maxBytes) || maxBytes < PAGE || maxBytes > 2 ** 32) {
    throw new SimdnnError(
      'INVALID_ARGUMENT',
      `init: maximumMemory must be a number of bytes between ${PAGE} and ${2 ** 32}, received ${describe(maxBytes)}`,
    );
  }
  return { mode, maxBytes };
}

/** Create a new, independent runtime (its own memory). Most code wants the memoised init(). */
export async function createRuntime(platform: Platform, options: InitOptions = {}): Promise<Runtime> {
  const { mode, maxBytes } = checkOptions(options);
  const features = detectFeatures();
  if (!features.simd) {
    throw new SimdnnError(
      'NO_SIMD',
      'this JavaScript engine does not support WebAssembly SIMD, which simdnn requires ' +
        '(Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4)',
    );
  }
  if (mode === 'relaxed' && !features.relaxedSimd) {
    throw new SimdnnError(
      'NO_SIMD',
      "init({ simd: 'relaxed' }): this engine does not support relaxed SIMD " +
        '(Node 20 needs --experimental-wasm-relaxed-simd; Node ≥ 22 and Chrome ≥ 114 have it). Use simd: "auto"',
    );
  }
  let binary: Binary = mode === 'baseline' || !features.relaxedSimd ? 'baseline' : 'relaxed';
  let source = options.wasm as WasmSource | undefined;
  const pair = options.wasm as { baseline?: WasmSource; relaxed?: WasmSource } | undefined;
  if (pair !== null && typeof pair === 'object' && Object.getPrototypeOf(pair) === Object.prototype) {
    if (pair.baseline === undefined && pair.relaxed === undefined) {
      throw new SimdnnError('INVALID_ARGUMENT', "init({ wasm }): an object must have 'baseline' and/or 'relaxed' binaries");
    }
    if (mode === 'auto' && pair[binary] === undefined) binary = binary === 'relaxed' ? 'baseline' : 'relaxed';
    source = pair[binary];
    if (source === undefined) {
      throw new SimdnnError('INVALID_ARGUMENT', `init({ simd: '${mode}' }) needs wasm.${binary}, which was not given`);
    }
    if (binary === 'relaxed' && !features.relaxedSimd) {
      throw new SimdnnError('NO_SIMD', 'init({ wasm: { relaxed } }): this engine does not support relaxed SIMD; pass wasm.baseline too');
    }
  }
  const pages = Math.floor(maxBytes / PAGE);
  const loaded = await load(platform, binary, source, pages);
  const result = platform.resultArray?.bind(platform);
  return new Runtime(loaded.kernels, loaded.memory, binary, features.relaxedSimd, pages * PAGE, result);
}

/** init() memoisation: one runtime per option set; a failed init is forgotten so it can be retried. */
export function memoisedInit(platform: Platform): (options?: InitOptions) => Promise<Runtime> {
  const memo = new Map<string, Promise<Runtime>>();
  return (options: InitOptions = {}) => {
    // Validate first and key on the validated values: an invalid option must never be answered
    // with a runtime memoised for a valid one that prints the same ('16777216' vs 16777216).
    let checked: ReturnType<typeof checkOptions>;
    try {
      checked = checkOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    // A custom binary is not memoised: each call may pass a different one.
    if (options.wasm !== undefined) return createRuntime(platform, options);
    const key = `${checked.mode}|${checked.maxBytes}`;
    let p = memo.get(key);
    if (!p) {
      p = createRuntime(platform, options);
      memo.set(key, p);
      p.catch(() => memo.delete(key));
    }
    return p;
  };
}
