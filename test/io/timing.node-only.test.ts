// How long importing a 784-512-256-10 MLP (535,818 parameters, 2.1 MB of float32) takes, from ONNX
// bytes and from safetensors bytes to a built model: the parse share (bytes → spec) and the
// nn.sequential build. Median of 20 runs after 3 warm-ups; printed, with generous bounds asserted
// (the 5 ms end-to-end target is checked by reading the printout on a quiet machine, not here: the
// test machines are shared).
//
//     npx vitest run --project node test/io/timing.node-only.test.ts
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/node.js';
import { onnxToSpec } from '../../src/io/onnx.js';
import { readSafetensors, specTensors, writeSafetensors } from '../../src/io/safetensors.js';
import type { LayerSpec } from '../../src/model.js';
import type { ImportedModelSpec } from '../../src/io/spec.js';
import { runtime } from '../runtime.js';
import { model, valueInfo, type TensorArgs, type NodeArgs } from './onnx-writer.js';

const SIZES = [784, 512, 256, 10];

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * 0.1;
  });
}

/** The graph PyTorch exports for nn.Sequential(Linear, ReLU, Linear, ReLU, Linear, Softmax): Gemm with
 *  transB = 1 ([out][in] weights) — or, with `matmul`, the MatMul + Add form with [in][out] weights
 *  that skl2onnx and tf2onnx write (one transpose per layer at import). */
function mlpOnnx(matmul: boolean): Uint8Array {
  const nodes: NodeArgs[] = [];
  const inits: TensorArgs[] = [];
  let cur = 'x';
  for (let l = 0; l < 3; l++) {
    const [i, o] = [SIZES[l]!, SIZES[l + 1]!];
    const w = random(i * o, l + 1);
    inits.push({ name: `w${l}`, dims: matmul ? [i, o] : [o, i], values: w }, { name: `b${l}`, dims: [o], values: random(o, l + 11) });
    if (matmul) {
      nodes.push({ op: 'MatMul', inputs: [cur, `w${l}`], outputs: [`m${l}`] }, { op: 'Add', inputs: [`m${l}`, `b${l}`], outputs: [`g${l}`] });
    } else nodes.push({ op: 'Gemm', inputs: [cur, `w${l}`, `b${l}`], outputs: [`g${l}`], attrs: { transB: 1 } });
    nodes.push({ op: l < 2 ? 'Relu' : 'Softmax', inputs: [`g${l}`], outputs: [l < 2 ? `r${l}` : 'y'] });
    cur = `r${l}`;
  }
  return model({ nodes, initializers: inits, inputs: [valueInfo('x', ['batch', 784])] });
}

function mlpSafetensors(): Uint8Array {
  const t: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (let l = 0; l < 3; l++) {
    const [i, o] = [SIZES[l]!, SIZES[l + 1]!];
    t[`${2 * l}.weight`] = { data: random(i * o, l + 1), shape: [o, i] };
    t[`${2 * l}.bias`] = { data: random(o, l + 11), shape: [o] };
  }
  return writeSafetensors(t, { format: 'pt' });
}

const stSpec = {
  format: 'simdnn', version: 1,
  layers: [
    { weights: '0.weight', bias: '0.bias', activation: 'relu' },
    { weights: '2.weight', bias: '2.bias', activation: 'relu' },
    { weights: '4.weight', bias: '4.bias', activation: 'softmax' },
  ],
};

function median(f: () => void, runs = 20): number {
  for (let k = 0; k < 3; k++) f();
  const t: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return (t[9]! + t[10]!) / 2;
}

describe('import timing, 784-512-256-10 MLP', () => {
  let nn: Runtime;
  beforeAll(async () => {
    nn = await runtime();
  });

  it('parse and build medians of 20 runs', () => {
    const gemm = mlpOnnx(false);
    const matmul = mlpOnnx(true);
    const st = mlpSafetensors();
    const build = (spec: ImportedModelSpec) => nn.sequential({ ...spec, layers: spec.layers as LayerSpec[] }).dispose();
    const rows: Array<[string, number, number]> = [];
    const measure = (name: string, bytes: Uint8Array, parse: () => ImportedModelSpec) => {
      const p = median(() => void parse());
      const spec = parse();
      const b = median(() => build(spec));
      const all = median(() => build(parse()));
      rows.push([name, p, all]);
      console.log(`${name.padEnd(34)} ${(bytes.length / 1e6).toFixed(2)} MB  parse ${p.toFixed(2)} ms  build ${b.toFixed(2)} ms  end-to-end ${all.toFixed(2)} ms`);
    };
    measure('ONNX, Gemm (PyTorch export)', gemm, () => onnxToSpec(gemm).spec);
    measure('ONNX, MatMul + Add (skl2onnx/tf2onnx)', matmul, () => onnxToSpec(matmul).spec);
    measure('safetensors + specTensors', st, () => specTensors(stSpec, readSafetensors(st)));
    measure('ONNX, Gemm, measured again', gemm, () => onnxToSpec(gemm).spec);
    for (const [name, p, all] of rows) {
      expect(p, name).toBeLessThan(100);
      expect(all, name).toBeLessThan(200);
    }
  });
});
