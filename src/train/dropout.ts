// Inverted dropout while training: which seed each mask uses, and the kernel's threshold and scale.
// The mask itself is a pure function of (element index, seed), computed by dropout_f32 in both the
// forward and the backward pass (assembly/dropout.ts), so nothing is stored between them.

/** Mixed into the model's seed for trainStep's masks (fit's masks use fit's seed). */
export const TRAIN_STEP_STREAM = 0x7f4a7c15;

/** lowbias32 (the kernel's mix), in JavaScript: a 32-bit integer hash. */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The mask seed of one dropout layer in one step: a hash of the run's seed (the model's seed, or
 *  fit's shuffling seed), the step within it and the layer's index. The same three give the same
 *  mask on every engine. */
export function dropoutSeed(base: number, step: number, layer: number): number {
  return mix(mix(mix(base >>> 0) ^ (step >>> 0)) ^ Math.imul(layer + 1, 0x9e3779b9));
}

/** The kernel's arguments for a drop rate 0 ≤ rate < 1: an element is kept when its hash is at
 *  least `threshold` (probability 1 − threshold/2³² ≈ 1 − rate) and then multiplied by `scale`. */
export function dropoutParams(rate: number): { threshold: number; scale: number } {
  return { threshold: Math.min(2 ** 32 - 1, Math.floor(rate * 2 ** 32)), scale: Math.fround(1 / (1 - rate)) };
}
