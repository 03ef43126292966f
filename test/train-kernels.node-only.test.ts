// The compiled training kernels really are SIMD in both binaries (the `.wat` beside each .wasm):
// multiply-adds on f32x4 in the dense backward loops (relaxed_madd in the relaxed build), vector
// exponentials in the losses, vector square roots and divisions in the optimizers, float64x2 sums.
// Reads build files, so it runs in Node only.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);

describe('compiled training kernels', () => {
  for (const [binary, madd] of [['simd', /f32x4\.mul[\s\S]{0,200}f32x4\.add|f32x4\.add[\s\S]{0,200}f32x4\.mul/], ['relaxed', /f32x4\.relaxed_madd/]] as const) {
    const wat = readFileSync(new URL(`build/simdnn-${binary}.wat`, root), 'utf8');
    const func = (name: string) => {
      const start = wat.indexOf(`\n (func $assembly/${name} `);
      expect(start, `${name} in ${binary}.wat`).toBeGreaterThan(0);
      const end = wat.indexOf('\n (func ', start + 10);
      return wat.slice(start, end < 0 ? undefined : end);
    };
    /** The innermost `loop` blocks of a function (the hot loops). */
    const innerLoops = (body: string) => body.split(/\n\s*loop /).slice(1).filter((l) => !/\n\s*loop /.test(l));

    it(`${binary}: dense backward multiply-adds f32x4 tiles in its inner loops (relaxed_madd when relaxed)`, () => {
      const dx = func('gemm_backward/backwardInput');
      const dw = func('gemm_backward/backwardParams');
      expect(innerLoops(dx).some((l) => madd.test(l) && /v128\.load/.test(l)), 'dX loop').toBe(true);
      expect(innerLoops(dw).some((l) => madd.test(l) && /v128\.load32_splat/.test(l)), 'dW loop').toBe(true);
      expect(dx).toMatch(/i8x16\.shuffle/); // hsum4
      if (binary === 'simd') expect(dx + dw).not.toMatch(/relaxed/);
    });

    it(`${binary}: losses are vectorised`, () => {
      expect(func('loss/softmax_cross_entropy_f32')).toMatch(/i32x4\.shl/); // vector e^x
      expect(func('loss/sigmoid_binary_cross_entropy_f32')).toMatch(/f32x4\.div[\s\S]*f64x2\.add/);
      expect(func('loss/mse_f32')).toMatch(/f64x2\.promote_low_f32x4[\s\S]*f64x2\.mul/);
    });

    it(`${binary}: optimizers are vectorised`, () => {
      const adam = func('optim/adamLoop');
      expect(adam).toMatch(/f32x4\.sqrt/);
      expect(adam).toMatch(/f32x4\.div/);
      expect(func('optim/rmsprop_f32')).toMatch(/f32x4\.sqrt/);
      expect(func('optim/sgd_f32')).toMatch(madd);
      expect(func('optim/sum_squares_f32')).toMatch(/f64x2\.mul/);
    });
  }
});
