import { SimdnnError, describe } from '../errors.js';
import type { WasmMemory } from './memory.js';
import { sharedVariant } from './shared.js';

/** Anything a .wasm binary can be given as: a URL or path, a fetch Response (or its promise), the
 *  bytes, or an already compiled module (esbuild, Rollup and Cloudflare-style workers). */
export type WasmSource =
  | string
  | URL
  | Response
  | PromiseLike<Response>
  | ArrayBuffer
  | ArrayBufferView
  | CompiledWasm;

/** A compiled `WebAssembly.Module`. Typed as `object`, which is exactly what the lib's memberless
 *  `WebAssembly.Module` interface accepts, so that simdnn's .d.ts files compile without the DOM lib
 *  (`lib: ["ES2022"]`, `types: ["node"]`); init() checks that it really is one. */
export type CompiledWasm = object;

/** Which binary: baseline SIMD128, or relaxed SIMD (FMA). */
export type Binary = 'baseline' | 'relaxed';

/** How a platform (Node or browser) turns a URL/path into something instantiable. */
export interface Platform {
  /** Where the package's own binary lives. */
  defaultLocation(binary: Binary): URL;
  /** Read a URL or path: Node reads files, browsers fetch. */
  fetchBinary(location: string | URL): Promise<Response | ArrayBuffer | Uint8Array>;
  /** Compile bytes synchronously on this thread (Node: the binary is small and the thread hop of
   *  WebAssembly.compile costs more than it saves; browsers forbid synchronous compiles over 4 KB). */
  readonly compileSync?: boolean;
  /** A new Float32Array of n floats for a result the caller overwrites completely (default:
   *  `new Float32Array(n)`, zero-filled). */
  resultArray?(n: number): Float32Array;
  /** Node: read a file: URL (nn.load of a path). */
  readFile?(location: URL): Promise<Uint8Array>;
  /** Node: a filesystem path as an absolute file: URL. */
  fileUrl?(path: string): URL;
  /** Where the pool's worker script (dist/worker.js) lives. */
  workerLocation(): URL;
  /** How many threads the platform reports (init({ threads: 'auto' })). */
  cores(): number;
}

/** The kernel ABI, as exported by assembly/index.ts. Every pointer is a byte offset. */
export interface Kernels {
  heap_base(): number;
  activate_f32(kind: number, out: number, inp: number, n: number, a: number, b: number): void;
  prelu_f32(out: number, inp: number, slope: number, n: number, period: number): void;
  softmax_f32(out: number, inp: number, rows: number, cols: number): void;
  log_softmax_f32(out: number, inp: number, rows: number, cols: number): void;
  packed_size_f32(K: number, N: number): number;
  pack_weights_f32(packed: number, w: number, bias: number, K: number, N: number, layout: number): void;
  dense_f32(out: number, x: number, packed: number, M: number, K: number, N: number, kind: number, a: number, b: number): void;
  model_forward_f32(out: number, x: number, batch: number, desc: number, layers: number, bufA: number, bufB: number): void;
  first_nonfinite_f32(ptr: number, n: number): number;
  // Training (assembly/activations.ts, gemm_backward.ts, loss.ts, optim.ts).
  activation_backward_f32(kind: number, dx: number, dy: number, x: number, n: number, a: number, b: number): number;
  prelu_backward_f32(dx: number, dslope: number, dy: number, x: number, slope: number, n: number, period: number): void;
  dense_backward_f32(dx: number, dpacked: number, dy: number, x: number, packed: number, M: number, K: number, N: number): void;
  dense_backward_params_f32(dpacked: number, dy: number, x: number, M: number, K: number, N: number, ldy: number): void;
  softmax_cross_entropy_f32(grad: number, logits: number, labels: number, rows: number, cols: number): number;
  softmax_cross_entropy_probs_f32(grad: number, logits: number, targets: number, rows: number, cols: number): number;
  sigmoid_binary_cross_entropy_f32(grad: number, logits: number, targets: number, n: number): number;
  mse_f32(grad: number, y: number, t: number, n: number): number;
  mae_f32(grad: number, y: number, t: number, n: number): number;
  sgd_f32(param: number, buf: number, grad: number, n: number, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: number, zeroGrad: number): void;
  adam_f32(param: number, m: number, v: number, grad: number, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number, zeroGrad: number): void;
  adamw_f32(param: number, m: number, v: number, grad: number, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number, zeroGrad: number): void;
  rmsprop_f32(param: number, squareAvg: number, gradAvg: number, buf: number, grad: number, n: number, lr: number, alpha: number, eps: number, weightDecay: number, momentum: number, zeroGrad: number): void;
  sum_squares_f32(x: number, n: number): number;
  scale_f32(out: number, inp: number, s: number, n: number): void;
  dropout_f32(out: number, inp: number, n: number, seed: number, threshold: number, scale: number, first: number): void;
}

