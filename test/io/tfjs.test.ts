// TF.js model.json handling on synthetic models: manifests that do not add up, layers and graphs that
// are not supported, Keras spellings. Runs in Node and the browsers.
import { describe, expect, it } from 'vitest';
import { SimdnnError } from '../../src/errors.js';
import { tfjsToSpec } from '../../src/io/tfjs.js';
import type { ImportedDenseLayer } from '../../src/io/spec.js';

function fail(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof SimdnnError) return { code: err.code, message: err.message };
    return { code: `not a SimdnnError: ${String(err)}`, message: '' };
  }
  return { code: 'no error', message: '' };
}

const dense = (name: string, units: number, extra: Record<string, unknown> = {}) => ({ class_name: 'Dense', config: { name, units, activation: 'linear', use_bias: true, ...extra } });
const seq = (layers: unknown[], manifest: unknown[]) => ({
  format: 'layers-model',
  modelTopology: { class_name: 'Sequential', config: { name: 's', layers }, keras_version: 'tfjs-layers 4.22.0' },
  weightsManifest: [{ paths: ['w.bin'], weights: manifest }],
});
const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

// Dense 2 → 2: kernel [[1, 2], [3, 4]] ([in][units]), bias [0.5, -0.5].
const twoByTwo = seq(
  [dense('d', 2, { batch_input_shape: [null, 2] })],
  [{ name: 'd/kernel', shape: [2, 2], dtype: 'float32' }, { name: 'd/bias', shape: [2], dtype: 'float32' }],
);
const twoByTwoData = f32(1, 2, 3, 4, 0.5, -0.5);

