// Input validation in bulk.
//
// first_nonfinite_f32(ptr, n): the index of the first NaN or ±Infinity among the n floats at ptr,
// or -1 when all are finite. Reads whole vectors up to the next multiple of 4 floats (the arena
// pads every allocation by 16 bytes) but only reports indices below n.

export function first_nonfinite_f32(ptr: usize, n: i32): i32 {
  // x − x is 0 for every finite x and NaN for NaN and ±Infinity, so one compare finds both.
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = ptr + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const bad = v128.or(
      v128.or(f32x4.ne(f32x4.sub(a, a), zero), f32x4.ne(f32x4.sub(b, b), zero)),
      v128.or(f32x4.ne(f32x4.sub(c, c), zero), f32x4.ne(f32x4.sub(d, d), zero)),
    );
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    const x = load<f32>(ptr + (<usize>i << 2));
    if (x - x != 0) return i;
  }
  return -1;
}
