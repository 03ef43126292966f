import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import type { Runtime } from '../../src/node.js';
import { onnxToSpec } from '../../src/io/onnx.js';
import { SimdnnError } from '../../src/errors.js';
import { runtime } from '../runtime.js';
import { FIXTURES, fixture, fixtureJson, runSpec, expectClose, type Cases } from './helpers.js';

const data = fixtureJson<Cases>('onnx/cases.json');
const X = Float32Array.from(data.x.flat());
const BATCH = data.x.length;
const files = readdirSync(FIXTURES + 'onnx').filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -5));

describe('ONNX fixtures match the exporting framework', () => {
  let nn: Runtime;
  beforeAll(async () => {
    nn = await runtime();
  });
  for (const name of files.filter((f) => !f.startsWith('bad_'))) {
    it(name, () => {
      const c = data.cases[name]!;
      expect(c, `no expected outputs for ${name}`).toBeDefined();
      const externalData = c.externalData ? { [c.externalData]: fixture(`onnx/${c.externalData}`) } : undefined;
      const r = onnxToSpec(fixture(`onnx/${name}.onnx`), { externalData });
      const want = Float32Array.from(c.y.flat());
      const outs = want.length / BATCH;
      expectClose(runSpec(nn, r.spec, X.subarray(0, data.x[0]!.length), 1), want.subarray(0, outs), 1e-5, `${name} batch 1`);
      expectClose(runSpec(nn, r.spec, X, BATCH), want, 1e-5, `${name} batch ${BATCH}`);
    });
  }
});

describe('ONNX fixtures: what the importer reports', () => {
  it('scikit-learn classifiers: the probabilities are imported, the label output is argmax over classes', () => {
    for (const name of ['skl_mlp_classifier', 'skl_mlp_binary']) {
      const c = data.cases[name]!;
      const r = onnxToSpec(fixture(`onnx/${name}.onnx`));
      expect(r.labels).toEqual({ output: 'label', argmax: true, classes: c.classes });
      expect(r.outputName).toBe('probabilities');
      // classes[argmax(probabilities)] is scikit-learn's predict().
      const y = Float32Array.from(c.y.flat());
      const k = c.classes!.length;
      const labels = Array.from({ length: BATCH }, (_, row) => {
        let best = 0;
        for (let j = 1; j < k; j++) if (y[row * k + j]! > y[row * k + best]!) best = j;
        return c.classes![best];
      });
      expect(labels).toEqual(c.labels);
    }
    const zipmap = onnxToSpec(fixture('onnx/skl_mlp_classifier.onnx'));
    expect(zipmap.outputs).toEqual([
      { name: 'label', kind: 'int64 tensor', imported: false },
      { name: 'output_probability', kind: 'sequence', imported: true },
    ]);
    expect(onnxToSpec(fixture('onnx/skl_mlp_classifier.onnx'), { output: 'output_probability' }).spec).toEqual(zipmap.spec);
    expect(onnxToSpec(fixture('onnx/skl_mlp_regressor.onnx')).labels).toBeUndefined();
  });

  it('options.output picks the label output: it is not a dense network, and says why', () => {
    const e = (() => { try { onnxToSpec(fixture('onnx/skl_mlp_classifier.onnx'), { output: 'label' }); } catch (err) { return err as SimdnnError; } })();
    expect(e?.code).toBe('UNSUPPORTED_MODEL');
    expect(e?.message).toMatch(/ArrayFeatureExtractor|ArgMax|Cast/);
  });

  it('external data: a clear error without the file, the model with it, INVALID_MODEL when it is short', () => {
    const bytes = fixture('onnx/torch_mlp_external.onnx');
    const e = (() => { try { onnxToSpec(bytes); } catch (err) { return err as SimdnnError; } })();
    expect(e?.code).toBe('UNSUPPORTED_MODEL');
    expect(e?.message).toMatch(/stored outside the model, in "torch_mlp_external\.onnx\.data"; pass that file's bytes as options\.externalData\["torch_mlp_external\.onnx\.data"\]/);
    const short = fixture('onnx/torch_mlp_external.onnx.data').subarray(0, 100);
    const e2 = (() => { try { onnxToSpec(bytes, { externalData: new Map([['torch_mlp_external.onnx.data', short]]) }); } catch (err) { return err as SimdnnError; } })();
    expect(e2?.code).toBe('INVALID_MODEL');
  });

  it('reports the producer, the opset and the input/output names', () => {
    const r = onnxToSpec(fixture('onnx/torch_mlp_opset17.onnx'));
    expect(r).toMatchObject({ inputName: 'input', outputName: 'output', opset: 17 });
    expect(r.producer).toMatch(/^pytorch 1\.13/);
  });
});

describe('graphs in the shape of PyTorch\'s dynamo exporter (hand-built by make_dynamo_fixtures.py, not torch exports)', () => {
  const act = (spec: ReturnType<typeof onnxToSpec>['spec']) =>
    spec.layers.map((l) => `${l.type}${'activation' in l && l.activation !== undefined ? `:${JSON.stringify(l.activation)}` : ''}`);
  it('map onto the layers the PyTorch modules are', () => {
    const gelu = '{"name":"gelu","approximate":"none"}';
    const tanh = '{"name":"gelu","approximate":"tanh"}';
    const expected: Record<string, string[]> = {
      dynamo_mlp_opset18: ['dense:"relu"', `dense:${gelu}`, 'dense:"softmax"'],
      dynamo_act_opset18: ['dense:"silu"', `dense:${tanh}`, 'dense:"hardSwish"', 'dense:"logSoftmax"'],
      // BatchNormalization after Transpose+MatMul+Add folds into the dense layer; after GELU it stays
      // (affine=False: scale and offset from Expand); Dropout and Identity vanish.
      dynamo_unopt_opset18: ['dense:"relu"', `dense:${gelu}`, 'batchNorm', 'dense:"softmax"'],
      dynamo_gelu_opset20: ['batchNorm', `dense:${gelu}`, `dense:${tanh}`, 'dense:"relu"', 'dense:"logSoftmax"'],
      dynamo_functions_opset18: [`dense:${gelu}`, `dense:${tanh}`, 'dense:"softmax"'],
    };
    expect(files.filter((f) => f.startsWith('dynamo_')).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, layers] of Object.entries(expected)) {
      const r = onnxToSpec(fixture(`onnx/${name}.onnx`));
      expect(act(r.spec), name).toEqual(layers);
      expect(r.opset, name).toBe(name.endsWith('20') ? 20 : 18);
      expect(r.producer, name).toMatch(/^pytorch 2\.\d/);
      expect(data.cases[name]!.producer, name).toMatch(/hand-built .* not a PyTorch export/);
    }
    expect(onnxToSpec(fixture('onnx/dynamo_mlp_opset18.onnx'))).toMatchObject({ inputName: 'x', outputName: 'softmax' });
    expect(onnxToSpec(fixture('onnx/dynamo_unopt_opset18.onnx'))).toMatchObject({ inputName: 'x', outputName: 'clone' });
  });

  it('a local function with a node simdnn does not compute is refused naming the function', () => {
    // dynamo_functions_opset18 with Erf renamed to an operator simdnn does not have, in the file's bytes.
    const bytes = fixture('onnx/dynamo_functions_opset18.onnx').slice();
    const text = new TextDecoder('latin1').decode(bytes);
    const at = text.indexOf('\u0022\u0003Erf'); // op_type field (4, bytes) of length 3
    expect(at).toBeGreaterThan(0);
    bytes.set(new TextEncoder().encode('Erg'), at + 2);
    const e = (() => { try { onnxToSpec(bytes); } catch (err) { return err as SimdnnError; } })();
    expect(e?.code).toBe('UNSUPPORTED_MODEL');
    expect(e?.message).toMatch(/node "node__aten_gelu_approximate_none_1\/node_Erf_3" \(Erg, in local function "pkg\.onnxscript\.torch_lib\._aten_gelu_approximate_none"\)/);
  });
});

