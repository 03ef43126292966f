// Direct access to one binary's kernels with hand-managed memory, for the training-kernel tests:
// they place buffers precisely (misaligned starts, guard bytes after every block, blocks that end
// where memory ends).
import type { Kernels } from '../src/wasm/loader.js';
import { SIMD } from './runtime.js';
import { wasmModule } from './hardening.js';

/** The kernels these tests call: the ABI src/wasm/loader.ts declares (assembly/index.ts exports). */
export type TrainKernels = Kernels;

const PAGE = 65536;
/** Bytes after every block: the first 16 are the arena's padding (kernels may read them: they hold
 *  NaN here so that a tail that used them would show), all must be unchanged after a call. */
const GUARD = 48;
const NAN_BITS = 0x7fc0dead;

/**
 * A bump allocator over the module's memory. Blocks start at 16-byte alignment plus `misalign`
 * bytes; the bytes before the start (misalignment) and GUARD bytes after the end hold a NaN
 * pattern, and checkGuards() fails if a kernel wrote any of them.
 */
export class Heap {
  private top: number;
  private readonly guards: Array<[number, number]> = [];

  constructor(readonly memory: WebAssembly.Memory, readonly base: number) {
    this.top = Math.ceil(base / 16) * 16;
  }

  /** n floats (uninitialised: NaN pattern) at 16-byte alignment + misalign bytes (0, 4, 8 or 12). */
  alloc(n: number, misalign = 0): number {
    const start = this.top;
    const ptr = start + misalign;
    const end = ptr + 4 * n;
    this.top = Math.ceil((end + GUARD) / 16) * 16;
    this.ensure(this.top);
    new Int32Array(this.memory.buffer, start, (this.top - start) >> 2).fill(NAN_BITS);
    this.guards.push([start, ptr], [end, this.top]);
    return ptr;
  }

  /** A block holding `data` (f32). */
  put(data: ArrayLike<number>, misalign = 0): number {
    const ptr = this.alloc(data.length, misalign);
    this.view(ptr, data.length).set(data);
    return ptr;
  }

  /** A block holding `data` as i32. */
  putI32(data: ArrayLike<number>): number {
    const ptr = this.alloc(data.length);
    new Int32Array(this.memory.buffer, ptr, data.length).set(data);
    return ptr;
  }

  /** A block of n floats whose padding ends exactly where memory ends: reading more than 16 bytes
   *  past the data traps. Must be the last allocation (memory grows by whole pages for it). */
  putAtEnd(data: ArrayLike<number>): number {
    const need = this.top + 4 * data.length + 16;
    this.ensure(need);
    const ptr = this.memory.buffer.byteLength - 16 - 4 * data.length;
    this.view(ptr, data.length).set(data);
    new Int32Array(this.memory.buffer, ptr + 4 * data.length, 4).fill(NAN_BITS);
    this.top = this.memory.buffer.byteLength;
    return ptr;
  }

  /** A live view (re-derived on every call: memory growth detaches old views). */
  view(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /** A copy of n floats at ptr. */
  read(ptr: number, n: number): Float32Array {
    return this.view(ptr, n).slice();
  }

  /** Throws if any byte outside the blocks changed. */
  checkGuards(): void {
    const words = new Int32Array(this.memory.buffer);
    for (const [from, to] of this.guards) {
      for (let a = from; a < to; a += 4) {
        if (words[a >> 2] !== NAN_BITS) throw new Error(`a kernel wrote outside its output: byte ${a} (guard ${from}..${to})`);
      }
    }
  }

  /** Forget every block. */
  reset(): void {
    this.top = Math.ceil(this.base / 16) * 16;
    this.guards.length = 0;
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

const KERNEL_NAMES = [
  'heap_base', 'activate_f32', 'activation_backward_f32', 'prelu_backward_f32', 'packed_size_f32', 'pack_weights_f32', 'dense_f32', 'dense_backward_f32', 'dense_backward_params_f32', 'softmax_cross_entropy_f32',
  'softmax_cross_entropy_probs_f32', 'sigmoid_binary_cross_entropy_f32', 'mse_f32', 'mae_f32', 'sgd_f32', 'adam_f32',
  'adamw_f32', 'rmsprop_f32', 'sum_squares_f32', 'scale_f32', 'dropout_f32',
] as const satisfies ReadonlyArray<keyof TrainKernels>;

/** The exports hold every kernel these tests call (as functions). */
function hasKernels(exports: WebAssembly.Exports): exports is WebAssembly.Exports & TrainKernels {
  return KERNEL_NAMES.every((name) => typeof exports[name] === 'function');
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** A fresh instance of this project's binary (SIMD: baseline or relaxed) with its own memory. */
export async function loadKernels(): Promise<{ k: TrainKernels; heap: Heap }> {
  compiled ??= wasmModule(SIMD);
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 4096 });
  const instance = new WebAssembly.Instance(await compiled, { env: { memory } });
  const k = instance.exports;
  if (!hasKernels(k)) throw new Error(`build/ is stale: the ${SIMD} binary lacks a training kernel (npm run asbuild)`);
  return { k, heap: new Heap(memory, k.heap_base()) };
}
