import { SimdnnError } from './errors.js';
import type { Guard } from './ops.js';
import type { Arena } from './wasm/memory.js';

// `using` needs Symbol.dispose; Node 20.19 and current browsers have it, older engines get a
// registered symbol so `[Symbol.dispose]()` still names a method.
export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/**
 * What an owning object holds, kept apart from the object itself so that the object can be
 * garbage-collected while the runtime still knows which blocks to free: the registry and the
 * finalizer reference this record, never the object.
 */
interface Holding {
  /** Byte offsets of the blocks this object owns. */
  blocks: number[];
  /** What it is ("model"), for the leak warning. */
  readonly what: string;
  /** Stack at construction (a string: a captured structured trace would keep the object alive). */
  readonly site: string | undefined;
}

/** process.env.NODE_ENV === 'production', written out in full so bundlers that define it replace
 *  it; false where `process` does not exist (browsers without such a define). */
function production(): boolean {
  try {
    return process.env.NODE_ENV === 'production';
  } catch {
    return false;
  }
}

/** The stack where an object is being constructed, without simdnn's own constructor frames, as a
 *  string. Formatted now (10–30 µs in Node, more under test runners that source-map stacks): a
 *  lazily formatted trace would keep the object alive through its frames' receivers, so the
 *  finalizer could never run. */
function creationSite(ctor: Function): string | undefined {
  const holder: { stack?: string } = {};
  const capture = (Error as { captureStackTrace?: (target: object, fn?: Function) => void }).captureStackTrace;
  if (typeof capture === 'function') capture(holder, ctor);
  else holder.stack = new Error().stack;
  const stack = holder.stack;
  if (typeof stack !== 'string') return undefined;
  // V8 starts with an "Error" line; SpiderMonkey and JavaScriptCore start with the first frame.
  return stack.replace(/^Error[^\n]*\n/, '');
}

/**
 * Keeps the live owning objects of one runtime, for `nn.memory()`, and the safety net for objects
 * that are garbage-collected without `dispose()`: their memory is freed then, and the first such
 * object of the runtime is reported once with console.warn (with the stack where it was created,
 * unless NODE_ENV is 'production').
 */
export class Registry {
  /** One record per live owning object (not the objects themselves: they stay collectable). */
  readonly live = new Set<Holding>();
  /** Record creation stacks (off in production: see creationSite for the cost). */
  readonly captureSites = !production();
  #warned = false;
  readonly #finalizer: FinalizationRegistry<Holding> | undefined =
    typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((h) => this.#collected(h)) : undefined;

  /** The runtime's memory; undefined once the runtime is disposed (so that it can be collected). */
  arena: Arena | undefined;

  constructor(arena: Arena, readonly guard: Guard) {
    this.arena = arena;
  }

  /** @internal the runtime is being disposed: forget every object without touching memory (the
   *  whole memory goes at once) and stop the safety net. */
  close(): void {
    for (const holding of this.live) {
      this.#finalizer?.unregister(holding);
      holding.blocks = [];
    }
    this.live.clear();
    this.arena = undefined;
  }

  /** @internal */
  track(owner: object, holding: Holding): void {
    this.live.add(holding);
    this.#finalizer?.register(owner, holding, holding);
  }

  /** @internal free a record's blocks and forget it (dispose, or the finalizer). */
  release(holding: Holding): void {
    if (!this.live.delete(holding)) return;
    this.#finalizer?.unregister(holding);
    const blocks = holding.blocks;
    holding.blocks = [];
    for (const ptr of blocks) this.arena!.release(ptr);
  }

  #collected(holding: Holding): void {
    // Finalizers run between tasks, never inside a call; but not on a closed runtime either.
    if (!this.live.has(holding) || !this.arena) return;
    let bytes = 0;
    try {
      for (const ptr of holding.blocks) bytes += this.arena.sizeOf(ptr);
      this.release(holding);
    } catch {
      return; // a finalizer must never throw; nothing better to do with a corrupt record
    }
    if (this.#warned) return;
    this.#warned = true;
    const where = holding.site
      ? `It was created at:\n${holding.site}`
      : 'Its creation site is not recorded when NODE_ENV is "production".';
    console.warn(
      `simdnn: a ${holding.what} was garbage-collected without dispose(); its ${bytes} bytes of WebAssembly ` +
        `memory were freed late, by a safety net. Call dispose() (or declare it with \`using\`) when you are ` +
        `done with it. This warning is shown once per runtime. ${where}`,
    );
  }
}

/**
 * Something that owns blocks of WebAssembly memory. `dispose()` frees them (idempotent); any other
 * use afterwards throws SimdnnError('DISPOSED'). An object that is garbage-collected without
 * dispose() has its memory freed by the registry's finalizer (with a one-time warning).
 */
export abstract class Resource implements Disposable {
  readonly #holding: Holding;
  readonly #registry: Registry;
  /** What this is, for error messages ("model"). */
  readonly #what: string;
  #disposed = false;

