// nn.load of filesystem paths and file: URLs (Node reads them through the platform object), and a
// check that test/load.test.ts covers every committed fixture.
import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Runtime, Sequential } from '../src/node.js';
import { SimdnnError } from '../src/errors.js';
import { runtime, SIMD } from './runtime.js';
import { expectClose, type Cases } from './io/run.js';
import { BAD_ONNX, code } from './load-fixtures.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const onnxCases = JSON.parse(readFileSync(FIXTURES + 'onnx/cases.json', 'utf8')) as Cases;
const tfjsCases = JSON.parse(readFileSync(FIXTURES + 'tfjs/cases.json', 'utf8')) as Cases;

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});

function check(model: Sequential, cases: Cases, name: string): void {
  try {
    const x = Float32Array.from(cases.x.flat());
    expectClose(model.predict(x, cases.x.length), Float32Array.from(cases.cases[name]!.y.flat()), 1e-5, name);
  } finally {
    model.dispose();
  }
}

describe('the committed fixtures', () => {
  it('are all covered by test/load.test.ts (stored outputs, or a refusal)', () => {
    const onnx = readdirSync(FIXTURES + 'onnx').filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -5)).sort();
    expect(onnx).toEqual([...Object.keys(onnxCases.cases).filter((n) => !n.endsWith('.safetensors')), ...BAD_ONNX].sort());
    expect(readdirSync(FIXTURES + 'safetensors')).toEqual(['torch_mlp.safetensors']);
    const tfjs = readdirSync(FIXTURES + 'tfjs').filter((f) => f.endsWith('.json') && f !== 'cases.json').map((f) => f.slice(0, -5));
    expect([...tfjs, 'keras2_converter', 'keras3_converter'].sort()).toEqual(Object.keys(tfjsCases.cases).sort());
  });
});

describe(`nn.load of paths and file: URLs (${SIMD} binary)`, () => {
  it('an .onnx by absolute path, relative path and file: URL (string or URL)', async () => {
    const path = FIXTURES + 'onnx/torch_act_c_opset13.onnx';
    check(await nn.load(path), onnxCases, 'torch_act_c_opset13');
    check(await nn.load(relative(process.cwd(), path)), onnxCases, 'torch_act_c_opset13');
    check(await nn.load(pathToFileURL(path)), onnxCases, 'torch_act_c_opset13');
    check(await nn.load(pathToFileURL(path).href), onnxCases, 'torch_act_c_opset13');
  });

  it('an ONNX model with external data reads the data file from beside it', async () => {
    check(await nn.load(FIXTURES + 'onnx/torch_mlp_external.onnx'), onnxCases, 'torch_mlp_external');
  });

  it('a TF.js model.json reads its shards from beside it', async () => {
    for (const name of Object.keys(tfjsCases.cases)) {
      const path = name.endsWith('_converter') ? `tfjs/${name}/model.json` : `tfjs/${name}.json`;
      check(await nn.load(FIXTURES + path), tfjsCases, name);
    }
  });

  it('a saved model round trips through a file; a missing file is INVALID_MODEL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simdnn-load-'));
    try {
      const model = await nn.load(FIXTURES + 'onnx/torch_bn_first_opset17.onnx');
      const file = join(dir, 'model.safetensors');
      await writeFile(file, model.save());
      const again = await nn.load(file);
      const x = Float32Array.from(onnxCases.x.flat());
      expect(Array.from(again.predict(x, 16))).toEqual(Array.from(model.predict(x, 16)));
      model.dispose();
      again.dispose();
      expect(await code(nn.load(join(dir, 'missing.onnx')))).toMatch(/^INVALID_MODEL: load: cannot read "file:.*missing\.onnx" \(ENOENT/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('TF.js weight paths and ONNX external data locations that leave the model\'s folder are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simdnn-load-'));
    try {
      const json = JSON.parse(readFileSync(FIXTURES + 'tfjs/tfjs_seq.json', 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
      for (const path of ['../secret.bin', '/etc/passwd', 'https://example.com/w.bin', 'sub/../../x.bin']) {
        json.weightsManifest[0]!.paths = [path];
        await writeFile(join(dir, 'model.json'), JSON.stringify(json));
        expect(await code(nn.load(join(dir, 'model.json'))), path).toMatch(/^INVALID_MODEL: TF\.js weights path .* leaves the folder of "model\.json"/);
      }
      // An ONNX external data location that climbs out (same length as the real one: the protobuf stays valid).
      const onnx = readFileSync(FIXTURES + 'onnx/torch_mlp_external.onnx');
      const real = Buffer.from('torch_mlp_external.onnx.data');
      const escape = Buffer.from('../' + 'x'.repeat(real.length - 3));
      let at = onnx.indexOf(real);
      expect(at).toBeGreaterThan(0);
      for (; at >= 0; at = onnx.indexOf(real, at)) escape.copy(onnx, at);
      await writeFile(join(dir, 'm.onnx'), onnx);
      expect(await code(nn.load(join(dir, 'm.onnx')))).toMatch(/^INVALID_MODEL: ONNX external data file "\.\.\/x+" leaves the folder of "m\.onnx"/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('the simdnn/load subpath (the published package)', () => {
  it("resolves to dist/load.js, which exports the synchronous importers, and they build models on the package's runtime", async () => {
    const root = new URL('../', import.meta.url);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, Record<string, string>> };
    expect(pkg.exports['./load']).toEqual({ types: './dist/io/load.d.ts', default: './dist/load.js' });
    expect(readFileSync(new URL('dist/io/load.d.ts', root), 'utf8')).toMatch(/export declare function loadOnnxSync\(nn: Runtime/);
    const load = (await import(new URL('dist/load.js', root).href)) as typeof import('../src/io/load.js');
    const { init } = (await import(new URL('dist/node.js', root).href)) as typeof import('../src/node.js');
    const packaged = await init({ simd: SIMD });
    const bytes = readFileSync(FIXTURES + 'onnx/torch_mlp_opset13.onnx');
    const model = load.loadOnnxSync(packaged, bytes);
    const expected = await packaged.loadOnnx(bytes);
    const x = Float32Array.from({ length: model.inputs * 3 }, (_, i) => i / 7 - 1);
    expect(Array.from(model.predict(x, 3))).toEqual(Array.from(expected.predict(x, 3)));
    model.dispose();
    expected.dispose();
  });
});
