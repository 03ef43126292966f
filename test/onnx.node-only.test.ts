// The ONNX backend node tests (an external conformance suite, ../shared/conformance/onnx) run through
// simdnn: every case whose operator maps onto simdnn's activations, softmax over the last axis, or a
// dense layer (2-D Gemm / MatMul). Cases that cannot map are listed with the reason (README too).
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ActivationName, Runtime } from '../src/node.js';
import { runtime, SIMD } from './runtime.js';

const dir = process.env.SIMDNN_ONNX_DIR ?? fileURLToPath(new URL('../../shared/conformance/onnx/', import.meta.url));
const present = existsSync(dir);

interface Tensor { name: string; dims: number[]; data: number[] }
interface Case {
  test: string; op: string; attributes: Record<string, number | string>; node_inputs: string[];
  inputs: Tensor[]; outputs: Tensor[]; tolerance: { rtol: number; atol: number };
}

/** Cases that do not map onto simdnn, and why. Everything else must run. */
export const UNMAPPED: Record<string, string> = {
  test_add: 'Add is an elementwise binary op; simdnn has no standalone tensor arithmetic',
  test_add_bcast: 'Add is an elementwise binary op; simdnn has no standalone tensor arithmetic',
  test_softmax_axis_0: 'softmax over a non-last axis (simdnn normalises the last axis of [rows, cols])',
  test_softmax_axis_1: 'softmax over a non-last axis (simdnn normalises the last axis of [rows, cols])',
  test_logsoftmax_axis_0: 'log-softmax over a non-last axis (simdnn normalises the last axis of [rows, cols])',
  test_logsoftmax_axis_1: 'log-softmax over a non-last axis (simdnn normalises the last axis of [rows, cols])',
  test_gemm_default_matrix_bias: 'C of shape [M, N] is a per-row bias; a dense layer has one bias per unit',
  test_matmul_1d_3d: 'batched MatMul with a different matrix per batch entry is not a dense layer',
  test_matmul_3d: 'batched MatMul with a different matrix per batch entry is not a dense layer',
  test_matmul_4d: 'batched MatMul with a different matrix per batch entry is not a dense layer',
  test_matmul_bcast: 'batched MatMul with a different matrix per batch entry is not a dense layer',
};

const ACTIVATION_OPS: Record<string, ActivationName> = {
  Celu: 'celu', Clip: 'clip', Elu: 'elu', Erf: 'erf', Exp: 'exp', Gelu: 'gelu', HardSigmoid: 'hardSigmoid',
  HardSwish: 'hardSwish', LeakyRelu: 'leakyRelu', Mish: 'mish', PRelu: 'prelu', Relu: 'relu', Selu: 'selu',
  Sigmoid: 'sigmoid', Sign: 'sign', Softplus: 'softplus', Softsign: 'softsign', Tanh: 'tanh', ThresholdedRelu: 'thresholdedRelu',
};

const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const input = (c: Case, name: string) => c.inputs.find((t) => t.name === name);