  protected constructor(registry: Registry, what: string) {
    this.#registry = registry;
    this.#what = what;
    this.#holding = {
      blocks: [],
      what,
      site: registry.captureSites ? creationSite(new.target) : undefined,
    };
    registry.track(this, this.#holding);
  }

  /** Allocate `floats` float32 values owned by this object (freed by dispose). */
  protected own(floats: number): number {
    const ptr = this.#registry.arena!.allocF32(floats);
    this.#holding.blocks.push(ptr);
    return ptr;
  }

  /** Like own(), for the first of `sizes` that fits (see Arena.allocF32First). */
  protected ownFirst(sizes: readonly number[]): { ptr: number; index: number } {
    const got = this.#registry.arena!.allocF32First(sizes);
    this.#holding.blocks.push(got.ptr);
    return got;
  }

  /** Free one block allocated with own() before dispose (for buffers that are replaced). */
  protected disown(ptr: number): void {
    const blocks = this.#holding.blocks;
    const i = blocks.indexOf(ptr);
    if (i >= 0) {
      blocks.splice(i, 1);
      this.#registry.arena!.release(ptr);
    }
  }

  /**
   * Start a public call: throws DISPOSED if this object or its runtime was disposed, and
   * REENTRANT_CALL if another call of the same runtime is running (this one was reached from caller
   * code inside it: a getter, a Proxy trap). Pair with `leave()` in a `finally`.
   */
  protected enter(op: string): void {
    const guard = this.#registry.guard;
    this.#check(op, guard);
    if (guard.busy) throw reentrant(`${this.#what}.${op}`);
    guard.busy = true;
  }

  /** End a public call started with enter(). */
  protected leave(): void {
    this.#registry.guard.busy = false;
  }

  /** Throws DISPOSED if this object (or its runtime) was disposed. */
  protected alive(op: string): void {
    this.#check(op, this.#registry.guard);
  }

  #check(op: string, guard: Guard): void {
    if (this.#disposed || guard.closed) {
      const whose = this.#disposed ? `this ${this.#what} was disposed` : `its runtime was disposed (nn.dispose())`;
      throw new SimdnnError('DISPOSED', `${this.#what}.${op}: ${whose}; create a new one`);
    }
  }

  /** Whether dispose() has been called (on this object or on its runtime). */
  get disposed(): boolean {
    return this.#disposed || this.#registry.guard.closed;
  }

  /** Free this object's WebAssembly memory. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    if (this.#registry.guard.busy) throw reentrant(`${this.#what}.dispose`);
    this.free();
  }

  /** dispose() from inside a call of this runtime (a constructor that failed half-way). */
  protected free(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#registry.guard.closed) return;
    const busy = this.inUse();
    if (!busy) this.#registry.release(this.#holding);
    else void busy.then(() => { if (!this.#registry.guard.closed) this.#registry.release(this.#holding); });
  }

  /** A promise while other threads may still write into this object's blocks: dispose() then frees
   *  them when it settles (the object is disposed at once). */
  protected inUse(): Promise<unknown> | undefined {
    return undefined;
  }

  /** `using model = nn.sequential(spec)` disposes it at the end of the scope. */
  [disposeSymbol](): void {
    this.dispose();
  }
}

/** The error for a call that re-enters a runtime from inside one of its own calls. */
export function reentrant(op: string): SimdnnError {
  return new SimdnnError(
    'REENTRANT_CALL',
    `${op}: called while another simdnn call of the same runtime is running (from a getter, a Proxy trap or ` +
      `a callback inside its arguments); nothing was done. Finish converting your arguments before calling simdnn`,
  );
}
