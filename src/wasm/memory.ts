import { SimdnnError } from '../errors.js';

const PAGE = 65536;

/** The parts of a `WebAssembly.Memory` the arena uses. Declared here, structurally, so that the
 *  published .d.ts files need neither the DOM lib nor a WebAssembly one (`lib: ["ES2022"]`,
 *  `types: ["node"]` compiles them). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(delta: number): number;
}
/** Every block starts 16-byte aligned and ends with at least 16 spare bytes, so a SIMD kernel may
 *  load one full vector past the last element of any buffer (its tail) without leaving the block. */
const ALIGN = 16;
const PAD = 16;

/**
 * The arena: all of linear memory above the kernels' static data, owned by the TypeScript side.
 * First-fit over an address-ordered free list with coalescing, so freeing everything returns the
 * arena to one block. Memory only grows (WebAssembly memory never shrinks); when it grows, the old
 * ArrayBuffer is detached, so views are re-derived on every use (see `f32()`).
 */
export class Arena {
  /** Free blocks [offset, size], sorted by offset, never adjacent (coalesced). */
  private free: Array<[number, number]> = [];
  /** Live blocks: offset → size in bytes (including padding). */
  private readonly live = new Map<number, number>();
  /** End of the highest block ever handed out. */
  private top: number;
  private view: Float32Array;
  private liveBytes = 0;

  constructor(
    public memory: WasmMemory,
    readonly base: number,
    /** Upper bound in bytes (the memory's declared maximum). */
    readonly maxBytes: number,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
    this.view = new Float32Array(memory.buffer);
  }

  /** Continue in `memory`, a copy of this one's bytes (the runtime's move to shared memory when its
   *  worker pool starts): every block stays where it is. */
  adopt(memory: WasmMemory): void {
    this.memory = memory;
    this.view = new Float32Array(memory.buffer);
  }

