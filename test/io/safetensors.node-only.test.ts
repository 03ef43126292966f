// A safetensors file of a PyTorch state_dict (F16, BF16, F64 and F32 tensors), resolved into a spec
// with specTensors and run on the real runtime against PyTorch's outputs.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/node.js';
import { readSafetensors, specTensors } from '../../src/io/safetensors.js';
import { runtime } from '../runtime.js';
import { fixture, fixtureJson, runSpec, expectClose, type Cases } from './helpers.js';

const data = fixtureJson<Cases>('onnx/cases.json');
const X = Float32Array.from(data.x.flat());
const BATCH = data.x.length;

describe('safetensors fixture (PyTorch state_dict)', () => {
  let nn: Runtime;
  beforeAll(async () => {
    nn = await runtime();
  });

  it('reads every dtype and the metadata', () => {
    const file = readSafetensors(fixture('safetensors/torch_mlp.safetensors'));
    expect([...file].map(([k, t]) => `${k}:${t.dtype}[${t.shape}]`)).toEqual([
      '0.weight:F16[8,6]', '0.bias:F32[8]', '2.weight:BF16[8,8]', '2.bias:F32[8]', '5.weight:F32[4,8]', '5.bias:F64[4]',
    ]);
    expect(file.metadata).toEqual({ format: 'pt', source: 'make_fixtures.py' });
  });

  it('specTensors + the runtime match PyTorch for batch 1 and 16', () => {
    const file = readSafetensors(fixture('safetensors/torch_mlp.safetensors'));
    const spec = specTensors({
      format: 'simdnn', version: 1,
      layers: [
        { weights: '0.weight', bias: '0.bias', activation: 'relu' },
        { weights: '2.weight', bias: '2.bias', activation: 'relu6' },
        { weights: '5.weight', bias: '5.bias', activation: 'softmax' },
      ],
    }, file);
    const want = Float32Array.from(data.cases['torch_mlp.safetensors']!.y.flat());
    const outs = want.length / BATCH;
    expectClose(runSpec(nn, spec, X.subarray(0, spec.inputs), 1), want.subarray(0, outs), 1e-5, 'batch 1');
    expectClose(runSpec(nn, spec, X, BATCH), want, 1e-5, `batch ${BATCH}`);
  });
});
