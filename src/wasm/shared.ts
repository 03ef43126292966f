// The shared-memory variant of a simdnn binary, made from its bytes at load time: the same code with
// its imported memory declared `shared` (maximum 4 GiB), so one WebAssembly.Memory({ shared: true })
// can back the runtime and every worker of the pool. Nothing else changes: the functions, and so the
// results, are the binary's own. (A binary per variant would add two files, and the build time, for
// one flag in one import.) The data segments are written again by each instantiation: the same bytes,
// the kernels' read-only tables.

const LIMITS_SHARED = 0x03; // min and max present, shared
const MAX_PAGES = 65536;

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/**
 * The bytes of `wasm` with its one memory import made shared, or undefined when it has no memory
 * import of the expected form (then the caller keeps the non-shared binary). Reads only what the
 * bytes hold: every length is checked against the end.
 */
export function sharedVariant(wasm: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  let p = 8;
  const end = wasm.length;
  const read = (): number => {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (p >= end) throw new RangeError('truncated');
      const b = wasm[p++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
    throw new RangeError('LEB128 too long');
  };
  try {
    while (p < end) {
      const id = wasm[p++]!;
      const sizeAt = p;
      const size = read();
      const body = p;
      if (body + size > end) return undefined;
      if (id !== 2) {
        p = body + size;
        continue;
      }
      // The import section: find the memory import and rewrite its limits.
      const count = read();
      for (let i = 0; i < count; i++) {
        for (let s = 0; s < 2; s++) { const n = read(); p += n; } // module and field names
        const kind = wasm[p++];
        if (kind === 0) { read(); continue; } // function: type index
        if (kind === 1) { p++; const f = wasm[p++]!; read(); if (f & 1) read(); continue; } // table
        if (kind === 3) { p += 2; continue; } // global: type, mutability
        if (kind !== 2) return undefined;
        const limitsAt = p;
        const flags = wasm[p++]!;
        const min = read();
        if (flags & 1) read();
        if (flags & ~1) return undefined; // already shared, or 64-bit: not ours
        if (p > body + size) return undefined;
        const section = [
          ...wasm.subarray(body, limitsAt), LIMITS_SHARED, ...uleb(min), ...uleb(MAX_PAGES), ...wasm.subarray(p, body + size),
        ];
        const head = [...uleb(section.length), ...section];
        const after = wasm.subarray(body + size);
        const result = new Uint8Array(sizeAt + head.length + after.length);
        result.set(wasm.subarray(0, sizeAt), 0);
        result.set(head, sizeAt);
        result.set(after, sizeAt + head.length);
        return result;
      }
      return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
