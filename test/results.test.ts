// Results returned as new arrays. In Node, large ones (≥ 4096 floats) come from memory that is
// not zero-filled first (Buffer.allocUnsafeSlow): every value must still be the computed one, and
// the array must own exactly its buffer (a transfer moves the result and nothing else).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/node.js';
import { runtime, SIMD } from './runtime.js';

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});

/** Leave freed memory full of a recognisable pattern (NaN bits) for the allocator to hand out again. */
function dirtyTheHeap(bytes: number): void {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;
  for (let i = 0; i < 8; i++) {
    const junk = B ? B.allocUnsafeSlow(bytes) : new Uint8Array(bytes);
    junk.fill(0xff);
  }
}

function randomInputs(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 16 - 8;
  });
}

const SIZES = [4095, 4096, 4097, 16391, 100003];

describe(`large results (${SIMD} binary)`, () => {
  it('activate / softmax: every value of a new result is the computed one', () => {
    for (const n of SIZES) {
      dirtyTheHeap(n * 4);
      const x = randomInputs(n, n);
      const relu = nn.activate('relu', x);
      expect(relu.length).toBe(n);
      for (let i = 0; i < n; i++) if (relu[i] !== Math.max(0, x[i]!)) expect.fail(`relu n=${n} [${i}] = ${relu[i]}, x = ${x[i]}`);
      // Into a zero-filled array: the same bits.
      for (const [name, fresh, into] of [
        ['sigmoid', nn.sigmoid(x), nn.activate('sigmoid', x, undefined, new Float32Array(n))],
        ['softmax', nn.softmax(x, 1), nn.softmax(x, 1, new Float32Array(n))],
      ] as const) {
        expect(new Uint32Array(fresh.buffer, fresh.byteOffset, n), `${name} n=${n}`).toEqual(new Uint32Array(into.buffer, into.byteOffset, n));
      }
    }
  });

  it('predict: every value of a new result is the computed one', () => {
    const inputs = 7, units = 33;
    const weights = randomInputs(inputs * units, 5);
    using model = nn.dense({ inputs, units, weights, bias: randomInputs(units, 6), activation: 'tanh' });
    for (const batch of [124, 125, 3031]) {
      dirtyTheHeap(batch * units * 4);
      const x = randomInputs(batch * inputs, batch);
      const fresh = model.predict(x, batch);
      const into = model.predictInto(x, new Float32Array(batch * units), batch);
      expect(new Uint32Array(fresh.buffer), `batch ${batch}`).toEqual(new Uint32Array(into.buffer));
      expect(fresh.some(Number.isNaN)).toBe(false);
    }
  });

  it('a result owns exactly its buffer, so transferring it moves nothing else', () => {
    for (const n of [10, 5000]) {
      const y = nn.relu(randomInputs(n, 1));
      expect(y.byteOffset).toBe(0);
      expect(y.buffer.byteLength).toBe(n * 4);
      const copy = Array.from(y);
      const moved = structuredClone(y, { transfer: [y.buffer] });
      expect(y.length).toBe(0); // detached
      expect(Array.from(moved)).toEqual(copy);
    }
  });
});
