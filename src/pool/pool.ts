// The worker pool behind model.predictAsync (copies mode). Loaded lazily, on the first call that
// benefits from threads, so a program that never needs workers never loads this module or starts
// one. Each worker holds its own instance of the runtime's compiled module and a copy of each model's
// packed weights, sent once per weight version; a call's rows are split into contiguous slices, one
// per worker, and every row is computed by the same kernel as predict() computes it, so the result
// is bit-identical to predict()'s.
import { SimdnnError } from '../errors.js';
import type { Exec, FromWorker, ModelImage, ToWorker } from './protocol.js';
import type { SliceJob } from '../train/parallel.js';
import type { CompiledWasm } from '../wasm/loader.js';
import { builtin } from '../builtin.js';

/** Something that starts a worker: a URL of dist/worker.js, or a factory returning a Worker. */
export type WorkerSource = string | URL | (() => unknown);

/** A started worker, the same shape in Node and browsers. */
interface Handle {
  post(message: ToWorker, transfer?: Transferable[]): void;
  terminate(): void;
  /** Node: whether an idle worker may keep the process alive (it may not). */
  hold(on: boolean): void;
}

type Done = Extract<FromWorker, { t: 'done' }>;

interface Pending {
  resolve(done: Done): void;
  reject(err: unknown): void;
}

interface Slot {
  readonly handle: Handle;
  /** Settles when the worker has instantiated the module (rejects if it could not start). */
  readonly ready: Promise<void>;
  started: boolean;
  dead: boolean;
  /** Model id → the weight version this worker holds. */
  readonly sent: Map<number, number>;
  readonly jobs: Map<number, Pending>;
}

export interface PoolModel {
  readonly id: number;
  readonly version: number;
  /** The model's image, read now (the caller checked the model is alive). */
  image(): ModelImage;
}

