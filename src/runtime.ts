import { SimdnnError, checkInt, describe } from './errors.js';
import { checkF32, copyBytes, viewF32 } from './arrays.js';
import {
  ACTIVATION_KINDS, resolveActivation, type ActivationName, type ActivationParams, type CheckedActivation, type ParamsOf,
} from './activations.js';
import { Arena, type WasmMemory } from './wasm/memory.js';
import { compileShared, detectFeatures, load, shareMemory, type Binary, type CompiledWasm, type Platform, type WasmSource, type Kernels } from './wasm/loader.js';
import { Registry, disposeSymbol, reentrant } from './resource.js';
import {
  Sequential, allocResult, type CheckedLayer, type CheckedSpec, type LayerSpecInput, type ModelSpecInput, type SequentialOptions,
} from './model.js';
import * as ops from './ops.js';
import type { ReadSafetensorsOptions, SafetensorsFile } from './io/safetensors.js';
import type { TfjsWeights } from './io/tfjs.js';
import type { LoadOnnxOptions, LoadOptions, ModelSource } from './io/load.js';
import type { Pool, WorkerSource } from './pool/pool.js';

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
  /** Threads for `model.predictAsync`: a number (1 = no workers), or 'auto' (default): the cores the
   *  platform reports, at most 8. Workers start on the first call that gains from them. */
  threads?: number | 'auto';
  /** The pool's worker script, when it is not found beside the library (dist/worker.js): its URL,
   *  or a function that returns a new module Worker running it. */
  worker?: string | URL | (() => unknown);
}

/** What was loaded. */
export interface Features {
  /** Which binary runs: 'relaxed' (fused multiply-add) or 'baseline' (SIMD128). */
  readonly binary: Binary;
  /** Always true: simdnn needs WebAssembly SIMD128. */
  readonly simd: true;
  /** Whether the engine supports relaxed SIMD (whichever binary was chosen). */
  readonly relaxedSimd: boolean;
  /** Threads `model.predictAsync` uses: init's `threads`, or 1 once workers turned out to be
   *  unavailable here (see `threadsUnavailable`). */
  readonly threads: number;
  /** Whether the workers share one WebAssembly memory (false: each holds its own copy of a model's
   *  weights, and rows and results are copied to and from them). */
  readonly sharedMemory: boolean;
  /** Why workers cannot be used here (a worker could not start), when that happened. */
  readonly threadsUnavailable?: string;
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

const PAGE = 65536;

/**
 * Elementwise calls stream through the staging buffer in chunks of this many floats (64 KiB): the
 * copy in, the kernel and the copy out of one chunk stay in cache, so a large input crosses main
 * memory twice (read x, write out) instead of six times. Measured on 1M-float relu/sigmoid.
 */
const CHUNK = 16384;

/** What nn.dispose() must also do for a memoised runtime: forget it, so init() makes a new one. */
const disposeHooks = new WeakMap<Runtime, () => void>();

/**
 * A loaded simdnn: kernels, their memory, and the operations on top. Get one with `init()`.
 * Everything it creates (models, layers) lives in its memory and must be disposed; `nn.dispose()`
 * ends the runtime itself and everything it created.
 */
export class Runtime implements Disposable {
  readonly #base: { binary: Binary; relaxedSimd: boolean };
  #threading: Threading;
  readonly #sharedMemory: boolean;
  #pool: Promise<Pool> | undefined;
  /** The pool once #pool has resolved (and until close). */
  #ready: Pool | undefined;
  /** Set when a worker could not start: calls run on one thread from then on. */
  #unavailable: string | undefined;
  readonly #ctx: ops.Ctx;
  readonly #registry: Registry;
  // @importers { (what the importers add to the core, between these marks: scripts/size.mjs --without-importers)
  /** Node: reading files for nn.load(path). */
  readonly #files: { readFile(location: URL): Promise<Uint8Array>; fileUrl(path: string): URL } | undefined;
  // @importers }
  #staging = { ptr: 0, floats: 0 };