/** Run one case through simdnn; returns the output. */
function run(nn: Runtime, c: Case): Float32Array {
  const x = Float32Array.from(c.inputs[0]!.data);
  const attrs = c.attributes;
  if (c.op in ACTIVATION_OPS) {
    const name = ACTIVATION_OPS[c.op]!;
    const params: Record<string, unknown> = {};
    if (c.op === 'Clip') {
      // Clip takes min/max as optional inputs; absent means unbounded.
      const min = c.node_inputs[1] ? input(c, c.node_inputs[1]) : undefined;
      const max = c.node_inputs[2] ? input(c, c.node_inputs[2]) : undefined;
      if (min) params.min = min.data[0];
      if (max) params.max = max.data[0];
    } else if (c.op === 'PRelu') {
      params.slope = input(c, c.node_inputs[1]!)!.data;
    } else {
      for (const [k, v] of Object.entries(attrs)) params[k] = v;
    }
    return nn.activate(name, x, params);
  }
  if (c.op === 'Softmax' || c.op === 'LogSoftmax') {
    const dims = c.inputs[0]!.dims;
    const axis = Number(attrs.axis ?? -1);
    if (axis !== -1 && axis !== dims.length - 1) throw new Error('non-last axis: listed in UNMAPPED');
    const cols = dims[dims.length - 1]!;
    return c.op === 'Softmax' ? nn.softmax(x, cols) : nn.logSoftmax(x, cols);
  }
  if (c.op === 'Gemm' || c.op === 'MatMul') {
    // Y = alpha·A'·B' + beta·C as a dense layer: rows of A' are the batch, B' the weights
    // ([K][N] is the 'in-out' layout, B' = Bᵀ stored [N][K] is 'out-in'), beta·C the bias.
    const a = input(c, c.node_inputs[0]!)!;
    const b = input(c, c.node_inputs[1]!)!;
    const alpha = Number(attrs.alpha ?? 1);
    const beta = Number(attrs.beta ?? 1);
    const transA = Number(attrs.transA ?? 0) === 1;
    const transB = Number(attrs.transB ?? 0) === 1;
    let M: number, K: number;
    let A = Float32Array.from(a.data);
    if (a.dims.length === 1) { M = 1; K = a.dims[0]!; }
    else { K = a.dims[a.dims.length - 1]!; M = size(a.dims) / K; }
    if (transA) {
      [M, K] = [a.dims[1]!, a.dims[0]!];
      const t = new Float32Array(M * K);
      for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) t[m * K + k] = A[k * M + m]!;
      A = t;
    }
    const N = b.dims.length === 1 ? 1 : transB ? b.dims[0]! : b.dims[1]!;
    const weights = Float32Array.from(b.data, (v) => alpha * v);
    let bias: Float32Array | undefined;
    const cIn = c.node_inputs[2] ? input(c, c.node_inputs[2]) : undefined;
    if (cIn) {
      if (size(cIn.dims) !== 1 && size(cIn.dims) !== N) throw new Error('per-row bias: listed in UNMAPPED');
      bias = Float32Array.from({ length: N }, (_, n) => beta * cIn.data[size(cIn.dims) === 1 ? 0 : n]!);
    }
    const layer = nn.dense({ inputs: K, units: N, weights, bias, weightsLayout: transB ? 'out-in' : 'in-out' });
    try {
      return layer.predict(A, M);
    } finally {
      layer.dispose();
    }
  }
  throw new Error(`no mapping for ${c.op}`);
}

describe.skipIf(!present)(`ONNX conformance suite (${SIMD} binary)`, () => {
  let nn: Runtime;
  beforeAll(async () => {
    nn = await runtime();
  });
  const files = present ? readdirSync(dir).filter((f) => /^test_.*\.json$/.test(f)).sort() : [];
  const cases = files.map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Case);
  const mapped = cases.filter((c) => !(c.test in UNMAPPED));

  it(`runs ${mapped.length} of ${cases.length} cases; the other ${cases.length - mapped.length} are listed as unmappable with a reason`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    for (const name of Object.keys(UNMAPPED)) expect(cases.map((c) => c.test)).toContain(name);
    expect(mapped.length).toBe(cases.length - Object.keys(UNMAPPED).length);
    console.log(`ONNX conformance (${SIMD}): ${mapped.length} of ${cases.length} cases run through simdnn; ${cases.length - mapped.length} unmappable`);
  });

  for (const c of mapped) {
    it(`${c.test} (${c.op})`, () => {
      const y = run(nn, c);
      const expected = c.outputs[0]!.data;
      const { rtol, atol } = c.tolerance;
      expect(y.length).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) {
        const e = expected[i]!;
        const ok = Number.isNaN(e) ? Number.isNaN(y[i]) : Math.abs(y[i]! - e) <= atol + rtol * Math.abs(e) || y[i] === e;
        expect(ok, `${c.test}[${i}]: ${y[i]} vs expected ${e}`).toBe(true);
      }
    });
  }
});

it('the ONNX conformance suite is present (required in CI; set SIMDNN_ONNX_DIR to point elsewhere)', (ctx) => {
  if (!present && !process.env.CI) {
    console.warn(`\n*** ONNX conformance cases not found at ${dir}: those tests were SKIPPED ***\n`);
    ctx.skip();
  }
  expect(present, `ONNX conformance cases not found at ${dir}`).toBe(true);
});
