// Lane-exact helpers shared by the kernels: masks for the first n lanes, stores of the first n lanes
// (every kernel's tail), and float64 sums of float32 lanes. All @inline.

/** Eight all-ones lanes then eight zero lanes: 32 bytes read at byte offset 4·(8 − n) give, as two
 *  vectors, a mask of the first n lanes (n = 0..8) of an 8-lane pair; the first vector alone is the
 *  mask of the first min(n, 4) lanes. */
const FIRST_LANES = memory.data<u32>([
  0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
  0, 0, 0, 0, 0, 0, 0, 0,
]);

/** Mask of lanes j < n (n = 0..8) of the 8-lane pair; `half` 0 for lanes 0..3, 16 for lanes 4..7. */
@inline export function firstLanes(n: i32, half: usize): v128 {
  return v128.load(FIRST_LANES + (<usize>(8 - n) << 2) + half);
}

/** Store the first `count` lanes of v at ptr (count ≥ 4: the whole vector; count ≤ 0: nothing). */
@inline export function storeFirst(ptr: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(ptr, v);
    return;
  }
  if (count > 0) v128.store32_lane(ptr, v, 0);
  if (count > 1) v128.store32_lane(ptr, v, 1, 4);
  if (count > 2) v128.store32_lane(ptr, v, 2, 8);
}

/** Lanes 0, 1 of v as float64. */
@inline export function lowF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Lanes 2, 3 of v as float64. */
@inline export function highF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** Sum of the two float64 lanes. */
@inline export function sumF64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Sum of the four float32 lanes, in float64. */
@inline export function sumF32Lanes(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) +
    (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** [Σa, Σb, Σc, Σd]: the horizontal sums of four vectors as one vector (a 4×4 transpose folded into
 *  three additions: six shuffles that V8 emits as unpck/movlh/movhl). */
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7)); // a0+a2 b0+b2 a1+a3 b1+b3
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}