  /** @internal use init() */
  constructor(
    kernels: Kernels, memory: WasmMemory, binary: Binary, relaxedSimd: boolean, maximumBytes: number,
    threading: Threading, result: (n: number) => Float32Array = ops.zeroedResult, platform?: Platform,
  ) {
    // @importers {
    this.#files = platform?.readFile && platform.fileUrl
      ? { readFile: platform.readFile.bind(platform), fileUrl: platform.fileUrl.bind(platform) } : undefined;
    // @importers }
    const arena = new Arena(memory, kernels.heap_base(), maximumBytes);
    const guard: ops.Guard = { busy: false, closed: false };
    this.#ctx = { k: kernels, arena, result, guard };
    this.#registry = new Registry(arena, guard);
    this.#base = { binary, relaxedSimd };
    this.#threading = threading;
    this.#sharedMemory = threading.memory !== undefined || threading.sharedBytes !== undefined;
    if ((threading.auto || threading.threads > 1) && threading.module) {
      const self = this;
      this.#ctx.parallel = {
        threads: () => (this.#unavailable === undefined ? threading.threads : 1),
        get shared() { return self.#sharedMemory; },
        run: (model, parts, rows) => this.#usePool((pool) => pool.run(model, parts, rows)),
        exec: (jobs) => this.#usePool((pool) => pool.exec(jobs)),
        train: (slices, onFail) => this.#usePool((pool) => pool.train(slices, onFail)),
        drop: (id) => void this.#pool?.then((p) => p.drop(id), () => {}),
      };
    }
    bindMethods(this);
  }

  /** What was loaded, and what runs. */
  get features(): Features {
    const { binary, relaxedSimd } = this.#base;
    const threads = this.#unavailable === undefined ? this.#threading.threads : 1;
    return Object.freeze({
      binary, simd: true as const, relaxedSimd, threads, sharedMemory: this.#sharedMemory && threads > 1,
      ...(this.#unavailable === undefined ? {} : { threadsUnavailable: this.#unavailable }),
    });
  }

  async #usePool<T>(f: (pool: Pool) => Promise<T>): Promise<T> {
    // Once the pool exists, f runs synchronously (its messages go out before this returns), so a
    // caller can compute its own share of the work while the workers compute theirs.
    let pool = this.#ready;
    try {
      pool ??= await this.#getPool();
    } catch (err) {
      // The pool cannot exist here (its module or the worker script cannot be found): one thread.
      this.#unavailable = err instanceof Error ? err.message : String(err);
      throw err;
    }
    try {
      return await f(pool);
    } catch (err) {
      if (pool.unavailable !== undefined) this.#unavailable = pool.unavailable;
      throw err;
    }
  }

  #getPool(): Promise<Pool> {
    if (this.#pool) return this.#pool;
    const pool: Promise<Pool> = Promise.all([import('./pool/pool.js'), this.#share()]).then(
      ([m]) => {
        const t = this.#threading;
        if (this.#ctx.guard.closed) throw new SimdnnError('DISPOSED', 'this runtime was disposed (nn.dispose())');
        const made = new m.Pool(t.threads, t.module!, t.maxPages, t.source ?? t.locate(), t.memory);
        if (this.#pool === pool) this.#ready = made; // not when close() came first
        return made;
      },
      (err: unknown) => {
        if (this.#pool === pool) this.#pool = undefined;
        if (err instanceof SimdnnError) throw err;
        throw new SimdnnError('WORKER_FAILED', `the worker pool's module could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      },
    );
    return (this.#pool = pool);
  }

  /**
   * Shared mode, when the pool first starts: move this runtime into shared memory. The binary's
   * shared-memory variant is compiled, then, in one synchronous step, a shared memory of the same
   * maximum receives a copy of every byte (every pointer stays valid) and the kernels and the arena
   * switch to it. Until then the runtime runs on ordinary memory: init() costs what one thread's
   * does. An engine that refuses a shared memory leaves the runtime on one thread, saying why.
   */
  async #share(): Promise<void> {
    const t = this.#threading;
    if (!t.sharedBytes || t.memory) return;
    let module: CompiledWasm;
    try {
      module = await compileShared(t.sharedBytes, t.platform!);
    } catch (err) {
      this.#unshared(err);
      return;
    }
    if (this.#ctx.guard.closed || this.#threading.memory) return;
    let moved: ReturnType<typeof shareMemory>;
    try {
      moved = shareMemory(module, this.#ctx.arena.memory, t.maxPages);
    } catch (err) {
      this.#unshared(err);
      return;
    }
    this.#ctx.k = moved.kernels;
    this.#ctx.arena.adopt(moved.memory);
    this.#threading = { ...this.#threading, module, memory: moved.memory, sharedBytes: undefined };
  }

  #unshared(err: unknown): void {
    this.#unavailable = `shared WebAssembly memory could not be made: ${err instanceof Error ? err.message : String(err)}`;
    this.#threading = { ...this.#threading, sharedBytes: undefined };
    throw new SimdnnError('WORKER_FAILED', `the worker pool could not start: ${this.#unavailable}`, { cause: err });
  }

  /**
   * End the worker pool's workers (after the calls in flight). The runtime stays usable: a later
   * predictAsync starts them again. Resolves when they have stopped; safe to call twice.
   */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    this.#ready = undefined;
    if (pool) await pool.then((p) => p.close(), () => {});
  }

  /** Start a public call (see Resource.enter): DISPOSED after nn.dispose(), REENTRANT_CALL from
   *  caller code running inside another call. Always paired with #leave() in a finally. */
  #enter(op: string): void {
    const guard = this.#ctx.guard;
    if (guard.closed) {
      throw new SimdnnError('DISPOSED', `nn.${op}: this runtime was disposed (nn.dispose()); call init() for a new one`);
    }
    if (guard.busy) throw reentrant(`nn.${op}`);
    guard.busy = true;
  }

  #leave(): void {
    this.#ctx.guard.busy = false;
  }

  /** Whether nn.dispose() has been called. */
  get disposed(): boolean {
    return this.#ctx.guard.closed;
  }

  /**
   * End this runtime: every model it created is disposed, its WebAssembly memory is released to
   * the garbage collector (memory never shrinks while a runtime lives), and every later use of the
   * runtime or its models throws DISPOSED. The next init() loads a new runtime. Safe to call twice.
   */
  dispose(): void {
    const guard = this.#ctx.guard;
    if (guard.closed) return;
    if (guard.busy) throw reentrant('nn.dispose');
    guard.closed = true;
    void this.close();
    this.#ctx.parallel = undefined;
    // The module and (shared) memory go with everything else: a disposed runtime holds neither.
    this.#threading = { ...this.#threading, module: undefined, memory: undefined, sharedBytes: undefined };
    this.#registry.close();
    this.#staging = { ptr: 0, floats: 0 };
    // Drop every reference to the instance and its memory: models keep this context alive.
    this.#ctx.k = undefined as never;
    this.#ctx.arena = undefined as never;
    disposeHooks.get(this)?.();
  }

  /** `using nn = await createRuntime()` disposes it at the end of the scope. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** Live objects and bytes, the staging buffer and the memory size. */
  memory(): MemoryInfo {
    if (this.#ctx.guard.closed) throw new SimdnnError('DISPOSED', 'nn.memory: this runtime was disposed (nn.dispose())');
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
  activate<const S extends string | { readonly name: string }>(
    name: CheckedActivation<S>, x: Float32Array, params?: S extends string ? ParamsOf<S> : ActivationParams, out?: Float32Array,
  ): Float32Array {
    this.#enter('activate');
    try {
      // Every argument is converted and checked before any memory is touched.
      const act = resolveActivation(name, params);
      const { array, length: n } = checkF32(x, `${act.name}: x`);
      const given = this.#checkOut(out, n, act.name);
      if (act.kind === ACTIVATION_KINDS.softmax || act.kind === ACTIVATION_KINDS.logSoftmax) {
        return this.#softmax(act.kind === ACTIVATION_KINDS.logSoftmax, array, n, n, given, act.name);
      }
      const slope = act.slope;
      if (slope && n % slope.length !== 0) {
        throw new SimdnnError(
          'SHAPE_MISMATCH',
          `prelu: slope has ${slope.length} values, which must divide the input length ${n} (one slope per channel of the last axis)`,
        );
      }
      const result = given ?? allocResult(this.#ctx, n, () => `${act.name}: the result`); // #stream writes every value
      if (n === 0) return result;
      // Chunks hold whole slope periods so that the PReLU slope lines up in every chunk; the slope
      // itself sits after the chunk in the staging buffer.
      return this.#stream(array, n, result, slope ? slope.length : 1, slope ? slope.length : 0, (ptr, len, extra) => {
        ops.activate(this.#ctx, act, ptr, ptr, len, extra);
      }, slope && ((extra) => ops.upload(this.#ctx, extra, slope)));
    } finally {
      this.#leave();
    }
  }

  /**
   * Run an in-place kernel over the n floats of x in chunks of whole `unit`s (a PReLU slope period,
   * a softmax row) through the staging buffer, writing `out` (see CHUNK). `extra` floats after the
   * chunk are the caller's, set up once by `prepare`. Views of x and out are built from their
   * intrinsic buffer and offset (never subarray(): its species constructor is caller code).
   */
  #stream(
    x: Float32Array, n: number, out: Float32Array, unit: number, extra: number,
    kernel: (ptr: number, len: number, extraPtr: number) => void, prepare?: (extraPtr: number) => void,
  ): Float32Array {
    const chunk = Math.min(n, Math.max(unit, Math.floor(CHUNK / unit) * unit));
    const ptr = this.#stage(chunk + extra);
    const extraPtr = ptr + chunk * 4;
    prepare?.(extraPtr);
    for (let start = 0; start < n; start += chunk) {
      const len = Math.min(chunk, n - start);
      ops.upload(this.#ctx, ptr, viewF32(x, start, len));
      kernel(ptr, len, extraPtr);
      ops.download(this.#ctx, ptr, len, viewF32(out, start, len));
    }
    return out;
  }

  /** The caller's `out`, checked to be a live Float32Array of n values; undefined if not given. */
  #checkOut(out: unknown, n: number, what: string): Float32Array | undefined {
    if (out === undefined) return undefined;
    const o = checkF32(out, `${what}: out`);
    if (o.length !== n) {
      throw new SimdnnError('SHAPE_MISMATCH', `${what}: out has ${o.length} values but the result has ${n}`);
    }
    return o.array;
  }

  #softmax(log: boolean, x: Float32Array, n: number, cols: unknown, given: Float32Array | undefined, what: string): Float32Array {
    const c = cols === undefined ? n : cols;
    checkInt(c, `${what}: cols`, n === 0 ? 0 : 1);
    const cn = c as number;
    if (cn !== 0 && n % cn !== 0) {
      throw new SimdnnError('SHAPE_MISMATCH', `${what}: input has ${n} values, which is not a whole number of rows of ${cn} columns`);
    }
    const out = given ?? allocResult(this.#ctx, n, () => `${what}: the result`);
    if (cn === 0 || n === 0) return out;
    return this.#stream(x, n, out, cn, 0, (ptr, len) => ops.softmax(this.#ctx, log, ptr, ptr, len / cn, cn));
  }

  #softmaxCall(log: boolean, x: unknown, cols: unknown, out: unknown): Float32Array {
    const what = log ? 'logSoftmax' : 'softmax';
    this.#enter(what);
    try {
      const { array, length } = checkF32(x, `${what}: x`);
      return this.#softmax(log, array, length, cols, this.#checkOut(out, length, what), what);
    } finally {
      this.#leave();
    }
  }

  /** Softmax over each row of `cols` values (default: all of x is one row). */
  softmax(x: Float32Array, cols?: number, out?: Float32Array): Float32Array {
    return this.#softmaxCall(false, x, cols, out);
  }

  /** Log-softmax over each row of `cols` values (default: all of x is one row). */
  logSoftmax(x: Float32Array, cols?: number, out?: Float32Array): Float32Array {
    return this.#softmaxCall(true, x, cols, out);
  }

  /** A model from a spec (see ModelSpec; the README documents the JSON format). With
   *  `{ tensors }`, a string in place of numbers names one of those tensors (shape checked). */
  sequential<const S extends ModelSpecInput>(spec: CheckedSpec<S>, options?: SequentialOptions): Sequential {
    this.#enter('sequential');
    try {
      return new Sequential(this.#ctx, this.#registry, spec, options);
    } finally {
      this.#leave();
    }
  }

  // @importers {
  /**
   * An importing call: DISPOSED or REENTRANT_CALL at once (as a rejection); `bytes` copied now (the
   * caller may reuse them when this returns); the importers loaded (a dynamic import, once); then
   * `f` reads and parses, and the model is built under the call guard (a runtime disposed while the
   * source was read rejects with DISPOSED).
   */
  async #import<T>(op: string, bytes: unknown, f: (io: typeof import('./io/load.js'), bytes: unknown) => T | Promise<T>, build = true): Promise<T extends { spec: unknown } ? Sequential : T> {
    this.#enter(op);
    this.#leave();
    const copy = copyBytes(bytes, `${op}: ${op === 'loadTfjs' ? 'modelJson' : op === 'load' ? 'source' : 'bytes'}`) ?? bytes;
    const result = await f(await importers(), copy);
    if (!build) return result as never;
    const { spec, tensors } = result as { spec: unknown; tensors?: unknown };
    this.#enter(op);
    try {
      return new Sequential(this.#ctx, this.#registry, spec, tensors === undefined ? undefined : { tensors } as SequentialOptions) as never;
    } finally {
      this.#leave();
    }
  }

  /**
   * Load a model from a file path or `file:` URL (Node), an http(s) URL (string or URL), a
   * Response, a Blob or File, or the bytes (ArrayBuffer, Uint8Array). The format is recognised from
   * the content: ONNX, a safetensors file written by model.save(), a TF.js layers model.json (its
   * weight files are read beside it, or given as `options.weights`), or a simdnn JSON spec. The
   * importers are loaded on first use (a dynamic import).
   */
  load(source: ModelSource, options?: LoadOptions): Promise<Sequential> {
    return this.#import('load', source, (io, s) => io.load(s, options, this.#files));
  }

  /** Import an ONNX model from its bytes (see README.import.md for the operators it maps). */
  loadOnnx(bytes: ArrayBuffer | Uint8Array, options?: LoadOnnxOptions): Promise<Sequential> {
    return this.#import('loadOnnx', bytes, (io, b) => io.loadOnnx(b, options));
  }

  /** Import a TF.js layers model: model.json (text, bytes or parsed) and its weight data (one
   *  buffer, the shards in manifest order, or the shards by their manifest path). */
  loadTfjs(modelJson: unknown, weights?: TfjsWeights): Promise<Sequential> {
    return this.#import('loadTfjs', modelJson, (io, json) => io.loadTfjs(json, weights));
  }

  /** Read a safetensors file: its tensors by name (F32, F16, BF16 and F64 become Float32Arrays,
   *  with their shape and stored dtype) and its `__metadata__`. Give the result to
   *  `nn.sequential(spec, { tensors })` to build a model whose spec names them. */
  readSafetensors(bytes: ArrayBuffer | Uint8Array, options?: ReadSafetensorsOptions): Promise<SafetensorsFile> {
    return this.#import('readSafetensors', bytes, (io, b) => io.readFile(b, options), false);
  }
  // @importers }

  /** One dense layer as a model: `nn.dense({ inputs: 3, units: 2, weights, bias, activation: 'relu' })`. */
  dense<const L extends LayerSpecInput>(spec: CheckedLayer<L>): Sequential {
    this.#enter('dense');
    try {
      if (spec === null || typeof spec !== 'object') {
        throw new SimdnnError('INVALID_SPEC', `dense: spec must be an object, received ${describe(spec)}`);
      }
      return new Sequential(this.#ctx, this.#registry, { layers: [{ ...spec, type: 'dense' }] });
    } finally {
      this.#leave();
    }
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
    // Methods only: reading a getter here (features) would run it at start-up.
    const method = Object.getOwnPropertyDescriptor(Runtime.prototype, name)?.value as unknown;
    if (name !== 'constructor' && typeof method === 'function') self[name] = method.bind(nn);
  }
}

// @importers {
/** The importers, loaded on first use (their own chunk of the bundle). */
let io: Promise<typeof import('./io/load.js')> | undefined;
function importers(): Promise<typeof import('./io/load.js')> {
  io ??= import('./io/load.js').catch((err: unknown) => {
    io = undefined;
    throw err;
  });
  return io;
}
// @importers }

/** The canonical activation names accepted by `activate` and model specs. */
export type { ActivationName };

const OPTION_KEYS = ['simd', 'wasm', 'maximumMemory', 'threads', 'worker'];

/** How a runtime uses threads (from init's `threads` and `worker`). */
interface Threading {
  /** The thread count ('auto': the platform's cores, capped; asked for on first use, as loading
   *  Node's os module costs about 0.5 ms of start-up). */
  readonly threads: number;
  readonly module: CompiledWasm | undefined;
  /** init's `worker`, or undefined: the script beside the library (`locate`). */
  readonly source: WorkerSource | undefined;
  readonly locate: () => URL;
  readonly maxPages: number;
  /** threads: 'auto' (the count is not known before first use). */
  readonly auto?: boolean;
  /** The runtime's memory once it is shared with the workers (shared mode, from the pool's start),
   *  else undefined. */
  readonly memory: object | undefined;
  /** Shared mode before the pool starts: the shared-memory variant of the binary, which the runtime
   *  moves to (with a copy of its memory) when the pool starts, so init() stays as fast as one thread's. */
  readonly sharedBytes?: Uint8Array<ArrayBuffer> | undefined;
  readonly platform?: Platform;
}

/** init({ threads: 'auto' }) takes at most this many. */
const AUTO_THREADS = 8;

/** init() options read once and validated: what createRuntime uses (never the caller's object). */
interface CheckedOptions {
  readonly mode: 'auto' | 'relaxed' | 'baseline';
  readonly maxBytes: number;
  /** One binary, or both (a snapshot of the caller's `{ baseline, relaxed }`). */
  readonly wasm: WasmSource | undefined;
  readonly pair: { readonly baseline?: WasmSource; readonly relaxed?: WasmSource } | undefined;
  /** A number of threads, or 'auto' (resolved against the platform when the runtime is made). */
  readonly threads: number | 'auto';
  readonly worker: WorkerSource | undefined;
}

/** A plain object (any realm): its prototype is null or has no prototype itself (Object.prototype). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Validate init() options (throws INVALID_ARGUMENT), reading each option exactly once, and return
 *  the snapshot with defaults filled in. Unknown keys are rejected: a misspelt option must not be
 *  silently ignored. */
function checkOptions(options: unknown): CheckedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') {
    throw new SimdnnError('INVALID_ARGUMENT', `init(options): options must be an object, received ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new SimdnnError('INVALID_ARGUMENT', `init: unknown option '${key}'; expected ${OPTION_KEYS.join(', ')}`);
    }
  }
  const { simd, wasm, maximumMemory, threads: threadOption, worker } = options as Record<string, unknown>;
  const threads = threadOption ?? 'auto';
  if (threads !== 'auto' && (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 64)) {
    throw new SimdnnError('INVALID_ARGUMENT', `init: threads must be 'auto' or an integer from 1 to 64, received ${describe(threads)}`);
  }
  if (worker !== undefined && typeof worker !== 'string' && !(worker instanceof URL) && typeof worker !== 'function') {
    throw new SimdnnError('INVALID_ARGUMENT', `init: worker must be a URL (string or URL) or a function returning a Worker, received ${describe(worker)}`);
  }
  const common = { threads: threads as number | 'auto', worker: worker as WorkerSource | undefined };
  const mode = simd ?? 'auto';
  if (mode !== 'auto' && mode !== 'relaxed' && mode !== 'baseline') {
    throw new SimdnnError('INVALID_ARGUMENT', `init: simd must be 'auto', 'relaxed' or 'baseline', received ${describe(mode)}`);
  }
  const maxBytes = maximumMemory ?? 2 ** 31;
  if (typeof maxBytes !== 'number' || !Number.isFinite(maxBytes) || maxBytes < PAGE || maxBytes > 2 ** 32) {
    throw new SimdnnError(
      'INVALID_ARGUMENT',
      `init: maximumMemory must be a number of bytes between ${PAGE} and ${2 ** 32}, received ${describe(maxBytes)}`,
    );
  }
  if (isPlainObject(wasm)) {
    const { baseline, relaxed } = wasm as { baseline?: WasmSource; relaxed?: WasmSource };
    if (baseline === undefined && relaxed === undefined) {
      throw new SimdnnError('INVALID_ARGUMENT', "init({ wasm }): an object must have 'baseline' and/or 'relaxed' binaries");
    }
    return { mode, maxBytes, wasm: undefined, pair: Object.freeze({ baseline, relaxed }), ...common };
  }
  return { mode, maxBytes, wasm: wasm as WasmSource | undefined, pair: undefined, ...common };
}

/** Create a new, independent runtime (its own memory). Most code wants the memoised init(). */
export async function createRuntime(platform: Platform, options: InitOptions = {}): Promise<Runtime> {
  return createChecked(platform, checkOptions(options));
}

async function createChecked(platform: Platform, options: CheckedOptions): Promise<Runtime> {
  const { mode, maxBytes, pair } = options;
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
  let source = options.wasm;
  if (pair) {
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
  const auto = options.threads === 'auto';
  let cores: number | undefined;
  const count = () => (cores ??= Math.min(platform.cores(), AUTO_THREADS));
  // Shared memory for the pool where the engine allows it: Node, and browsers when the page is
  // cross-origin isolated (COOP/COEP). Elsewhere the workers hold copies.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  const canShare = (auto || (options.threads as number) > 1) && typeof SharedArrayBuffer === 'function' && isolated !== false;
  const loaded = await load(platform, binary, source, pages, canShare);
  const result = platform.resultArray?.bind(platform);
  const threading: Threading = {
    get threads() { return auto ? count() : (options.threads as number); },
    auto,
    // Where the worker script is, worked out when the pool starts: in workerd, for one, the module
    // has no absolute URL to resolve it against, and it never starts workers anyway.
    module: loaded.module, maxPages: pages, source: options.worker, locate: () => platform.workerLocation(),
    memory: undefined, sharedBytes: loaded.sharedBytes, platform,
  };
  return new Runtime(loaded.kernels, loaded.memory, binary, features.relaxedSimd, pages * PAGE, threading, result, platform);
}

/** init() memoisation: one runtime per option set; a failed init is forgotten so it can be retried,
 *  and so is a runtime that was disposed. */
export function memoisedInit(platform: Platform): (options?: InitOptions) => Promise<Runtime> {
  const memo = new Map<string, Promise<Runtime>>();
  return (options: InitOptions = {}) => {
    // Validate first, reading every option once, and key on the validated values: an invalid
    // option must never be answered with a runtime memoised for a valid one that prints the same
    // ('16777216' vs 16777216), and a getter must not give the key one value and the runtime another.
    let checked: CheckedOptions;
    try {
      checked = checkOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    // A custom binary is not memoised: each call may pass a different one.
    if (checked.wasm !== undefined || checked.pair !== undefined || typeof checked.worker === 'function') return createChecked(platform, checked);
    const key = `${checked.mode}|${checked.maxBytes}|${checked.threads}|${checked.worker === undefined ? '' : String(checked.worker)}`;
    let p = memo.get(key);
    if (!p) {
      const created = createChecked(platform, checked);
      p = created;
      memo.set(key, created);
      created.then(
        (nn) => disposeHooks.set(nn, () => { if (memo.get(key) === created) memo.delete(key); }),
        () => { if (memo.get(key) === created) memo.delete(key); },
      );
    }
    return p;
  };
}