describe('ONNX fixtures that must be refused', () => {
  const expected: Record<string, RegExp> = {
    bad_branch: /"\/a\/Gemm" \(Gemm\).*"\/b\/Gemm" \(Gemm\).*"\/Add" \(Add\) branch/,
    bad_layernorm_opset13: /"\/1\/ReduceMean" \(ReduceMean\)/,
    bad_layernorm_opset17: /"\/1\/LayerNormalization" \(LayerNormalization\) is not supported/,
    bad_conv: /"\/0\/Conv" \(Conv\) is not supported/,
    bad_flatten_rank4: /"\/0\/Flatten" \(Flatten\) flattens the rank-4 input/,
    bad_cycle: /cycle/,
    bad_two_inputs: /2 inputs \("x", "y"\)/,
  };
  for (const [name, message] of Object.entries(expected)) {
    it(name, () => {
      const e = (() => { try { onnxToSpec(fixture(`onnx/${name}.onnx`)); } catch (err) { return err as SimdnnError; } })();
      expect(e).toBeInstanceOf(SimdnnError);
      expect(e!.code).toBe('UNSUPPORTED_MODEL');
      expect(e!.message).toMatch(message);
    });
  }
});

describe('a PyTorch export cut at every byte', () => {
  for (const name of ['torch_mlp_opset13', 'torch_act_b_opset17']) {
    it(`${name}: every truncation is INVALID_MODEL or UNSUPPORTED_MODEL, quickly`, () => {
      const bytes = fixture(`onnx/${name}.onnx`);
      const t0 = performance.now();
      let slowest = 0;
      for (let len = 0; len < bytes.length; len++) {
        const t = performance.now();
        let code = 'no error';
        try {
          onnxToSpec(bytes.subarray(0, len));
        } catch (err) {
          code = err instanceof SimdnnError ? err.code : `not a SimdnnError: ${String(err)}`;
        }
        slowest = Math.max(slowest, performance.now() - t);
        expect(['INVALID_MODEL', 'UNSUPPORTED_MODEL'], `cut at ${len}`).toContain(code);
      }
      console.log(`${name}: ${bytes.length} truncations in ${(performance.now() - t0).toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms`);
    });
  }
});

describe('ONNX Runtime agrees (outputs stored when the fixtures were made)', () => {
  const ort = fixtureJson<{ version: string; cases: Record<string, { output: string; y: number[][] }> }>('onnx/ort.json');
  let nn: Runtime;
  beforeAll(async () => {
    nn = await runtime();
  });
  it('ran most fixtures', () => {
    expect(Object.keys(ort.cases).length).toBeGreaterThanOrEqual(30);
  });
  for (const [name, c] of Object.entries(ort.cases)) {
    it(`${name}: simdnn vs ONNX Runtime ${ort.version}, and the fixture's framework vs ONNX Runtime`, () => {
      const externalData = data.cases[name]!.externalData ? { [data.cases[name]!.externalData!]: fixture(`onnx/${data.cases[name]!.externalData}`) } : undefined;
      const spec = onnxToSpec(fixture(`onnx/${name}.onnx`), { externalData }).spec;
      const want = Float32Array.from(c.y.flat());
      expectClose(runSpec(nn, spec, X, BATCH), want, 1e-5, `${name} simdnn vs ORT`);
      expectClose(Float32Array.from(data.cases[name]!.y.flat()), want, 1e-5, `${name} framework vs ORT`);
    });
  }
});
