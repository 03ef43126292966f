// Node: results of 4096 floats or more come from Buffer.allocUnsafeSlow. When the engine refuses
// (past buffer.constants.MAX_LENGTH, 4 GiB on Node 20), activate and softmax say OUT_OF_MEMORY,
// like predict, instead of letting a RangeError escape.
import { describe, expect, it, vi } from 'vitest';
import { Buffer } from 'node:buffer';
import { createRuntime } from '../src/node.js';
import { SIMD } from './runtime.js';

describe(`results the engine cannot allocate (${SIMD} binary)`, () => {
  it('activate, softmax and predict: OUT_OF_MEMORY naming the size, the runtime still usable', async () => {
    const nn = await createRuntime({ simd: SIMD });
    const model = nn.dense({ inputs: 4096, units: 4096, weights: new Float32Array(4096 * 4096) });
    const x = new Float32Array(8192);
    const spy = vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation(() => {
      throw new RangeError('The value of "size" is out of range.');
    });
    try {
      for (const f of [() => nn.relu(x), () => nn.softmax(x, 4096), () => nn.activate('gelu', x), () => model.predict(x, 2)]) {
        expect(f).toThrow(expect.objectContaining({ name: 'SimdnnError', code: 'OUT_OF_MEMORY', message: expect.stringMatching(/cannot allocate 8192 floats/) }));
      }
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    expect(nn.relu(x).length).toBe(8192);
    nn.dispose();
  });
});