const KERNEL_NAMES: ReadonlyArray<keyof Kernels> = [
  'heap_base', 'activate_f32', 'prelu_f32', 'softmax_f32', 'log_softmax_f32', 'packed_size_f32',
  'pack_weights_f32', 'dense_f32', 'model_forward_f32', 'first_nonfinite_f32',
  'activation_backward_f32', 'prelu_backward_f32', 'dense_backward_f32', 'dense_backward_params_f32', 'softmax_cross_entropy_f32',
  'softmax_cross_entropy_probs_f32', 'sigmoid_binary_cross_entropy_f32', 'mse_f32', 'mae_f32', 'sgd_f32', 'adam_f32',
  'adamw_f32', 'rmsprop_f32', 'sum_squares_f32', 'scale_f32', 'dropout_f32',
];

// Smallest modules that use one SIMD128 instruction / one relaxed-SIMD instruction:
// (func (result v128) v128.const 0 [v128.const 0 v128.const 0 f32x4.relaxed_madd])
const V128_CONST = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
function featureModule(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const body = relaxed ? [0, ...V128_CONST, ...V128_CONST, ...V128_CONST, 0xfd, 0x85, 0x02, 0x0b] : [0, ...V128_CONST, 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body,
  ]);
}

/** What this engine supports. */
export function detectFeatures(): { simd: boolean; relaxedSimd: boolean } {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') {
    return { simd: false, relaxedSimd: false };
  }
  const simd = WebAssembly.validate(featureModule(false));
  return { simd, relaxedSimd: simd && WebAssembly.validate(featureModule(true)) };
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function checkMagic(bytes: Uint8Array, where: string): void {
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    const looksHtml = bytes[0] === 0x3c; // '<'
    throw new SimdnnError(
      'WASM_LOAD_FAILED',
      `${where} is not a WebAssembly binary (expected magic bytes 00 61 73 6d, found ${hex(bytes) || 'nothing'})` +
        (looksHtml ? ': the server sent an HTML page, usually a 404 for a wasm file the bundler did not copy' : '') +
        `. Pass the binary explicitly: init({ wasm: <URL, bytes or WebAssembly.Module> })`,
    );
  }
}

function toBytes(source: ArrayBuffer | ArrayBufferView): Uint8Array {
  return source instanceof ArrayBuffer
    ? new Uint8Array(source)
    : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
}

/** Turn any WasmSource into a compiled module, with errors that name the source and the fix. */
/** Sees the bytes before they are compiled (to make the shared-memory variant from them). */
type Transform = (bytes: Uint8Array) => void;

async function compile(source: WasmSource, platform: Platform, where: string, transform?: Transform): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) {
    const location = source;
    let fetched: Response | ArrayBuffer | Uint8Array;
    try {
      fetched = await platform.fetchBinary(location);
    } catch (cause) {
      throw new SimdnnError(
        'WASM_LOAD_FAILED',
        `could not load ${String(location)}: ${String((cause as Error)?.message ?? cause).replace(/\.$/, '')}. ` +
          `Pass the binary explicitly: init({ wasm: <URL, bytes or WebAssembly.Module> })`,
        { cause },
      );
    }
    return compile(fetched, platform, String(location), transform);
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = toBytes(source);
    checkMagic(bytes, where);
    try {
      transform?.(bytes);
      const b = bytes as Uint8Array<ArrayBuffer>;
      return platform.compileSync ? new WebAssembly.Module(b) : await WebAssembly.compile(b);
    } catch (cause) {
      const message = (cause as Error).message;
      // A Content-Security-Policy without 'wasm-unsafe-eval' blocks compilation; Chromium words it as
      // 'unsafe-eval', which is not the keyword to add.
      const csp = /Content.Security.Policy|unsafe-eval/i.test(message)
        ? ". The page's Content-Security-Policy must allow WebAssembly: add 'wasm-unsafe-eval' to script-src"
        : '';
      throw new SimdnnError('WASM_LOAD_FAILED', `${where} failed to compile: ${message}${csp}`, { cause });
    }
  }
  if (typeof (source as PromiseLike<Response>).then === 'function') {
    return compile(await (source as PromiseLike<Response>), platform, where, transform);
  }
  // Checked after bytes and modules: touching the global `Response` in Node loads undici (slow).
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) {
      throw new SimdnnError(
        'WASM_LOAD_FAILED',
        `could not load ${source.url || where}: HTTP ${source.status} ${source.statusText}. ` +
          `Serve the .wasm file beside the script, or pass it explicitly: init({ wasm: <URL, bytes or WebAssembly.Module> })`,
      );
    }
    const type = source.headers.get('content-type') ?? '';
    if (!transform && type.startsWith('application/wasm') && typeof WebAssembly.compileStreaming === 'function') {
      try {
        return await WebAssembly.compileStreaming(source.clone());
      } catch {
        // fall through to bytes: the checks below give a clearer error
      }
    }
    return compile(new Uint8Array(await source.arrayBuffer()), platform, source.url || where, transform);
  }
  throw new SimdnnError(
    'INVALID_ARGUMENT',
    `init({ wasm }) takes a URL, path, Response, bytes or WebAssembly.Module, received ${describe(source)}`,
  );
}

