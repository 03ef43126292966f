// The synchronous importers of the `simdnn/load` subpath (src/io/load.ts, the same module nn.load
// imports lazily): each gives the model the async form gives, bit for bit, and the same errors.
import { describe, expect, it } from 'vitest';
import { SimdnnError } from '../src/errors.js';
import { loadOnnxSync, loadTfjsSync, readSafetensorsSync } from '../src/io/load.js';
import { fixtureBytes } from './load-fixtures.js';
import { runtime } from './runtime.js';

function same(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function probe(inputs: number, batch = 5): Float32Array {
  return Float32Array.from({ length: inputs * batch }, (_, i) => Math.sin(i * 0.77));
}

function thrown(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof SimdnnError ? `${err.code}: ${err.message}` : `not a SimdnnError: ${String(err)}`;
  }
  return 'no error';
}

describe('simdnn/load: synchronous importers', () => {
  it('loadOnnxSync builds the model nn.loadOnnx builds (PyTorch, scikit-learn, f16 fixtures)', async () => {
    const nn = await runtime();
    for (const name of ['torch_mlp_opset13', 'skl_mlp_classifier', 'torch_mlp_f16', 'torch_bn_opset17']) {
      const bytes = await fixtureBytes(`onnx/${name}.onnx`);
      const a = loadOnnxSync(nn, bytes);
      const b = await nn.loadOnnx(bytes);
      const x = probe(a.inputs);
      expect(same(a.predict(x, 5), b.predict(x, 5)), name).toBe(true);
      expect(a.toJSON()).toEqual(b.toJSON());
      a.dispose();
      b.dispose();
    }
  });

  it('loadTfjsSync and readSafetensorsSync match their async forms', async () => {
    const nn = await runtime();
    const json = await fixtureBytes('tfjs/tfjs_seq.json');
    const weights = await fixtureBytes('tfjs/tfjs_seq.weights.bin');
    const a = loadTfjsSync(nn, new TextDecoder().decode(json), weights);
    const b = await nn.loadTfjs(json, weights);
    const x = probe(a.inputs);
    expect(same(a.predict(x, 5), b.predict(x, 5))).toBe(true);
    a.dispose();
    b.dispose();

    const st = await fixtureBytes('safetensors/torch_mlp.safetensors');
    const sync = readSafetensorsSync(st);
    const async = await nn.readSafetensors(st);
    expect(sync.size).toBeGreaterThan(0);
    expect([...sync.keys()]).toEqual([...async.keys()]);
    expect(sync.metadata).toEqual(async.metadata);
    for (const [name, t] of sync) {
      expect(t.shape).toEqual(async.get(name)!.shape);
      expect(same(t.data, async.get(name)!.data), name).toBe(true);
    }
  });

  it('errors are typed: a missing runtime, bytes of the wrong type, a truncated file, unknown options', async () => {
    const nn = await runtime();
    const bytes = await fixtureBytes('onnx/torch_mlp_opset13.onnx');
    expect(thrown(() => loadOnnxSync(undefined as never, bytes))).toMatch(/^INVALID_ARGUMENT: loadOnnxSync: the first argument must be the runtime from init\(\), received undefined/);
    expect(thrown(() => loadOnnxSync(nn, 'model.onnx' as never))).toMatch(/^INVALID_ARGUMENT: loadOnnxSync: bytes must be an ArrayBuffer or a Uint8Array, received string/);
    expect(thrown(() => loadOnnxSync(nn, bytes.subarray(0, 100)))).toMatch(/^INVALID_MODEL: /);
    expect(thrown(() => loadOnnxSync(nn, bytes, { outputs: 'y' } as never))).toMatch(/^INVALID_ARGUMENT: loadOnnx: unknown option 'outputs'/);
    expect(thrown(() => readSafetensorsSync(new Uint8Array(4)))).toMatch(/^INVALID_MODEL: /);
    expect(thrown(() => loadTfjsSync(nn, '{'))).toMatch(/^(INVALID_MODEL|INVALID_ARGUMENT): /);
    // A Proxy of a Uint8Array is read through the engine's accessors (or refused), never trusted.
    const proxy = new Proxy(bytes, { get: (t, k) => (k === 'length' ? 1 << 30 : Reflect.get(t, k)) });
    expect(thrown(() => loadOnnxSync(nn, proxy))).not.toMatch(/^not a SimdnnError/);
    expect(nn.memory().objects).toBe(0);
  });
});