describe('tfjsToSpec', () => {
  it('transposes the kernel to [units][inputs] and keeps the bias', () => {
    const spec = tfjsToSpec(twoByTwo, twoByTwoData);
    const d = spec.layers[0] as ImportedDenseLayer;
    expect(spec.inputs).toBe(2);
    expect(Array.from(d.weights)).toEqual([1, 3, 2, 4]);
    expect(Array.from(d.bias!)).toEqual([0.5, -0.5]);
  });

  it('matches weights by name even when the manifest lists them in another order', () => {
    const swapped = seq(twoByTwo.modelTopology.config.layers, [{ name: 'd/bias', shape: [2], dtype: 'float32' }, { name: 'd/kernel', shape: [2, 2], dtype: 'float32' }]);
    const d = tfjsToSpec(swapped, f32(0.5, -0.5, 1, 2, 3, 4)).layers[0] as ImportedDenseLayer;
    expect(Array.from(d.weights)).toEqual([1, 3, 2, 4]);
  });

  it('dequantizes uint8 (v·scale + min) and float16 weights', () => {
    const q = seq(twoByTwo.modelTopology.config.layers, [
      { name: 'd/kernel', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.5, original_dtype: 'float32' } },
      { name: 'd/bias', shape: [2], dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' } },
    ]);
    const d = tfjsToSpec(q, Uint8Array.of(0, 1, 2, 4, 0x00, 0x38, 0x00, 0xb8)).layers[0] as ImportedDenseLayer;
    expect(Array.from(d.weights)).toEqual([-1, 0, -0.5, 1]);
    expect(Array.from(d.bias!)).toEqual([0.5, -0.5]);
  });

  it('shards that do not add up to the manifest are INVALID_MODEL', () => {
    expect(fail(() => tfjsToSpec(twoByTwo, twoByTwoData.subarray(0, 20))).message).toMatch(/add up to 20 bytes but the manifest's weights need 24/);
    expect(fail(() => tfjsToSpec(twoByTwo, [twoByTwoData, new Uint8Array(4)])).message).toMatch(/lists 1 shard files .* but 2 buffers/);
    const big = seq(twoByTwo.modelTopology.config.layers, [{ name: 'd/kernel', shape: [2 ** 20, 2 ** 20], dtype: 'float32' }]);
    expect(fail(() => tfjsToSpec(big, twoByTwoData)).code).toBe('INVALID_MODEL');
    expect(fail(() => tfjsToSpec(twoByTwo, { 'other.bin': twoByTwoData })).message).toMatch(/no data for shard "w\.bin"/);
  });

  it('missing or misshapen weights are INVALID_MODEL', () => {
    const wrong = seq(twoByTwo.modelTopology.config.layers, [{ name: 'd/kernel', shape: [3, 2], dtype: 'float32' }, { name: 'd/bias', shape: [2], dtype: 'float32' }]);
    expect(fail(() => tfjsToSpec(wrong, f32(1, 2, 3, 4, 5, 6, 0, 0))).message).toMatch(/kernel has shape \[3, 2\], expected \[2, 2\]/);
    const missing = seq(twoByTwo.modelTopology.config.layers, [{ name: 'x/kernel', shape: [2, 2], dtype: 'float32' }]);
    expect(fail(() => tfjsToSpec(missing, f32(1, 2, 3, 4))).code).toBe('INVALID_MODEL');
  });

  it('an unsupported layer is UNSUPPORTED_MODEL naming it; so are rank > 2 inputs', () => {
    const conv = seq([{ class_name: 'Conv1D', config: { name: 'conv', filters: 2, batch_input_shape: [null, 8, 1] } }], []);
    expect(fail(() => tfjsToSpec(conv)).message).toMatch(/"conv" \(Conv1D\)/);
    const lstm = seq([dense('d', 2, { batch_input_shape: [null, 2] }), { class_name: 'LSTM', config: { name: 'rnn' } }],
      [{ name: 'd/kernel', shape: [2, 2], dtype: 'float32' }, { name: 'd/bias', shape: [2], dtype: 'float32' }]);
    const e = fail(() => tfjsToSpec(lstm, twoByTwoData));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toMatch(/"rnn" \(LSTM\) is not supported; simdnn imports InputLayer, Dense/);
    expect(fail(() => tfjsToSpec(seq([{ class_name: 'Activation', config: { name: 'a', activation: 'glu' } }], []))).message).toMatch(/activation "glu" is not supported/);
  });

  it('a functional model that branches is UNSUPPORTED_MODEL', () => {
    const layer = (name: string, cls: string, from: string[], config: Record<string, unknown> = {}) => ({
      name, class_name: cls, config: { name, ...config }, inbound_nodes: from.length ? [from.map((f) => [f, 0, 0, {}])] : [],
    });
    const model = {
      modelTopology: {
        class_name: 'Model',
        config: {
          layers: [
            layer('in', 'InputLayer', [], { batch_input_shape: [null, 2] }),
            layer('a', 'Activation', ['in'], { activation: 'relu' }),
            layer('b', 'Activation', ['in'], { activation: 'tanh' }),
            layer('sum', 'Add', ['a', 'b']),
          ],
          input_layers: [['in', 0, 0]], output_layers: [['sum', 0, 0]],
        },
      },
    };
    const e = fail(() => tfjsToSpec(model));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toMatch(/"sum" \(Add\) takes 2 inputs|feeds 2 layers/);
  });

  it('Keras spellings: ReLU max_value/negative_slope, LeakyReLU alpha or negative_slope, Softmax axis', () => {
    const acts = (layer: unknown) => tfjsToSpec(seq([{ class_name: 'InputLayer', config: { name: 'i', batch_input_shape: [null, 3] } }, layer], [])).layers[0];
    expect(acts({ class_name: 'ReLU', config: { name: 'r', max_value: 6 } })).toMatchObject({ activation: 'relu6' });
    expect(acts({ class_name: 'ReLU', config: { name: 'r', max_value: 2.5 } })).toMatchObject({ activation: { name: 'clip', min: 0, max: 2.5 } });
    expect(acts({ class_name: 'ReLU', config: { name: 'r', negative_slope: 0.1 } })).toMatchObject({ activation: { name: 'leakyRelu', alpha: 0.1 } });
    expect(acts({ class_name: 'LeakyReLU', config: { name: 'l' } })).toMatchObject({ activation: { name: 'leakyRelu', alpha: 0.3 } });
    expect(acts({ class_name: 'LeakyReLU', config: { name: 'l', negative_slope: 0.05 } })).toMatchObject({ activation: { name: 'leakyRelu', alpha: 0.05 } });
    expect(acts({ class_name: 'ELU', config: { name: 'e', alpha: 0.5 } })).toMatchObject({ activation: { name: 'elu', alpha: 0.5 } });
    expect(acts({ class_name: 'Activation', config: { name: 'a', activation: 'gelu_new' } })).toMatchObject({ activation: { name: 'gelu', approximate: 'tanh' } });
    expect(fail(() => acts({ class_name: 'Softmax', config: { name: 's', axis: 0 } })).code).toBe('UNSUPPORTED_MODEL');
  });

  it('not JSON, or a graph model, is refused clearly', () => {
    expect(fail(() => tfjsToSpec('{"modelTopology": ')).code).toBe('INVALID_MODEL');
    expect(fail(() => tfjsToSpec({ format: 'graph-model', modelTopology: { node: [] } })).code).toBe('UNSUPPORTED_MODEL');
    expect(fail(() => tfjsToSpec({ format: 'graph-model' })).message).toMatch(/graph model/);
    expect(fail(() => tfjsToSpec(42)).code).toBe('INVALID_ARGUMENT');
  });
});
