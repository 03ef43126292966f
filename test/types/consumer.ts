// Compiled (never run) by test/types.node-only.test.ts: the published types as a user sees them.
// Lines marked @ts-expect-error must fail to compile; the test fails if one compiles.
import { init, SimdnnError, type ModelSpec, type Runtime } from 'simdnn';
import spec from './model.json' with { type: 'json' };

const nn: Runtime = await init({ simd: 'auto', maximumMemory: 1 << 26 });

// A JSON-imported spec, without a cast.
const fromJson = nn.sequential(spec);
const y: Float32Array = fromJson.predict([0, 1]);
fromJson.predict(Float64Array.of(0, 1));
fromJson.predict(new Float32Array(4), 2);
void y;

// A spec written in code.
const written: ModelSpec = { layers: [{ inputs: 3, units: 2, weights: new Float32Array(6), activation: { name: 'leakyRelu', alpha: 0.2 } }] };
{
  using model = nn.sequential(written);
  const { predict } = model;
  predict([1, 2, 3]);
  const json: ModelSpec = model.toJSON();
  void json;
}

try {
  nn.relu(new Float32Array(3));
} catch (err) {
  if (err instanceof SimdnnError && err.code === 'SHAPE_MISMATCH') console.log(err.message);
}

// Activation names and parameters are checked where they are literals.
nn.activate('gelu', new Float32Array(2), { approximate: 'tanh' });
nn.activate('Hardtanh', new Float32Array(2), { min_val: -2 });
nn.activate({ name: 'leakyRelu', alpha: 0.1 }, new Float32Array(2));
const dynamicName: string = process.argv[2] ?? 'relu';
nn.activate(dynamicName, new Float32Array(2)); // a dynamic name: checked at run time
// @ts-expect-error a typo in an activation name
nn.activate('sigmoud', new Float32Array(2));
// @ts-expect-error a parameter the activation does not have
nn.activate('gelu', new Float32Array(2), { alpha: 1 });
// @ts-expect-error a typo in a spec's activation
nn.sequential({ layers: [{ inputs: 2, units: 1, weights: [1, 2], activation: 'relux' }] });
// @ts-expect-error a typo in a spec's activation object
nn.dense({ inputs: 2, units: 1, weights: [1, 2], activation: { name: 'leakyRelu', alpah: 0.2 } });
// @ts-expect-error an unknown layer type
nn.sequential({ layers: [{ type: 'conv', activation: 'relu' }] });
// @ts-expect-error an unknown weights layout
nn.dense({ inputs: 2, units: 1, weights: [1, 2], weightsLayout: 'rows' });
nn.dense({ inputs: 2, units: 1, weights: [[1], [2]], weightsLayout: 'in-out', activation: 'logistic' });

// The layer types the importers produce, tensors named in a spec, save and load.
const layered: ModelSpec = {
  inputs: 2,
  layers: [
    { type: 'flatten' },
    { units: 2, weights: 'fc.weight', bias: 'fc.bias' },
    { type: 'batchNorm', mean: [0, 0], variance: Float32Array.of(1, 1), scale: 'bn.scale', epsilon: 1e-5 },
    { type: 'dropout', rate: 0.5 },
  ],
};
{
  using m2 = nn.sequential(layered, { tensors: { 'fc.weight': { shape: [2, 2], data: [1, 0, 0, 1] }, 'fc.bias': [0, 0], 'bn.scale': [1, 1] } });
  const saved: Uint8Array = m2.save();
  using loaded = await nn.load(saved);
  using fromUrl = await nn.load(new URL('file:///models/model.onnx'), { output: 'probabilities' });
  using fromOnnx = await nn.loadOnnx(saved, { externalData: { 'model.onnx.data': new Uint8Array(1) } });
  const tensors = await nn.readSafetensors(saved);
  using fromTensors = nn.sequential({ layers: [{ weights: 'layers.1.weight' }] }, { tensors });
  void [loaded, fromUrl, fromOnnx, fromTensors, tensors.get('layers.1.weight')?.shape];
}
nn.sequential({ layers: [{ type: 'batchNorm', mean: [0], variance: [1], epsilon: 1e-3 }, { type: 'dropout' }] });
// @ts-expect-error a typo in a new layer type
nn.sequential({ layers: [{ type: 'batchnorm', mean: [0], variance: [1], epsilon: 0 }] });
// @ts-expect-error an unknown load option
await nn.load('model.onnx', { wieghts: [] });
// @ts-expect-error an unknown sequential option
nn.sequential(layered, { tensor: {} });

// @ts-expect-error predict takes numbers, not strings
fromJson.predict(['1']);
// @ts-expect-error an unknown init option
await init({ maxMemory: 1 });

nn.dispose();
