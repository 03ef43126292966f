import { describe, expect, it, beforeAll } from 'vitest';
import type { Runtime } from '../src/node.js';
import { rand, refSoftmax, worst } from './reference.js';
import { runtime, SIMD } from './runtime.js';
import { EPS, LOG_SOFTMAX_TOLERANCE, SOFTMAX_TOLERANCE } from './tolerances.js';

const SIZES = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1023];

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});

describe(`softmax / logSoftmax (${SIMD} binary)`, () => {
  for (const log of [false, true]) {
    const name = log ? 'logSoftmax' : 'softmax';
    const fn = (x: Float32Array, cols?: number, out?: Float32Array) => (log ? nn.logSoftmax(x, cols, out) : nn.softmax(x, cols, out));
    // Softmax values are in [0, 1]; log-softmax values are compared relative to their magnitude.
    const { abs, rel } = log ? LOG_SOFTMAX_TOLERANCE : SOFTMAX_TOLERANCE;

    it(`${name}: rows × cols for cols in ${SIZES.join(',')} against float64`, () => {
      for (const cols of SIZES) {
        for (const rows of [1, 2, 3, 5]) {
          const x = rand(rows * cols, cols * 31 + rows, -10, 10);
          const y = fn(x, cols);
          const w = worst(y, refSoftmax(x, cols, log), abs, rel, x);
          expect(w.ratio, `${rows}×${cols}: ${w.actual} vs ${w.expected}`).toBeLessThanOrEqual(1);
          if (!log) {
            for (let r = 0; r < rows; r++) {
              const s = y.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0);
              expect(Math.abs(s - 1)).toBeLessThan(cols * EPS + 1e-6);
            }
          }
        }
      }
    });

    it(`${name}: inputs near 1e4 and ±3e38 give no NaN`, () => {
      const x = Float32Array.of(10000, 10001, 10002, 9999, -3e38, 3e38, 0, 1);
      const y = fn(x, 4);
      expect(y.some(Number.isNaN)).toBe(false);
      expect(worst(y, refSoftmax(x, 4, log), abs, rel).ratio).toBeLessThanOrEqual(1);
    });

    it(`${name}: NaN poisons its row only; +Infinity takes the mass`, () => {
      const x = Float32Array.of(1, NaN, 2, 3, /* row 2 */ 1, Infinity, Infinity, 0);
      const y = fn(x, 4);
      expect(y.subarray(0, 4).every(Number.isNaN)).toBe(true);
      const ref = refSoftmax(x, 4, log);
      expect(Array.from(y.subarray(4))).toEqual(Array.from(ref.subarray(4), Math.fround));
    });

    it(`${name}: empty input, out parameter, unaligned input, wrong shapes`, () => {
      expect(fn(new Float32Array(0)).length).toBe(0);
      const big = rand(18, 5);
      const x = big.subarray(1, 17);
      const out = new Float32Array(16);
      expect(fn(x, 4, out)).toBe(out);
      expect(Array.from(out)).toEqual(Array.from(fn(x.slice(), 4)));
      expect(() => fn(x, 5)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
      expect(() => fn(x, 4, new Float32Array(3))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
      expect(() => fn(x, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    });
  }

  it('activate("softmax") treats the input as one row', () => {
    const x = rand(10, 2);
    expect(Array.from(nn.activate('softmax', x))).toEqual(Array.from(nn.softmax(x)));
  });
});
