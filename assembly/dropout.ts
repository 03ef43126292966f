// Inverted dropout (training only; predict never calls it).
//
// dropout_f32(out, inp, n, seed, threshold, scale, first): out[i] = inp[i]·m[first + i] for i < n,
//   where m[j] = scale if hash(j, seed) ≥ threshold (unsigned) else 0, and
//   hash(i, seed) = mix(mix(i) ^ seed), mix = lowbias32 (Chris Wellons' 32-bit integer hash:
//   x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16).
//   The caller passes threshold = ⌊rate·2³²⌋ and scale = 1/(1 − rate): each element is kept with
//   probability 1 − rate and scaled so the expected value is unchanged (PyTorch's and Keras'
//   inverted dropout). The mask is a pure function of (i, seed): the backward pass calls this same
//   kernel on the output gradient with the same seed (dx = dy·m), so no mask is stored. `first`
//   is the index of out[0] in the whole batch: a slice of rows computed apart (a worker of the
//   pool) gets exactly the mask the whole batch would give those rows. A
//   multiplication, not a select: NaN and ±Infinity times 0 give NaN, as in PyTorch (x·mask).
//   out may equal inp. Tail: full-vector loads (the arena's padding), lane stores; nothing past
//   out[n−1] is written. see: https://nullprogram.com/blog/2018/07/31/ (lowbias32)

import { storeFirst } from './lanes';

@inline function mix(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** out = inp·mask(seed); see the file header for the contract. */
export function dropout_f32(out: usize, inp: usize, n: i32, seed: u32, threshold: u32, scale: f32, first: u32): void {
  const s = i32x4.splat(seed);
  const t = i32x4.splat(threshold);
  const keep = f32x4.splat(scale);
  const four = i32x4.splat(4);
  let idx = i32x4.add(i32x4(0, 1, 2, 3), i32x4.splat(first));
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const m = v128.and(i32x4.ge_u(mix(v128.xor(mix(idx), s)), t), keep);
    storeFirst(out + o, f32x4.mul(v128.load(inp + o), m), n - i);
    idx = i32x4.add(idx, four);
  }
}
