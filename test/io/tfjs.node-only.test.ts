// TF.js layers models saved by TF.js (and in the tensorflowjs converter's Keras 2 / Keras 3 layouts),
// imported and run on the real runtime against TF.js's own outputs.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/node.js';
import { tfjsToSpec } from '../../src/io/tfjs.js';
import { runtime } from '../runtime.js';
import { existsSync } from 'node:fs';
import { FIXTURES, fixture, fixtureJson, runSpec, expectClose, type Cases } from './helpers.js';

const data = fixtureJson<Cases>('tfjs/cases.json');
const X = Float32Array.from(data.x.flat());
const BATCH = data.x.length;

interface ModelJson { weightsManifest: Array<{ paths: string[]; weights: unknown[] }>; modelTopology: unknown }
/** model.json and its shards: tfjs/<name>.json beside its shards, or a converter's folder tfjs/<name>/. */
const load = (name: string) => {
  const dir = existsSync(`${FIXTURES}tfjs/${name}.json`) ? 'tfjs/' : `tfjs/${name}/`;
  const json = fixtureJson<ModelJson>(dir === 'tfjs/' ? `tfjs/${name}.json` : `${dir}model.json`);
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  return { json, paths, shards: paths.map((p) => fixture(dir + p)) };
};

describe('TF.js fixtures match TF.js', () => {
  let nn: Runtime;
  beforeAll(async () => {
    nn = await runtime();
  });
  for (const name of Object.keys(data.cases)) {
    it(name, () => {
      const { json, shards } = load(name);
      const spec = tfjsToSpec(json, shards);
      const want = Float32Array.from(data.cases[name]!.y.flat());
      const outs = want.length / BATCH;
      expectClose(runSpec(nn, spec, X.subarray(0, spec.inputs), 1), want.subarray(0, outs), 1e-5, `${name} batch 1`);
      expectClose(runSpec(nn, spec, X, BATCH), want, 1e-5, `${name} batch ${BATCH}`);
    });
  }

  it('takes the weights as one buffer, as shards by path, or from ModelArtifacts (withSaveHandler)', () => {
    const { json, paths, shards } = load('tfjs_seq_uint8');
    const joined = new Uint8Array(shards.reduce((a, s) => a + s.length, 0));
    let o = 0;
    for (const s of shards) { joined.set(s, o); o += s.length; }
    const a = tfjsToSpec(JSON.stringify(json), joined.buffer);
    const b = tfjsToSpec(json, Object.fromEntries(paths.map((p, i) => [p, shards[i]!])));
    const c = tfjsToSpec({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: joined.buffer });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('folds BatchNormalization into the Dense before it and keeps one after an activation', () => {
    const seq = tfjsToSpec(load('tfjs_seq').json, load('tfjs_seq').shards);
    // d1 (relu) → bn1 stays a layer; d3 (linear) + bn2 fold into one dense, which then takes the PReLU.
    expect(seq.layers.map((l) => l.type)).toEqual(['dense', 'batchNorm', 'dense', 'activation', 'dense', 'dense', 'activation', 'dense']);
    expect(seq.layers.map((l) => (l.type === 'dense' ? (l.name) : ''))).toEqual(['d1', '', 'd2', '', 'd3', 'd4', '', 'out']);
    expect((seq.layers[4] as { activation: { name: string } }).activation.name).toBe('prelu');
    const fn = tfjsToSpec(load('tfjs_functional').json, load('tfjs_functional').shards);
    expect(fn.layers.map((l) => l.type)).toContain('batchNorm');
  });
});
