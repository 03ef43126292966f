// nn.load, nn.loadOnnx, nn.loadTfjs and nn.readSafetensors on every committed fixture, against the
// outputs the exporting frameworks stored beside them; model.save() round trips; hostile sources.
// Runs in Node and the browsers (fixtures are read with fs in Node and fetched from vite in browsers).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Sequential } from '../src/node.js';
import { SimdnnError } from '../src/errors.js';
import { IN_BROWSER, runtime, SIMD } from './runtime.js';
import { expectClose, type Cases } from './io/run.js';
import { BAD_ONNX, code, fixtureBytes, fixtureJson, fixtureUrl } from './load-fixtures.js';

/** TF.js fixtures written by the tensorflowjs converter into a folder of their own. */
const tfjsPath = (name: string) => (name.endsWith('_converter') ? `tfjs/${name}/model.json` : `tfjs/${name}.json`);

/** How many times the 16 stored rows are repeated for the large batch. */
const REPEAT = 64;

function repeat(a: Float32Array, times: number): Float32Array {
  const out = new Float32Array(a.length * times);
  for (let i = 0; i < times; i++) out.set(a, i * a.length);
  return out;
}

/** The model's outputs for batch 1 and for 16 × REPEAT rows, against the stored outputs. */
function check(model: Sequential, cases: Cases, name: string): void {
  const x = Float32Array.from(cases.x.flat());
  const rows = cases.x.length;
  const want = Float32Array.from(cases.cases[name]!.y.flat());
  const outs = want.length / rows;
  expect(model.outputs).toBe(outs);
  expectClose(model.predict(x.subarray(0, model.inputs), 1), want.subarray(0, outs), 1e-5, `${name} batch 1`);
  expectClose(model.predict(repeat(x, REPEAT), rows * REPEAT), repeat(want, REPEAT), 1e-5, `${name} batch ${rows * REPEAT}`);
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

let nn: Runtime;
let onnxCases: Cases;
let tfjsCases: Cases;
beforeAll(async () => {
  nn = await runtime();
  onnxCases = await fixtureJson<Cases>('onnx/cases.json');
  tfjsCases = await fixtureJson<Cases>('tfjs/cases.json');
});

/** Run and dispose. */
async function using(model: Promise<Sequential> | Sequential, f: (m: Sequential) => void): Promise<void> {
  const m = await model;
  try {
    f(m);
  } finally {
    m.dispose();
  }
}

describe(`ONNX fixtures through nn.load(bytes) and nn.loadOnnx (${SIMD} binary)`, () => {
  it('every fixture matches the stored framework outputs (batch 1 and a large batch)', async () => {
    const names = Object.keys(onnxCases.cases).filter((n) => !n.endsWith('.safetensors'));
    expect(names.length).toBeGreaterThan(30);
    const before = nn.memory().objects;
    for (const name of names) {
      const c = onnxCases.cases[name]!;
      const bytes = await fixtureBytes(`onnx/${name}.onnx`);
      const externalData = c.externalData ? { [c.externalData]: await fixtureBytes(`onnx/${c.externalData}`) } : undefined;
      await using(nn.load(bytes, { externalData }), (m) => check(m, onnxCases, name));
      await using(nn.loadOnnx(bytes.buffer as ArrayBuffer, { externalData }), (m) => check(m, onnxCases, name));
    }
    expect(nn.memory().objects).toBe(before);
  });

  it('graphs in the shape of PyTorch\'s dynamo exporter (hand-built, see make_dynamo_fixtures.py) load and match', async () => {
    const names = Object.keys(onnxCases.cases).filter((n) => n.startsWith('dynamo_'));
    expect(names.sort()).toEqual(['dynamo_act_opset18', 'dynamo_functions_opset18', 'dynamo_gelu_opset20', 'dynamo_mlp_opset18', 'dynamo_unopt_opset18']);
    for (const name of names) {
      await using(nn.load(await fixtureBytes(`onnx/${name}.onnx`)), (m) => {
        check(m, onnxCases, name);
        expect(m.inputs, name).toBe(6);
      });
    }
  });

  it('the refused graphs are typed errors, through both calls', async () => {
    for (const name of BAD_ONNX) {
      const bytes = await fixtureBytes(`onnx/${name}.onnx`);
      expect(await code(nn.load(bytes)), name).toMatch(/^(UNSUPPORTED_MODEL|INVALID_MODEL): /);
      expect(await code(nn.loadOnnx(bytes)), name).toMatch(/^(UNSUPPORTED_MODEL|INVALID_MODEL): /);
    }
  });

  it('options are checked: unknown keys, input/output names', async () => {
    const bytes = await fixtureBytes('onnx/torch_mlp_opset13.onnx');
    expect(await code(nn.loadOnnx(bytes, { outputs: 'y' } as never))).toMatch(/^INVALID_ARGUMENT: loadOnnx: unknown option 'outputs'; expected input, output, externalData/);
    expect(await code(nn.loadOnnx(bytes, { output: 3 } as never))).toMatch(/^INVALID_ARGUMENT: loadOnnx: options\.output must be a string/);
    expect(await code(nn.load(bytes, { wieghts: [] } as never))).toMatch(/^INVALID_ARGUMENT: load: unknown option 'wieghts'/);
    expect(await code(nn.loadOnnx('model.onnx' as never))).toMatch(/^INVALID_ARGUMENT: loadOnnx: bytes must be an ArrayBuffer or a Uint8Array/);
    expect(await code(nn.load(await fixtureBytes('onnx/torch_mlp_external.onnx')))).toMatch(/^UNSUPPORTED_MODEL: .*stored outside the model, in "torch_mlp_external\.onnx\.data"; pass that file's bytes as options\.externalData/);
  });
});

describe(`TF.js fixtures through nn.load and nn.loadTfjs (${SIMD} binary)`, () => {
  it('every fixture matches TF.js (weights given as shards, and as one buffer)', async () => {
    for (const name of Object.keys(tfjsCases.cases)) {
      const path = tfjsPath(name);
      const jsonBytes = await fixtureBytes(path);
      const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as { weightsManifest: Array<{ paths: string[] }> };
      const folder = path.slice(0, path.lastIndexOf('/') + 1);
      const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fixtureBytes(folder + p)));
      await using(nn.load(jsonBytes, { weights: shards }), (m) => check(m, tfjsCases, name));
      await using(nn.loadTfjs(json, shards), (m) => check(m, tfjsCases, name));
      await using(nn.loadTfjs(jsonBytes, shards), (m) => check(m, tfjsCases, name));
    }
  });

  it('model.json as bytes without its weights says to pass options.weights', async () => {
    const message = await code(nn.load(await fixtureBytes('tfjs/tfjs_seq_uint8.json')));
    expect(message).toMatch(/^INVALID_ARGUMENT: load: this TF\.js model\.json came without a location, so its 2 weight file\(s\) \("tfjs_seq_uint8\.group1-shard1of2\.bin"/);
  });
});

describe(`safetensors (${SIMD} binary)`, () => {
  it('a state dict: nn.readSafetensors + nn.sequential(spec, { tensors }) matches PyTorch; nn.load says how', async () => {
    const bytes = await fixtureBytes('safetensors/torch_mlp.safetensors');
    const tensors = await nn.readSafetensors(bytes);
    expect([...tensors].map(([k, t]) => `${k}:${t.dtype}[${t.shape}]`)).toEqual([
      '0.weight:F16[8,6]', '0.bias:F32[8]', '2.weight:BF16[8,8]', '2.bias:F32[8]', '5.weight:F32[4,8]', '5.bias:F64[4]',
    ]);
    expect([...tensors.values()].every((t) => t.data instanceof Float32Array)).toBe(true);
    const spec = {
      layers: [
        { weights: '0.weight', bias: '0.bias', activation: 'relu' },
        { weights: '2.weight', bias: '2.bias', activation: 'relu6' },
        { weights: '5.weight', bias: '5.bias', activation: 'softmax' },
      ],
    };
    await using(nn.sequential(spec, { tensors }), (m) => check(m, onnxCases, 'torch_mlp.safetensors'));
    expect(await code(nn.load(bytes))).toMatch(/^UNSUPPORTED_MODEL: load: this safetensors file holds tensors \("0\.weight", .*no simdnn model spec.*nn\.readSafetensors/);
  });

  it('save() → nn.load(bytes | ArrayBuffer | Blob | Response) is bit-identical, for imported models too', async () => {
    const imported = await nn.load(await fixtureBytes('onnx/torch_bn_first_opset13.onnx'));
    try {
      expect(imported.layers.map((l) => l.type)).toContain('batchNorm');
      const saved = imported.save();
      const x = Float32Array.from(onnxCases.x.flat());
      const y = imported.predict(x, onnxCases.x.length);
      for (const source of [saved, saved.slice().buffer, new Blob([saved.slice() as Uint8Array<ArrayBuffer>]), new Response(saved.slice() as Uint8Array<ArrayBuffer>)]) {
        await using(nn.load(source), (m) => {
          expect(bits(m.predict(x, onnxCases.x.length))).toEqual(bits(y));
          expect(m.toJSON()).toEqual(imported.toJSON());
        });
      }
    } finally {
      imported.dispose();
    }
  });

  it('a simdnn JSON spec loads as bytes, with the tensors it names from options', async () => {
    const spec = { format: 'simdnn', version: 1, inputs: 2, layers: [{ units: 1, weights: 'w', bias: [0.5] }] };
    await using(nn.load(new TextEncoder().encode(JSON.stringify(spec)), { tensors: { w: { shape: [1, 2], data: [2, 3] } } }), (m) => {
      expect(Array.from(m.predict([1, 1]))).toEqual([5.5]);
    });
  });
});

describe(`hostile sources are INVALID_MODEL (or INVALID_ARGUMENT) at once, and disturb nothing (${SIMD} binary)`, () => {
  it('bodies that fail, bytes that are no model, headers that lie', async () => {
    const model = nn.sequential({ inputs: 2, layers: [{ units: 2, weights: [1, 2, 3, 4], activation: 'relu' }] });
    try {
      const before = nn.memory();
      const erroring = new Response(new ReadableStream({ pull(c) { c.error(new Error('network gone')); } }));
      expect(await code(nn.load(erroring))).toMatch(/^INVALID_MODEL: load: the body of "the Response" cannot be read \((network gone|Failed to fetch)\)/);
      expect(await code(nn.load(new Blob(['hello, not a model'])))).toMatch(/^INVALID_MODEL: load: 18 bytes that are no model simdnn reads/);
      expect(await code(nn.load(new Uint8Array(0)))).toMatch(/^INVALID_MODEL/);
      // A safetensors header claiming 2^40 bytes.
      const lie = new Uint8Array(64);
      new DataView(lie.buffer).setUint32(4, 256, true);
      lie.set(new TextEncoder().encode('{"a":{}}'), 8);
      expect(await code(nn.load(lie))).toMatch(/^INVALID_MODEL/);
      expect(await code(nn.readSafetensors(lie))).toMatch(/^INVALID_MODEL: safetensors: the header claims 1099511627776 bytes/);
      expect(await code(nn.load(new Response('{"format":"graph-model","modelTopology":{}}')))).toMatch(/^UNSUPPORTED_MODEL: load: this is a TF\.js graph model/);
      expect(await code(nn.load(new Response('{"layers": [{ "units": 0 }]}')))).toMatch(/^INVALID_SPEC/);
      expect(await code(nn.load(new Response('not found', { status: 404 })))).toMatch(/^INVALID_MODEL: load: .* answered HTTP 404/);
      expect(await code(nn.load(42 as never))).toMatch(/^INVALID_ARGUMENT: load: source must be a path or URL/);
      expect(await code(nn.load({ url: 'x' } as never))).toMatch(/^INVALID_ARGUMENT/);
      // A saved file whose spec is broken, or names a tensor that is not there.
      const saved = model.save();
      // The spec (first in the header) names layers.9.bias instead of layers.0.bias; same length.
      const broken = saved.slice();
      const at = new TextDecoder('latin1').decode(broken).indexOf('layers.0.bias');
      broken[at + 7] = 0x39;
      expect(await code(nn.load(broken))).toMatch(/^INVALID_SPEC: layers\[0\]\.bias: names tensor "layers\.9\.bias", which is not among the tensors given/);
      expect(nn.memory()).toEqual(before);
      expect(Array.from(model.predict([1, 1]))).toEqual([3, 7]);
    } finally {
      model.dispose();
    }
  });

  it('a detached buffer is INVALID_ARGUMENT; the caller\'s bytes are copied before parsing', async () => {
    const bytes = await fixtureBytes('onnx/torch_mlp_opset13.onnx');
    const p = nn.loadOnnx(bytes);
    bytes.fill(0); // after the call: the model was read from a copy
    await using(p, (m) => check(m, onnxCases, 'torch_mlp_opset13'));
    const buf = new ArrayBuffer(16);
    const view = new Uint8Array(buf);
    structuredClone(buf, { transfer: [buf] });
    expect(await code(nn.load(view))).toMatch(/^INVALID_ARGUMENT: load: source is a Uint8Array\(0\) whose ArrayBuffer was detached/);
    expect(await code(nn.loadOnnx(buf))).toMatch(/^INVALID_ARGUMENT: loadOnnx: bytes is a detached ArrayBuffer/);
  });

  it('a disposed runtime rejects with DISPOSED', async () => {
    const { createRuntime } = await import('./runtime.js');
    const other = await createRuntime();
    other.dispose();
    expect(await code(other.load(new Uint8Array(8)))).toMatch(/^DISPOSED/);
    expect(await code(other.readSafetensors(new Uint8Array(8)))).toMatch(/^DISPOSED/);
  });
});

describe.runIf(IN_BROWSER)(`nn.load(url) in the browser (${SIMD} binary)`, () => {
  it('an .onnx, a model.json with its shards beside it, and a saved file (blob: URL)', async () => {
    await using(nn.load(fixtureUrl('onnx/torch_act_a_opset17.onnx')), (m) => check(m, onnxCases, 'torch_act_a_opset17'));
    await using(nn.load(fixtureUrl('onnx/torch_act_a_opset17.onnx').href), (m) => check(m, onnxCases, 'torch_act_a_opset17'));
    await using(nn.load(fixtureUrl('tfjs/tfjs_seq_float16.json')), (m) => check(m, tfjsCases, 'tfjs_seq_float16'));
    await using(nn.load(fixtureUrl('tfjs/keras3_converter/model.json')), (m) => check(m, tfjsCases, 'keras3_converter'));
    await using(nn.load(fixtureUrl('onnx/torch_mlp_external.onnx')), (m) => check(m, onnxCases, 'torch_mlp_external'));
    const model = await nn.load(fixtureUrl('onnx/torch_bn_opset13.onnx'));
    try {
      const url = URL.createObjectURL(new Blob([model.save()]));
      const x = Float32Array.from(onnxCases.x.flat());
      await using(nn.load(url), (m) => expect(bits(m.predict(x, 16))).toEqual(bits(model.predict(x, 16))));
      URL.revokeObjectURL(url);
    } finally {
      model.dispose();
    }
    expect(await code(nn.load(fixtureUrl('onnx/no-such-file.onnx')))).toMatch(/^INVALID_MODEL: load: .* answered HTTP 404/);
  });
});
