// The layer types the importers produce (batchNorm, dropout, flatten), specs that name tensors
// (`nn.sequential(spec, { tensors })`), toJSON() of them, and model.save(). Runs in Node and browsers.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/node.js';
import { SimdnnError } from '../src/errors.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { rand } from './reference.js';
import { runtime, SIMD } from './runtime.js';

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof SimdnnError ? `${err.code}: ${err.message}` : `not a SimdnnError: ${String(err)}`;
  }
  return 'no error';
}

/** max |y − ref| / max |ref|. */
function relErr(y: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(y.length).toBe(ref.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
    diff = Math.max(diff, Math.abs(y[i]! - ref[i]!));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

interface Norm { mean: Float32Array; variance: Float32Array; scale: Float32Array; offset: Float32Array; epsilon: number }

function norm(n: number, seed: number): Norm {
  const variance = rand(n, seed + 1, 0.05, 3);
  return { mean: rand(n, seed, -2, 2), variance, scale: rand(n, seed + 2, -2, 2), offset: rand(n, seed + 3, -1, 1), epsilon: 1e-5 };
}

/** Float64: x·Wᵀ + b. */
function refDense(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, rows: number, K: number, N: number): Float64Array {
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let s = b[n]!;
      for (let k = 0; k < K; k++) s += x[r * K + k]! * w[n * K + k]!;
      y[r * N + n] = s;
    }
  }
  return y;
}

