import { SimdnnError } from './errors.js';
import type { Arena } from './runtime/memory.js';

// `using` needs Symbol.dispose; Node 20.19 and current browsers have it, older engines get a
// registered symbol so `[Symbol.dispose]()` still names a method.
const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/** Keeps the set of live owning objects of one runtime, for `nn.memory()`. */
export class Registry {
  readonly live = new Set<Resource>();
  constructor(readonly arena: Arena) {}
}

/**
 * Something that owns blocks of WebAssembly memory. `dispose()` frees them (idempotent); any other
 * use afterwards throws SimdnnError('DISPOSED').
 */
export abstract class Resource implements Disposable {
  #blocks: number[] = [];
  #disposed = false;

  protected constructor(
    protected readonly registry: Registry,
    /** What this is, for error messages ("model", "tensor"). */
    private readonly what: string,
  ) {
    registry.live.add(this);
  }

  /** Allocate `floats` float32 values owned by this object (freed by dispose). */
  protected own(floats: number): number {
    const ptr = this.registry.arena.allocF32(floats);
    this.#blocks.push(ptr);
    return ptr;
  }

  /** Free one block allocated with own() before dispose (for buffers that are replaced). */
  protected disown(ptr: number): void {
    const i = this.#blocks.indexOf(ptr);
    if (i >= 0) {
      this.#blocks.splice(i, 1);
      this.registry.arena.release(ptr);
    }
  }

  /** Throws DISPOSED if this object was disposed. */
  protected alive(op: string): void {
    if (this.#disposed) {
      throw new SimdnnError('DISPOSED', `${this.what}.${op}: this ${this.what} was disposed; create a new one`);
    }
  }

  /** Whether dispose() has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Free this object's WebAssembly memory. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const ptr of this.#blocks) this.registry.arena.release(ptr);
    this.#blocks = [];
    this.registry.live.delete(this);
  }

  /** `using model = nn.sequential(spec)` disposes it at the end of the scope. */
  [disposeSymbol](): void {
    this.dispose();
  }
}