export interface Loaded {
  /** The compiled module (the worker pool instantiates it again in each worker). */
  module: CompiledWasm;
  kernels: Kernels;
  memory: WasmMemory;
  binary: Binary;
  /** The binary's shared-memory variant (bytes, not compiled yet), when it was asked for and the
   *  binary came as bytes: the runtime moves to it when its worker pool starts (shareMemory). */
  sharedBytes?: Uint8Array<ArrayBuffer>;
}

/**
 * Compile and instantiate a binary against a fresh memory of `maximumPages` pages at most.
 * The module imports its memory (asconfig `importMemory`), so the TypeScript side owns it.
 */
export async function load(
  platform: Platform,
  binary: Binary,
  source: WasmSource | undefined,
  maximumPages: number,
  /** Also make the shared-memory variant (for a pool of workers on one memory). Only from bytes: a
   *  compiled module given to init() cannot be rewritten, and stays non-shared. */
  wantShared = false,
): Promise<Loaded> {
  const where = source === undefined ? `simdnn's ${binary} binary` : 'the wasm passed to init()';
  let module: WebAssembly.Module;
  let sharedBytes: Uint8Array<ArrayBuffer> | undefined;
  const transform: Transform | undefined = wantShared ? (bytes) => { sharedBytes = sharedVariant(bytes); } : undefined;
  try {
    module = await compile(source ?? platform.defaultLocation(binary), platform, where, transform);
  } catch (cause) {
    if (cause instanceof SimdnnError) throw cause;
    // A detached ArrayBuffer, a Response whose body was already read, a promise that rejected, …
    throw new SimdnnError(
      'WASM_LOAD_FAILED',
      `${where} could not be read: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        `Pass the binary explicitly: init({ wasm: <URL, bytes or WebAssembly.Module> })`,
      { cause },
    );
  }
  let memory: WebAssembly.Memory;
  let instance: WebAssembly.Instance;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: maximumPages });
  } catch (cause) {
    throw new SimdnnError(
      'OUT_OF_MEMORY',
      `init: the engine could not reserve WebAssembly memory of up to ${maximumPages * 65536} bytes ` +
        `(${cause instanceof Error ? cause.message : String(cause)}); pass a smaller maximumMemory to init()`,
      { cause },
    );
  }
  try {
    // The kernels take and return plain numbers (pointers into `memory`) and import nothing else,
    // so no glue is needed: a bare synchronous instantiation of the compiled module. (The
    // AssemblyScript loader's demangling added about 1.1 ms to start-up and 6 KB to the bundle.)
    instance = new WebAssembly.Instance(module, { env: { memory } });
  } catch (cause) {
    throw new SimdnnError(
      'WASM_LOAD_FAILED',
      `${where} failed to instantiate: ${(cause as Error).message}. Is it simdnn's own binary, from the same version?`,
      { cause },
    );
  }
  return { module, kernels: checkExports(instance, where), memory, binary, ...(sharedBytes ? { sharedBytes } : {}) };
}

function checkExports(instance: WebAssembly.Instance, where: string): Kernels {
  const exports = instance.exports as Record<string, unknown>;
  for (const name of KERNEL_NAMES) {
    if (typeof exports[name] !== 'function') {
      throw new SimdnnError(
        'WASM_LOAD_FAILED',
        `${where} does not export '${name}': it is not simdnn's binary, or not from this version`,
      );
    }
  }
  return exports as unknown as Kernels;
}

/** Compile the shared-memory variant (Loaded.sharedBytes), for shareMemory. */
export async function compileShared(bytes: Uint8Array<ArrayBuffer>, platform: Platform): Promise<CompiledWasm> {
  return (platform.compileSync ? new WebAssembly.Module(bytes) : await WebAssembly.compile(bytes)) as CompiledWasm;
}

/**
 * The runtime's memory moved into a shared WebAssembly.Memory (for the worker pool): one of the same
 * maximum, holding a copy of every byte of `memory` (so every pointer stays valid), and the shared
 * variant instantiated on it. Synchronous: nothing may write to `memory` between the copy and the
 * switch. Throws where the engine refuses a shared memory (or room to reserve its maximum).
 */
export function shareMemory(module: CompiledWasm, memory: WasmMemory, maximumPages: number): { memory: WasmMemory; kernels: Kernels } {
  const bytes = memory.buffer.byteLength;
  const shared = new WebAssembly.Memory({ initial: bytes / 65536, maximum: maximumPages, shared: true });
  new Uint8Array(shared.buffer).set(new Uint8Array(memory.buffer));
  const instance = new WebAssembly.Instance(module as WebAssembly.Module, { env: { memory: shared } });
  return { memory: shared, kernels: checkExports(instance, "simdnn's shared-memory binary") };
}