/** Float64 batch normalisation of [rows, n]. */
function refNorm(x: ArrayLike<number>, p: Norm, rows: number, n: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) y[r * n + k] = (x[r * n + k]! - p.mean[k]!) / Math.sqrt(p.variance[k]! + p.epsilon) * p.scale[k]! + p.offset[k]!;
  }
  return y;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe(`batchNorm (${SIMD} binary)`, () => {
  for (const n of [1, 3, 4, 13, 64]) {
    it(`on its own over ${n} features matches a float64 reference (batch 1 and 37)`, () => {
      const p = norm(n, n);
      const model = nn.sequential({ inputs: n, layers: [{ type: 'batchNorm', ...p }] });
      try {
        expect(model.layers.map((l) => l.type)).toEqual(['batchNorm']);
        for (const batch of [1, 37]) {
          const x = rand(batch * n, batch + n, -3, 3);
          expect(relErr(model.predict(x, batch), refNorm(x, p, batch, n))).toBeLessThanOrEqual(1e-6);
        }
      } finally {
        model.dispose();
      }
    });
  }

  it('scale and offset default to ones and zeros', () => {
    const p = norm(5, 9);
    const model = nn.sequential({ inputs: 5, layers: [{ type: 'batchNorm', mean: p.mean, variance: p.variance, epsilon: 1e-3 }] });
    try {
      const x = rand(10, 3);
      const ref = refNorm(x, { ...p, scale: new Float32Array(5).fill(1), offset: new Float32Array(5), epsilon: 1e-3 }, 2, 5);
      expect(relErr(model.predict(x, 2), ref)).toBeLessThanOrEqual(1e-6);
    } finally {
      model.dispose();
    }
  });

  it('after a linear dense layer it is folded into its weights and bias (no layer of its own)', () => {
    const [K, N] = [7, 9];
    const w = rand(K * N, 1);
    const b = rand(N, 2);
    const p = norm(N, 3);
    const folded = nn.sequential({ inputs: K, layers: [{ units: N, weights: w, bias: b }, { type: 'batchNorm', ...p }, { type: 'activation', activation: 'tanh' }] });
    const separate = nn.sequential({ inputs: K, layers: [{ units: N, weights: w, bias: b, activation: 'relu' }, { type: 'batchNorm', ...p }] });
    try {
      expect(folded.layers.map((l) => l.type)).toEqual(['dense', 'activation']);
      expect(separate.layers.map((l) => l.type)).toEqual(['dense', 'batchNorm']);
      for (const batch of [1, 33]) {
        const x = rand(batch * K, batch, -2, 2);
        const h = refDense(x, w, b, batch, K, N);
        const ref = refNorm(h, p, batch, N).map(Math.tanh);
        expect(relErr(folded.predict(x, batch), ref)).toBeLessThanOrEqual(1e-5);
        const ref2 = refNorm(h.map((v) => Math.max(0, v)), p, batch, N);
        expect(relErr(separate.predict(x, batch), ref2)).toBeLessThanOrEqual(1e-5);
      }
      // The folded weights are W·s and (b − mean)·s + offset, computed in float64 and rounded once.
      const json = folded.toJSON().layers[0] as { weights: number[]; bias: number[] };
      const s = (u: number) => p.scale[u]! / Math.sqrt(p.variance[u]! + p.epsilon);
      expect(json.weights[3 * K + 2]).toBe(Math.fround(w[3 * K + 2]! * s(3)));
      expect(json.bias[4]).toBe(Math.fround((b[4]! - p.mean[4]!) * s(4) + p.offset[4]!));
    } finally {
      folded.dispose();
      separate.dispose();
    }
  });

  it('folds into in-out weights too, and leaves the caller\'s arrays alone', () => {
    const [K, N] = [4, 6];
    const w = rand(K * N, 5);
    const copy = w.slice();
    const p = norm(N, 6);
    const wt = new Float32Array(K * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wt[k * N + n] = w[n * K + k]!;
    const a = nn.sequential({ inputs: K, layers: [{ units: N, weights: w }, { type: 'batchNorm', ...p }] });
    const c = nn.sequential({ inputs: K, layers: [{ units: N, weights: wt, weightsLayout: 'in-out' }, { type: 'batchNorm', ...p }] });
    try {
      const x = rand(3 * K, 7);
      expect(bits(c.predict(x, 3))).toEqual(bits(a.predict(x, 3)));
      expect(bits(w)).toEqual(bits(copy));
    } finally {
      a.dispose();
      c.dispose();
    }
  });

  it('bad statistics and parameters are typed errors, and nothing is left allocated', () => {
    const before = nn.memory();
    const bn = (extra: Record<string, unknown>) => () => nn.sequential({ inputs: 2, layers: [{ type: 'batchNorm', mean: [0, 0], variance: [1, 1], epsilon: 1e-5, ...extra }] });
    expect(code(bn({ epsilon: undefined }))).toMatch(/^INVALID_SPEC: layers\[0\]: batchNorm needs epsilon/);
    expect(code(bn({ epsilon: -1 }))).toMatch(/^INVALID_SPEC/);
    expect(code(bn({ variance: [1, -1] }))).toMatch(/^INVALID_WEIGHTS: layers\[0\]: variance\[1\] \+ epsilon is -0\.99999/);
    expect(code(bn({ mean: [0, NaN] }))).toMatch(/^INVALID_WEIGHTS: layers\[0\]\.mean\[1\] is number NaN/);
    expect(code(bn({ mean: Float32Array.of(0, Infinity) }))).toMatch(/^INVALID_WEIGHTS: layers\[0\]\.mean\[1\] is number Infinity/);
    expect(code(bn({ scale: [1, 2, 3] }))).toMatch(/^INVALID_WEIGHTS: layers\[0\]\.scale has 3 values but 2 are expected/);
    expect(code(bn({ variance: undefined }))).toMatch(/^INVALID_SPEC: layers\[0\]: batchNorm needs 'variance'/);
    expect(code(bn({ variance: [0, 0], epsilon: 0, scale: [1e30, 1] }))).toMatch(/^INVALID_WEIGHTS/);
    expect(nn.memory()).toEqual(before);
  });
});

describe(`dropout and flatten (${SIMD} binary)`, () => {
  it('change nothing at inference, keep their place in layers and toJSON', () => {
    const w = rand(15, 4);
    const plain = nn.sequential({ inputs: 5, layers: [{ units: 3, weights: w, activation: 'relu' }] });
    const withIdentity = nn.sequential({
      inputs: 5,
      layers: [{ type: 'flatten' }, { units: 3, weights: w, activation: 'relu' }, { type: 'dropout', rate: 0.5, name: 'drop' }, { type: 'dropout' }],
    });
    try {
      const x = rand(20, 8, -3, 3);
      expect(bits(withIdentity.predict(x, 4))).toEqual(bits(plain.predict(x, 4)));
      expect(withIdentity.layers.map((l) => `${l.type} ${l.name} ${l.params}`)).toEqual(['flatten flatten_0 0', 'dense dense_1 18', 'dropout drop 0', 'dropout dropout_3 0']);
      const json = withIdentity.toJSON();
      expect(json.layers.map((l) => l.type)).toEqual(['flatten', 'dense', 'dropout', 'dropout']);
      expect(json.layers[2]).toEqual({ type: 'dropout', name: 'drop', rate: 0.5 });
    } finally {
      plain.dispose();
      withIdentity.dispose();
    }
  });

  it('a model of only identity layers copies its input', () => {
    const model = nn.sequential({ inputs: 3, layers: [{ type: 'dropout', rate: 0.1 }, { type: 'flatten' }] });
    try {
      expect(Array.from(model.predict([1, -2, 3.5, 4, 5, 6], 2))).toEqual([1, -2, 3.5, 4, 5, 6]);
      expect(model.outputs).toBe(3);
    } finally {
      model.dispose();
    }
  });

  it('a dropout rate outside [0, 1) is INVALID_SPEC', () => {
    for (const rate of [1, -0.1, NaN, '0.5']) {
      expect(code(() => nn.sequential({ inputs: 1, layers: [{ type: 'dropout', rate: rate as number }] }))).toMatch(/^INVALID_SPEC: layers\[0\]: dropout rate/);
    }
  });
});

describe(`toJSON() and save() of every layer type (${SIMD} binary)`, () => {
  const spec = () => ({
    inputs: 6,
    layers: [
      { type: 'batchNorm' as const, ...norm(6, 20), name: 'bn_in' },
      { units: 10, weights: rand(60, 21), bias: rand(10, 22), activation: { name: 'prelu', slope: rand(10, 23, 0, 0.5) } },
      { type: 'dropout' as const, rate: 0.25 },
      { units: 9, weights: rand(90, 24), activation: 'relu' },
      { type: 'batchNorm' as const, ...norm(9, 25) },
      { type: 'flatten' as const },
      { units: 4, weights: rand(36, 26), bias: rand(4, 27) },
      { type: 'batchNorm' as const, ...norm(4, 28) },
      { type: 'activation' as const, activation: 'softmax' },
    ],
  });

  it('nn.sequential(model.toJSON()) and a JSON round trip give bit-identical outputs', () => {
    const model = nn.sequential(spec());
    const again = nn.sequential(model.toJSON());
    const parsed = nn.sequential(JSON.parse(JSON.stringify(model)) as ReturnType<typeof model.toJSON>);
    try {
      expect(model.layers.map((l) => l.type)).toEqual(['batchNorm', 'dense', 'dropout', 'dense', 'batchNorm', 'flatten', 'dense', 'activation']);
      const x = rand(6 * 50, 29, -3, 3);
      const y = model.predict(x, 50);
      expect(bits(again.predict(x, 50))).toEqual(bits(y));
      expect(bits(parsed.predict(x, 50))).toEqual(bits(y));
      expect(again.toJSON()).toEqual(model.toJSON());
    } finally {
      model.dispose();
      again.dispose();
      parsed.dispose();
    }
  });

  it('save() is a safetensors file: the spec in __metadata__.simdnn, the numbers as named F32 tensors', () => {
    const model = nn.sequential(spec());
    try {
      const file = readSafetensors(model.save());
      const meta = JSON.parse(file.metadata.simdnn!) as { layers: Array<Record<string, unknown>> };
      expect(meta.layers[0]).toMatchObject({ type: 'batchNorm', mean: 'layers.0.mean', variance: 'layers.0.variance', scale: 'layers.0.scale', offset: 'layers.0.offset', epsilon: 1e-5 });
      expect(meta.layers[1]).toMatchObject({ type: 'dense', weights: 'layers.1.weight', bias: 'layers.1.bias', activation: { name: 'prelu', slope: 'layers.1.slope' } });
      expect(file.get('layers.1.weight')!.shape).toEqual([10, 6]);
      expect(file.get('layers.3.weight')!.shape).toEqual([9, 10]);
      expect(file.get('layers.1.bias')!.shape).toEqual([10]);
      expect([...file.values()].every((t) => t.dtype === 'F32')).toBe(true);
      const json = model.toJSON();
      expect(Array.from(file.get('layers.6.weight')!.data)).toEqual((json.layers[6] as { weights: number[] }).weights);
      // And it loads back through the tensors option, bit-identically.
      const back = nn.sequential(meta as never, { tensors: file });
      try {
        const x = rand(6 * 7, 30, -3, 3);
        expect(bits(back.predict(x, 7))).toEqual(bits(model.predict(x, 7)));
      } finally {
        back.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('save() and toJSON() of a disposed model are DISPOSED', () => {
    const model = nn.sequential({ inputs: 1, layers: [{ units: 1, weights: [1] }] });
    model.dispose();
    expect(code(() => model.save())).toMatch(/^DISPOSED/);
  });
});

describe(`specs that name tensors (${SIMD} binary)`, () => {
  const W1 = rand(12, 40);
  const B1 = rand(4, 41);
  const W2 = rand(8, 42);
  const tensorsObject = () => ({
    'fc1.weight': { shape: [4, 3], data: W1 }, 'fc1.bias': { shape: [4], data: B1 }, 'fc2.weight': { shape: [2, 4], data: Array.from(W2) },
    'act.slope': { shape: [1, 4], data: Float32Array.of(0.1, 0.2, 0.3, 0.4) }, 'bn.mean': [0.5, -0.5],
  });
  const byName = { layers: [{ weights: 'fc1.weight', bias: 'fc1.bias', activation: { name: 'prelu', slope: 'act.slope' } }, { weights: 'fc2.weight' }] };
  const byValue = {
    inputs: 3,
    layers: [{ units: 4, weights: W1, bias: B1, activation: { name: 'prelu', slope: [0.1, 0.2, 0.3, 0.4] } }, { units: 2, weights: W2 }],
  };

  it('from a plain object or a Map; units and inputs come from the weights\' shapes', () => {
    const ref = nn.sequential(byValue);
    const fromObject = nn.sequential(byName, { tensors: tensorsObject() });
    const fromMap = nn.sequential(byName, { tensors: new Map(Object.entries(tensorsObject())) });
    try {
      expect([fromObject.inputs, fromObject.outputs]).toEqual([3, 2]);
      const x = rand(30, 43, -2, 2);
      const y = ref.predict(x, 10);
      expect(bits(fromObject.predict(x, 10))).toEqual(bits(y));
      expect(bits(fromMap.predict(x, 10))).toEqual(bits(y));
    } finally {
      ref.dispose();
      fromObject.dispose();
      fromMap.dispose();
    }
  });

  it('in-out weights name a tensor of shape [inputs, units]', () => {
    const wt = new Float32Array(12);
    for (let n = 0; n < 4; n++) for (let k = 0; k < 3; k++) wt[k * 4 + n] = W1[n * 3 + k]!;
    const a = nn.sequential({ inputs: 3, layers: [{ units: 4, weights: W1 }] });
    const b = nn.sequential({ layers: [{ weights: 'k', weightsLayout: 'in-out' }] }, { tensors: { k: { shape: [3, 4], data: wt } } });
    try {
      const x = rand(6, 44);
      expect(bits(b.predict(x, 2))).toEqual(bits(a.predict(x, 2)));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('wrong shapes, missing names and inherited properties are typed errors; nothing is left allocated', () => {
    const before = nn.memory();
    const t = tensorsObject();
    const seq = (spec: unknown, tensors: unknown = t) => () => nn.sequential(spec as never, { tensors: tensors as never });
    expect(code(seq({ layers: [{ weights: 'fc1.weight', units: 5 }] }))).toMatch(/^SHAPE_MISMATCH: layers\[0\]\.weights: tensor "fc1.weight" has shape \[4, 3\] but the layer is 5 units × 3 inputs/);
    expect(code(seq({ inputs: 4, layers: [{ weights: 'fc1.weight' }] }))).toMatch(/^SHAPE_MISMATCH: layers\[0\]\.weights: tensor "fc1.weight" has shape \[4, 3\]/);
    expect(code(seq({ inputs: 4, layers: [{ weights: 'fc2.weight', bias: 'fc1.bias' }] }))).toMatch(/^SHAPE_MISMATCH: layers\[0\]\.bias: tensor "fc1.bias" has shape \[4\]; expected \[2\]/);
    expect(code(seq({ inputs: 12, layers: [{ weights: 'fc1.bias' }] }))).toMatch(/^SHAPE_MISMATCH/);
    expect(code(seq({ layers: [{ weights: 'fc1.weight', activation: { name: 'prelu', slope: 'fc1.weight' } }] }))).toMatch(/^SHAPE_MISMATCH: layers\[0\]: activation\.slope: tensor "fc1.weight" has shape \[4, 3\]; expected 1 or 4 values/);
    expect(code(seq({ inputs: 3, layers: [{ type: 'batchNorm', mean: 'bn.mean', variance: [1, 1, 1], epsilon: 0 }] }))).toMatch(/^SHAPE_MISMATCH: layers\[0\]\.mean: tensor "bn.mean" has shape \[2\]; expected \[3\]/);
    expect(code(seq({ layers: [{ weights: 'fc3.weight' }] }))).toMatch(/^INVALID_SPEC: layers\[0\]\.weights: names tensor "fc3.weight", which is not among the tensors given \("fc1.weight", "fc1.bias"/);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(code(seq({ inputs: 1, layers: [{ units: 1, weights: name }] }))).toMatch(/^INVALID_SPEC: layers\[0\]\.weights: names tensor/);
    }
    expect(code(seq({ inputs: 1, layers: [{ units: 1, weights: 'w' }] }, { w: { shape: [1, 1], data: [NaN] } }))).toMatch(/^INVALID_WEIGHTS: layers\[0\]\.weights\[0\] is number NaN/);
    expect(code(seq({ inputs: 1, layers: [{ units: 1, weights: 'w' }] }, { w: { shape: [1, 2], data: [1] } }))).toMatch(/^SHAPE_MISMATCH/);
    expect(code(seq({ inputs: 1, layers: [{ units: 1, weights: 'w' }] }, { w: { shape: [1, 1], data: [1, 2] } }))).toMatch(/^INVALID_WEIGHTS: layers\[0\]\.weights has 2 values but 1 are expected/);
    expect(code(seq({ inputs: 1, layers: [{ units: 1, weights: 'w' }] }, { w: { shape: [-1, 1], data: [1] } }))).toMatch(/^INVALID_SPEC: layers\[0\]\.weights: tensor "w": shape must be/);
    expect(code(seq({ inputs: 1, layers: [{ units: 1, weights: 'w' }] }, { w: 5 }))).toMatch(/^INVALID_SPEC/);
    expect(code(seq({ inputs: 1, layers: [{ units: 1, weights: 'w' }] }, 'w'))).toMatch(/^INVALID_ARGUMENT: sequential: tensors must be a Map or an object/);
    expect(code(() => nn.sequential({ inputs: 1, layers: [{ units: 1, weights: 'w' }] }))).toMatch(/^INVALID_SPEC: layers\[0\]\.weights: names tensor "w", but no tensors were given/);
    expect(code(() => nn.sequential({ inputs: 1, layers: [{ units: 1, weights: [1] }] }, { tensor: {} } as never))).toMatch(/^INVALID_ARGUMENT: nn.sequential: unknown option 'tensor'; expected seed, tensors/);
    expect(nn.memory()).toEqual(before);
  });

  it('reads each tensor entry once (a getter that changes its answer cannot give two shapes)', () => {
    let reads = 0;
    const tensors = {
      get w() {
        reads++;
        return reads === 1 ? { shape: [2, 1], data: [1, 2] } : { shape: [1000, 1000], data: [] };
      },
    };
    const model = nn.sequential({ layers: [{ weights: 'w' }] }, { tensors });
    try {
      expect(reads).toBe(1);
      expect(Array.from(model.predict([3]))).toEqual([3, 6]);
    } finally {
      model.dispose();
    }
  });
});

describe(`training models with the new layer types (${SIMD} binary)`, () => {
  it('a standalone batchNorm is refused by name; flatten and a folded batchNorm train (dropout: test/train-dropout.test.ts)', async () => {
    const x = rand(8, 3);
    const y = Int32Array.of(0, 1, 1, 0);
    const refused = nn.sequential({ inputs: 2, layers: [
      { units: 3, activation: 'relu' }, { type: 'batchNorm', mean: [0, 0, 0], variance: [1, 1, 1], epsilon: 0 }, { units: 2, activation: 'softmax' },
    ] }, { seed: 1 });
    await expect(refused.fit(x, y, { epochs: 1, loss: 'crossEntropy' })).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/layer 1 .*batchNorm layer; training supports dense, activation, dropout and flatten/) });
    refused.dispose();
    const ok = nn.sequential({ inputs: 2, layers: [
      { type: 'flatten' }, { units: 3 },
      { type: 'batchNorm', mean: [0, 0, 0], variance: [1, 1, 1], epsilon: 0 }, { type: 'activation', activation: 'relu' },
      { units: 2, activation: 'softmax' },
    ] }, { seed: 2 });
    const before = ok.predict(x, 4);
    const history = await ok.fit(x, y, { epochs: 3, batchSize: 4, loss: 'crossEntropy', optimizer: 'adam', shuffle: false });
    expect(history.loss).toHaveLength(3);
    expect(Array.from(ok.predict(x, 4))).not.toEqual(Array.from(before));
    ok.dispose();
  });
});
