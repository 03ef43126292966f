// The pool's worker (dist/worker.js): one instance of simdnn's compiled module, its own memory, and
// a copy of each model's packed weights; it runs model_forward_f32 on the rows it is sent. The same
// file runs as a Node worker_threads worker and as a browser module Worker. It imports nothing at
// run time (the bundle is self-contained), so it can be served as a plain file next to the library.
import { Arena } from './wasm/memory.js';
import { builtin } from './builtin.js';
import { DESC, DESC_BYTES, ioBlock } from './wasm/abi.js';
import type { FromWorker, ModelImage, ToWorker } from './pool/protocol.js';
import { runJob } from './train/parallel.js';
import type { Ctx } from './ops.js';

interface ForwardKernels {
  heap_base(): number;
  model_forward_f32(out: number, x: number, batch: number, desc: number, layers: number, bufA: number, bufB: number): void;
}

interface Held {
  readonly image: ModelImage;
  readonly desc: number;
  readonly blocks: number[];
  /** The I/O block for `capacity` rows: input, output and two scratch regions. */
  io: { ptr: number; x: number; out: number; a: number; b: number; capacity: number } | undefined;
}

/** Where messages come from and go to: Node's parentPort or the worker's global scope. */
interface Port {
  post(message: FromWorker, transfer?: Transferable[]): void;
  listen(handler: (message: ToWorker) => void): void;
}

function port(): Port {
  const parent = builtin<{ parentPort?: NodePort | null }>('node:worker_threads')?.parentPort;
  if (parent) {
    return {
      post: (m, transfer) => parent.postMessage(m, transfer),
      listen: (h) => parent.on('message', h),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(m: unknown, transfer?: Transferable[]): void;
    addEventListener(type: 'message', h: (e: { data: ToWorker }) => void): void;
  };
  return {
    post: (m, transfer) => scope.postMessage(m, transfer ?? []),
    listen: (h) => scope.addEventListener('message', (e) => h(e.data)),
  };
}

interface NodePort {
  postMessage(m: unknown, transfer?: readonly Transferable[]): void;
  on(type: 'message', h: (m: ToWorker) => void): void;
}


const io = port();
let kernels: ForwardKernels | undefined;
let arena: Arena | undefined;
/** Shared mode: the runtime's memory, and the kernel context a training slice runs with (the
 *  training kernels read and write only the pointers they are given: nothing is allocated here). */
let shared: WebAssembly.Memory | undefined;
let heap: Float32Array | undefined;
const ctx = {
  get k() { return kernels; },
  arena: {
    f32(): Float32Array {
      const buffer = shared!.buffer; // a new object after the memory grew
      if (heap?.buffer !== buffer) heap = new Float32Array(buffer);
      return heap;
    },
  },
} as unknown as Ctx;
const models = new Map<number, Held>();
/** Why a model's copy could not be made (out of memory): its runs report it. */
const refused = new Map<number, unknown>();

function u8(ptr: number, n: number): Uint8Array {
  return new Uint8Array(arena!.memory.buffer, ptr, n);
}

function drop(id: number): void {
  const held = models.get(id);
  if (!held) return;
  models.delete(id);
  for (const ptr of held.blocks) arena!.release(ptr);
  if (held.io) arena!.release(held.io.ptr);
}

/** Copy a model's image into this worker's memory: blocks first, then descriptors pointing at them. */
function adopt(id: number, image: ModelImage): void {
  drop(id);
  const a = arena!;
  const blocks: number[] = [];
  try {
    const desc = a.alloc(image.layers.length * DESC_BYTES);
    blocks.push(desc);
    image.layers.forEach((layer, i) => {
      const at = desc + i * DESC_BYTES;
      u8(at, DESC_BYTES).set(layer.desc);
      const i32 = new Int32Array(a.memory.buffer, at, DESC_BYTES / 4);
      for (const [field, bytes] of [[DESC.packed, layer.packed], [DESC.slope, layer.slope]] as const) {
        if (!bytes) { i32[field] = 0; continue; }
        const ptr = a.alloc(bytes.length);
        blocks.push(ptr);
        u8(ptr, bytes.length).set(bytes);
        new Int32Array(a.memory.buffer, at, DESC_BYTES / 4)[field] = ptr;
      }
    });
    models.set(id, { image, desc, blocks, io: undefined });
  } catch (err) {
    for (const ptr of blocks) a.release(ptr);
    throw err;
  }
}

function run(id: number, batch: number, x: Float32Array): Float32Array {
  const held = models.get(id);
  if (!held) throw refused.get(id) ?? new Error(`model ${id} is not in this worker`);
  const { inputs, outputs, widest } = held.image;
  const a = arena!;
  if (!held.io || held.io.capacity < batch) {
    if (held.io) a.release(held.io.ptr);
    held.io = undefined;
    const ptr = a.allocF32(ioBlock(0, batch, inputs, outputs, widest).floats);
    held.io = { ptr, ...ioBlock(ptr, batch, inputs, outputs, widest), capacity: batch };
  }
  const b = held.io;
  new Float32Array(a.memory.buffer, b.x, batch * inputs).set(x);
  kernels!.model_forward_f32(b.out, b.x, batch, held.desc, held.image.layers.length, b.a, b.b);
  return new Float32Array(a.memory.buffer, b.out, batch * outputs).slice();
}

function fail(job: number, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown };
  io.post({
    t: 'fail', job,
    code: typeof e?.code === 'string' ? e.code : 'WORKER_FAILED',
    message: typeof e?.message === 'string' ? e.message : String(err),
  });
}

io.listen((m) => {
  try {
    switch (m.t) {
      case 'init': {
        const memory = (m.memory as WebAssembly.Memory | undefined) ?? new WebAssembly.Memory({ initial: 1, maximum: m.maxPages });
        const instance = new WebAssembly.Instance(m.module as WebAssembly.Module, { env: { memory } });
        kernels = instance.exports as unknown as ForwardKernels;
        // Shared mode: the runtime owns the memory and every allocation in it; this worker only computes.
        if (!m.memory) arena = new Arena(memory, kernels.heap_base(), m.maxPages * 65536);
        else shared = memory;
        io.post({ t: 'ready' });
        return;
      }
      case 'exec': {
        const e = m.exec;
        try {
          kernels!.model_forward_f32(e.out, e.x, e.batch, e.desc, e.layers, e.a, e.b);
        } catch (err) {
          fail(m.job, err);
          return;
        }
        io.post({ t: 'done', job: m.job });
        return;
      }
      case 'train': {
        let value: number;
        try {
          value = runJob(ctx, shared!, m.slice);
        } catch (err) {
          fail(m.job, err);
          return;
        }
        io.post({ t: 'done', job: m.job, value });
        return;
      }
      case 'model':
        refused.delete(m.id);
        try {
          adopt(m.id, m.image);
        } catch (err) {
          refused.set(m.id, err);
        }
        return;
      case 'drop':
        refused.delete(m.id);
        drop(m.id);
        return;
      case 'run': {
        let out: Float32Array;
        try {
          out = run(m.id, m.batch, m.x);
        } catch (err) {
          fail(m.job, err);
          return;
        }
        io.post({ t: 'done', job: m.job, out }, [out.buffer]);
        return;
      }
    }
  } catch (err) {
    fail(-1, err); // only init gets here: the pool turns it into WORKER_FAILED
  }
});