  /** A Float32Array over the whole memory. Compared by buffer identity on every call because
   *  memory.grow detaches the previous buffer and a stale view would silently read zeros. */
  f32(): Float32Array {
    // memory.grow detaches the old buffer and every view on it reads as length 0: that check is a
    // field load, where comparing `memory.buffer` goes through a slow API getter on every call.
    if (this.view.length === 0) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /** Allocate room for `floats` float32 values (plus padding); returns the byte offset. */
  allocF32(floats: number): number {
    return this.alloc(floats * 4);
  }

  /**
   * Allocate the first of `sizes` (in floats, largest first) that fits: for buffers that grow,
   * amortised doubling when there is room, exactly what is required when there is not, so a
   * request that fits never fails because of the growth policy. Throws the last OUT_OF_MEMORY.
   */
  allocF32First(sizes: readonly number[]): { ptr: number; index: number } {
    for (let index = 0; ; index++) {
      try {
        return { ptr: this.allocF32(sizes[index]!), index };
      } catch (err) {
        if (index >= sizes.length - 1 || !(err instanceof SimdnnError) || err.code !== 'OUT_OF_MEMORY') throw err;
      }
    }
  }

  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new SimdnnError('INVALID_ARGUMENT', `allocation size must be a non-negative integer, received ${bytes}`);
    }
    const size = Math.ceil(bytes / ALIGN) * ALIGN + PAD;
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block[1] >= size) {
        const ptr = block[0];
        if (block[1] === size) this.free.splice(i, 1);
        else { block[0] += size; block[1] -= size; }
        return this.claim(ptr, size);
      }
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.maxBytes) {
      throw new SimdnnError(
        'OUT_OF_MEMORY',
        `cannot allocate ${bytes} bytes: WebAssembly memory would need ${end} bytes but its maximum is ` +
          `${this.maxBytes} (${this.liveBytes} bytes are live). Dispose unused models, or pass a larger ` +
          `maximumMemory to init()`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
        // A shared memory's old buffer is not detached by growing (it keeps its old length), so the
        // length check in f32() would not notice: take the grown buffer now.
        this.view = new Float32Array(this.memory.buffer);
      } catch (cause) {
        throw new SimdnnError(
          'OUT_OF_MEMORY',
          `cannot allocate ${bytes} bytes: growing WebAssembly memory from ${have} to ${end} bytes failed ` +
            `(${this.liveBytes} bytes are live)`,
          { cause },
        );
      }
    }
    this.top = end;
    return this.claim(ptr, size);
  }

  private claim(ptr: number, size: number): number {
    this.live.set(ptr, size);
    this.liveBytes += size;
    return ptr;
  }

  /** Free a block returned by alloc. Freeing an unknown offset throws (it would corrupt the arena). */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) {
      throw new SimdnnError('INVALID_ARGUMENT', `internal: release of unknown block at offset ${ptr}`);
    }
    this.live.delete(ptr);
    this.liveBytes -= size;
    // Insert in address order, merging with neighbours.
    const free = this.free;
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (free[mid]![0] < ptr) lo = mid + 1;
      else hi = mid;
    }
    let start = ptr;
    let end = ptr + size;
    const prev = free[lo - 1];
    const next = free[lo];
    if (prev && prev[0] + prev[1] === start) { start = prev[0]; lo--; free.splice(lo, 1); }
    if (next && next[0] === end) { end += next[1]; free.splice(lo, 1); }
    if (end === this.top) this.top = start; // give the tail back to the bump region
    else free.splice(lo, 0, [start, end - start]);
  }

  /** Size in bytes (padding included) of the live block at `ptr`, or 0 if there is none. */
  sizeOf(ptr: number): number {
    return this.live.get(ptr) ?? 0;
  }

  /**
   * Verify the arena's invariants and return a description of the first violation, or undefined.
   * For tests and debugging (O(blocks log blocks)): live and free blocks are 16-byte aligned, lie in
   * [base, top), never overlap and cover it exactly; free blocks are sorted and coalesced; the byte
   * count matches; top is within the memory.
   */
  check(): string | undefined {
    const start = Math.ceil(this.base / ALIGN) * ALIGN;
    const blocks: Array<[number, number, boolean]> = [];
    let bytes = 0;
    for (const [ptr, size] of this.live) { blocks.push([ptr, size, true]); bytes += size; }
    for (const [ptr, size] of this.free) blocks.push([ptr, size, false]);
    if (bytes !== this.liveBytes) return `live bytes ${this.liveBytes} but the blocks add up to ${bytes}`;
    for (let i = 1; i < this.free.length; i++) {
      const a = this.free[i - 1]!;
      const b = this.free[i]!;
      if (a[0] >= b[0]) return `free list not sorted at ${i}: ${a[0]} then ${b[0]}`;
      if (a[0] + a[1] === b[0]) return `free blocks at ${a[0]} and ${b[0]} are adjacent (not coalesced)`;
    }
    blocks.sort((a, b) => a[0] - b[0]);
    let at = start;
    for (const [ptr, size, live] of blocks) {
      if (ptr % ALIGN !== 0 || size % ALIGN !== 0 || size < PAD) return `block ${ptr}+${size} misaligned or too small`;
      if (ptr !== at) return ptr < at ? `block ${ptr} overlaps the one before (ends at ${at})` : `gap at ${at}..${ptr}`;
      if (!live && ptr + size === this.top) return `free block ${ptr}+${size} ends at top (not returned to the bump region)`;
      at = ptr + size;
    }
    if (at !== this.top) return `blocks end at ${at} but top is ${this.top}`;
    if (this.top > this.memory.buffer.byteLength || this.top > this.maxBytes) return `top ${this.top} past the memory`;
    return undefined;
  }

  /** Live block count and bytes (including alignment padding), and the memory's current size. */
  stats(): { blocks: number; bytes: number; heapBytes: number; freeBlocks: number } {
    return {
      blocks: this.live.size,
      bytes: this.liveBytes,
      heapBytes: this.memory.buffer.byteLength,
      freeBlocks: this.free.length,
    };
  }
}