type NodeWorkerClass = new (url: URL | string, options?: object) => {
  postMessage(m: unknown, transfer?: readonly Transferable[]): void;
  on(type: string, h: (value: unknown) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
};

function nodeWorkers(): NodeWorkerClass | undefined {
  return builtin<{ Worker?: NodeWorkerClass }>('node:worker_threads')?.Worker;
}

/** A worker that has not reported ready after this long is given up (a script that is not simdnn's
 *  worker would otherwise leave its calls waiting forever). */
const START_TIMEOUT_MS = 20_000;

const text = (e: unknown): string => {
  const m = (e as { message?: unknown })?.message;
  return typeof m === 'string' && m !== '' ? m : String(e);
};

/** Start one worker and wire its messages and failures to `on`. */
function spawn(source: WorkerSource, on: { message(m: FromWorker): void; failure(reason: string): void }): Handle {
  if (typeof source === 'function') {
    const w = source() as Partial<Worker> | null;
    if (!w || typeof w.postMessage !== 'function' || typeof w.addEventListener !== 'function') {
      throw new SimdnnError('INVALID_ARGUMENT', 'init({ worker }): the factory must return a Worker (with postMessage and addEventListener)');
    }
    return browserHandle(w as Worker, on);
  }
  const NodeWorker = nodeWorkers();
  if (NodeWorker) {
    const w = new NodeWorker(source);
    w.on('message', (m) => on.message(m as FromWorker));
    w.on('error', (e) => on.failure(text(e)));
    w.on('messageerror', (e) => on.failure(`a message could not be read: ${text(e)}`));
    w.on('exit', (code) => on.failure(`the worker exited (code ${String(code)})`));
    return {
      post: (m, transfer) => w.postMessage(m, transfer),
      terminate: () => void w.terminate(),
      hold: (held) => (held ? w.ref() : w.unref()),
    };
  }
  if (typeof Worker !== 'function') throw new Error('this environment has no Worker');
  return browserHandle(new Worker(source, { type: 'module' }), on);
}

function browserHandle(w: Worker, on: { message(m: FromWorker): void; failure(reason: string): void }): Handle {
  w.addEventListener('message', (e) => on.message((e as MessageEvent).data as FromWorker));
  w.addEventListener('error', (e) => {
    const ev = e as ErrorEvent;
    on.failure(ev.message ? `${ev.message}${ev.filename ? ` (${ev.filename})` : ''}` : 'the worker script failed to load or threw');
  });
  w.addEventListener('messageerror', () => on.failure('a message could not be read'));
  return { post: (m, transfer) => w.postMessage(m, transfer ?? []), terminate: () => w.terminate(), hold: () => {} };
}

export class Pool {
  readonly #slots: Array<Slot | undefined>;
  readonly #module: CompiledWasm;
  readonly #maxPages: number;
  readonly #source: WorkerSource;
  /** Shared mode: the runtime's shared memory, which every worker's instance imports. */
  readonly #memory: object | undefined;
  #job = 1;
  #closed = false;
  /** The calls in flight (close() waits for them). */
  readonly #inflight = new Set<Promise<unknown>>();
  /** Why workers cannot be used here (a worker could not start): calls then run on one thread. */
  unavailable: string | undefined;

  constructor(size: number, module: CompiledWasm, maxPages: number, source: WorkerSource, memory?: object) {
    this.#slots = new Array<Slot | undefined>(size).fill(undefined);
    this.#memory = memory;
    this.#module = module;
    this.#maxPages = maxPages;
    this.#source = source;
  }

  get size(): number {
    return this.#slots.length;
  }

  #slot(i: number): Slot {
    const existing = this.#slots[i];
    if (existing && !existing.dead) return existing;
    let settle!: { resolve(): void; reject(e: unknown): void };
    const ready = new Promise<void>((resolve, reject) => { settle = { resolve, reject }; });
    ready.catch(() => {}); // observed by run(); never an unhandled rejection
    const slot: Slot = {
      handle: undefined as unknown as Handle, ready, started: false, dead: false, sent: new Map(), jobs: new Map(),
    };
    const die = (reason: string) => {
      if (slot.dead) return;
      slot.dead = true;
      if (this.#slots[i] === slot) this.#slots[i] = undefined;
      const err = new SimdnnError(
        'WORKER_FAILED',
        slot.started
          ? `a worker of the pool stopped while it computed this call: ${reason}. The pool starts a new one on the next call`
          : `a worker could not start: ${reason}`,
      );
      settle.reject(err);
      for (const p of slot.jobs.values()) p.reject(err);
      slot.jobs.clear();
      try { slot.handle?.terminate(); } catch { /* already gone */ }
    };
    let handle: Handle;
    try {
      handle = spawn(this.#source, {
        message: (m) => {
          if (m.t === 'ready') { slot.started = true; settle.resolve(); this.#hold(slot); return; }
          if (m.t === 'fail' && m.job < 0) { die(m.message); return; }
          const p = slot.jobs.get(m.job);
          if (!p) return;
          slot.jobs.delete(m.job);
          this.#hold(slot);
          if (m.t === 'done') p.resolve(m);
          else p.reject(new SimdnnError(m.code === 'OUT_OF_MEMORY' ? 'OUT_OF_MEMORY' : 'WORKER_FAILED', `in a worker of the pool: ${m.message}`));
        },
        failure: die,
      });
    } catch (err) {
      // No Worker here (workerd), a CSP that forbids workers, a bad URL: a start failure.
      die(text(err));
      return slot;
    }
    (slot as { handle: Handle }).handle = handle;
    handle.post({ t: 'init', module: this.#module, maxPages: this.#maxPages, ...(this.#memory ? { memory: this.#memory } : {}) });
    const timer = setTimeout(() => die(`it did not report ready within ${START_TIMEOUT_MS / 1000} s (is ${String(this.#source)} simdnn's dist/worker.js?)`), START_TIMEOUT_MS);
    (timer as { unref?: () => void }).unref?.();
    void ready.then(() => clearTimeout(timer), () => clearTimeout(timer));
    this.#slots[i] = slot;
    return slot;
  }

  /** Keep the process alive only while a worker is starting or has work. */
  #hold(slot: Slot): void {
    if (!slot.dead) slot.handle.hold(!slot.started || slot.jobs.size > 0);
  }

  /**
   * Run `parts[i]` (rows × inputs floats each, transferred) on worker i; resolves with each part's
   * outputs in order. Rejects with WORKER_FAILED when a worker stops meanwhile.
   */
  run(model: PoolModel, parts: Float32Array[], rows: readonly number[]): Promise<Float32Array[]> {
    return this.#track(() => this.#run(model, parts, rows));
  }

  /**
   * Shared mode: run slice i of a forward pass on worker i, every pointer into the shared memory.
   * Settles only when every slice has settled (so the caller may then free what they write into),
   * rejecting with the first failure.
   */
  exec(jobs: readonly Exec[]): Promise<void> {
    return this.#all(jobs.map((exec) => (job: number): ToWorker => ({ t: 'exec', job, exec }))).then(() => {});
  }

  /**
   * Shared mode: job i of a training step on worker i (src/train/parallel.ts runJob); resolves with
   * each slice's mean loss once every job has settled, rejecting with the first failure (`onFail`
   * hears of each at once: a worker waiting at a barrier for one that failed needs the step abandoned).
   */
  train(slices: readonly SliceJob[], onFail?: (err: unknown) => void): Promise<number[]> {
    return this.#all(slices.map((slice) => (job: number): ToWorker => ({ t: 'train', job, slice })), onFail).then((done) => done.map((d) => d.value ?? NaN));
  }


  /** Message i to worker i; settles when every one has settled (so the caller may then free what
   *  they write into), rejecting with the first failure; `onFail` hears of each failure at once. */
  #all(messages: ReadonlyArray<(job: number) => ToWorker>, onFail?: (err: unknown) => void): Promise<Done[]> {
    return this.#track(async () => {
      const slots = messages.map((_, i) => this.#slot(i));
      // Workers that have started get their messages now, before this returns (see Runtime#usePool).
      if (!slots.every((s) => s.started && !s.dead)) await this.#ready(slots);
      const results = await Promise.allSettled(slots.map((slot, i) => {
        const done = this.#post(slot, messages[i]!);
        if (onFail) done.catch(onFail);
        return done;
      }));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return results.map((r) => (r as PromiseFulfilledResult<Done>).value);
    });
  }

  #track<T>(f: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new SimdnnError('WORKER_FAILED', 'the pool was closed'));
    const call = f();
    const settled = call.then(() => {}, () => {});
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
    return call;
  }

  /** Wait until these workers have started. A worker that never started (a 404, a CSP refusing
   *  workers) makes the whole pool unavailable: the caller then computes on one thread. */
  async #ready(slots: Slot[]): Promise<void> {
    await Promise.all(slots.map((s) => s.ready)).catch((err: unknown) => {
      if (slots.some((s) => !s.started)) this.unavailable = err instanceof Error ? err.message : String(err);
      throw err;
    });
  }

  /** Send one job to a worker; settles with its reply. */
  #post(slot: Slot, message: (job: number) => ToWorker, transfer?: Transferable[]): Promise<Done> {
    if (slot.dead) return Promise.reject(new SimdnnError('WORKER_FAILED', 'a worker of the pool stopped before this call reached it'));
    const job = this.#job++;
    const done = new Promise<Done>((resolve, reject) => slot.jobs.set(job, { resolve, reject }));
    this.#hold(slot);
    slot.handle.post(message(job), transfer);
    return done;
  }

  async #run(model: PoolModel, parts: Float32Array[], rows: readonly number[]): Promise<Float32Array[]> {
    const slots = parts.map((_, i) => this.#slot(i));
    await this.#ready(slots);
    let image: ModelImage | undefined;
    const results = slots.map((slot, i) => {
      if (!slot.dead && slot.sent.get(model.id) !== model.version) {
        image ??= model.image();
        slot.handle.post({ t: 'model', id: model.id, image });
        slot.sent.set(model.id, model.version);
      }
      const x = parts[i]!;
      return this.#post(slot, (job) => ({ t: 'run', job, id: model.id, batch: rows[i]!, x }), [x.buffer]).then((d) => d.out!);
    });
    return Promise.all(results);
  }

  /** Forget a model in every worker (it was disposed). */
  drop(id: number): void {
    for (const slot of this.#slots) {
      if (slot && !slot.dead && slot.sent.delete(id)) slot.handle.post({ t: 'drop', id });
    }
  }

  /** Wait for the calls in flight, then end every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#inflight]);
    const slots = this.#slots.filter((s): s is Slot => s !== undefined);
    for (const slot of slots) {
      slot.dead = true;
      try { slot.handle.terminate(); } catch { /* already gone */ }
    }
    this.#slots.fill(undefined);
  }
}
