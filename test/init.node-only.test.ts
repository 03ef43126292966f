import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRuntime, detectFeatures, init } from '../src/node.js';

const bytes = (name: string) => readFileSync(new URL(`../build/simdnn-${name}.wasm`, import.meta.url));

describe('init()', () => {
  it('is memoised per options', async () => {
    const a = await init({ simd: 'baseline' });
    expect(await init({ simd: 'baseline' })).toBe(a);
    expect(await createRuntime({ simd: 'baseline' })).not.toBe(a);
  });

  it('init({ wasm: { baseline, relaxed } }) lets simd: "auto" choose, or uses the one given', async () => {
    const relaxed = detectFeatures().relaxedSimd;
    const both = await createRuntime({ wasm: { baseline: bytes('simd'), relaxed: bytes('relaxed') } });
    expect(both.features.binary).toBe(relaxed ? 'relaxed' : 'baseline');
    const onlyBaseline = await createRuntime({ wasm: { baseline: bytes('simd') } });
    expect(onlyBaseline.features.binary).toBe('baseline');
    expect(Array.from(onlyBaseline.relu(Float32Array.of(-1, 2)))).toEqual([0, 2]);
    await expect(createRuntime({ simd: 'baseline', wasm: { relaxed: bytes('relaxed') } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', message: expect.stringContaining('wasm.baseline'),
    });
    await expect(createRuntime({ wasm: {} as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a failed init is forgotten, so the same call can be retried', async () => {
    const options = { simd: 'baseline' as const, maximumMemory: 3 << 20 };
    const validate = WebAssembly.validate;
    WebAssembly.validate = () => false;
    try {
      await expect(init(options)).rejects.toMatchObject({ code: 'NO_SIMD' });
    } finally {
      WebAssembly.validate = validate;
    }
    const nn = await init(options);
    expect(nn.features.binary).toBe('baseline');
    expect(await init(options)).toBe(nn);
  });

  it('without SIMD support it throws NO_SIMD', async () => {
    const validate = WebAssembly.validate;
    WebAssembly.validate = () => false;
    try {
      await expect(createRuntime()).rejects.toMatchObject({ name: 'SimdnnError', code: 'NO_SIMD', message: expect.stringContaining('SIMD') });
    } finally {
      WebAssembly.validate = validate;
    }
  });
});

describe('runtime methods', () => {
  it('can be destructured and passed around', async () => {
    const nn = await createRuntime({ simd: 'baseline' });
    const { relu, softmax, sequential, memory } = nn;
    expect(Array.from(relu(Float32Array.of(-1, 2)))).toEqual([0, 2]);
    expect(softmax(Float32Array.of(0, 0)).every((v) => v === 0.5)).toBe(true);
    const m = sequential({ layers: [{ inputs: 1, units: 1, weights: [2] }] });
    expect(Array.from(m.predict([3]))).toEqual([6]);
    m.dispose();
    expect(memory().objects).toBe(0);
  });
});
