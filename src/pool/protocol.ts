// Messages between the main thread's pool (src/pool/pool.ts) and each worker (src/worker.ts).
// Copies mode: every worker holds its own instance of the same compiled module and its own copy of
// each model's packed weights (sent once per weight version, as bytes; never re-packed), and rows
// travel in transferred buffers.

/** One layer descriptor of model_forward_f32 (8 × 32-bit, see src/ops.ts DESC) and the blocks its
 *  pointers name, as bytes. The worker allocates the blocks and rewrites the two pointer fields. */
import type { CompiledWasm } from '../wasm/loader.js';
import type { SliceJob } from '../train/parallel.js';

export interface LayerImage {
  /** The descriptor's 32 bytes. */
  readonly desc: Uint8Array;
  /** The block at DESC.packed (dense: packed weight panels; affine: scale and shift), or null. */
  readonly packed: Uint8Array | null;
  /** The block at DESC.slope (PReLU slopes), or null. */
  readonly slope: Uint8Array | null;
}

/** Everything a worker needs to run one model's forward pass. */
export interface ModelImage {
  readonly inputs: number;
  readonly outputs: number;
  /** The widest layer (sizes the ping-pong buffers). */
  readonly widest: number;
  readonly layers: readonly LayerImage[];
}

/** Shared-memory mode: one slice of a forward pass, every pointer into the shared memory. */
export interface Exec {
  readonly desc: number;
  readonly layers: number;
  readonly x: number;
  readonly out: number;
  readonly batch: number;
  readonly a: number;
  readonly b: number;
}

export type ToWorker =
  /** `memory`: the runtime's shared WebAssembly.Memory (shared mode; the worker allocates nothing),
   *  or absent (copies mode: the worker makes its own memory of at most maxPages pages). */
  | { readonly t: 'init'; readonly module: CompiledWasm; readonly maxPages: number; readonly memory?: object }
  | { readonly t: 'exec'; readonly job: number; readonly exec: Exec }
  /** Shared-memory mode: a thread's job of a training step (src/train/pass.ts runJob). */
  | { readonly t: 'train'; readonly job: number; readonly slice: SliceJob }
  | { readonly t: 'model'; readonly id: number; readonly image: ModelImage }
  | { readonly t: 'drop'; readonly id: number }
  | { readonly t: 'run'; readonly job: number; readonly id: number; readonly batch: number; readonly x: Float32Array };

export type FromWorker =
  | { readonly t: 'ready' }
  /** `out`: the rows' results (copies mode); absent in shared mode (they are in the memory).
   *  `value`: a training slice's mean loss. */
  | { readonly t: 'done'; readonly job: number; readonly out?: Float32Array; readonly value?: number }
  /** A job failed (job ≥ 0) or the worker could not start (job −1). */
  | { readonly t: 'fail'; readonly job: number; readonly code: string; readonly message: string };
