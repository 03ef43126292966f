import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import type { Runtime } from '../../src/node.js';
import { onnxToSpec } from '../../src/io/onnx.js';
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
