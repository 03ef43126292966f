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

// @ts-expect-error predict takes numbers, not strings
fromJson.predict(['1']);
// @ts-expect-error an unknown init option
await init({ maxMemory: 1 });

nn.dispose();
