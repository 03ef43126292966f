// The conformance smoke set every engine runs (Deno, Bun, workerd, Firefox, WebKit) and Node computes
// the expected results of, on the same inputs: every activation in ACTIVATION_NAMES, a dense + softmax
// model, softmax and logSoftmax over rows, and a few error codes. Plain JavaScript with no imports, so
// it runs unchanged in each engine; results are JSON with every float32 as its bit pattern (uint32).
//
//   const result = await runSmoke(simdnn, { simd: 'baseline' });   // simdnn: the package's namespace

/** Deterministic inputs: a ramp over [-8, 8], then values near the activations' edges. */
export function inputs() {
  const x = [];
  for (let i = 0; i < 49; i++) x.push(-8 + i / 3);
  x.push(0, -0, 1e-7, -1e-7, 0.5, -0.5, 20, -20, 30, -30, 88, -88, 1e-30, 3.4e38, -3.4e38, Infinity, -Infinity);
  return Float32Array.from(x);
}

/** n weights from a small integer hash (no Math.random), in [−1000, 1000] / `divisor`. */
const fill = (n, seed, divisor = 1250) => Array.from({ length: n }, (_, i) => (((i * 2654435761 + seed * 40503) >>> 0) % 2001 - 1000) / divisor);

/** A 17 → 9 (relu) → 5 (softmax) model with weights from fill(). */
export function modelSpec() {
  return {
    format: 'simdnn', version: 1,
    layers: [
      { inputs: 17, units: 9, activation: 'relu', weights: fill(17 * 9, 1), bias: fill(9, 2) },
      { units: 5, activation: 'softmax', weights: fill(9 * 5, 3), bias: fill(5, 4) },
    ],
  };
}

/** `batch` input rows of 17 features for modelSpec(): smooth values in [-3, 3]. */
export function modelInput(batch) {
  return Float32Array.from({ length: 17 * batch }, (_, i) => Math.sin(i * 0.7) * 3);
}

/** Parameters for activations that need them (prelu) and a few non-default variants. */
const PARAMS = { prelu: { slope: 0.25 } };
const VARIANTS = [
  ['leakyRelu', { alpha: 0.2 }], ['elu', { alpha: 0.7 }], ['gelu', { approximate: 'tanh' }],
  ['clip', { min: -1.5, max: 2.5 }], ['softplus', { beta: 2 }], ['hardSigmoid', { alpha: 0.25, beta: 0.5 }],
];

export const bits = (f32) => Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));

export function errorOf(SimdnnError, fn) {
  try {
    fn();
    return { code: 'NO_ERROR' };
  } catch (err) {
    return { code: err?.code ?? String(err), isSimdnnError: err instanceof SimdnnError, message: err?.message };
  }
}

/** Run the set on `init(options)`; resolves to `{ binary, features, outputs, errors }`. */
export async function runSmoke(simdnn, options = {}, { poolThreads = 2 } = {}) {
  const nn = await simdnn.init(options);
  const x = inputs();
  const outputs = {};
  for (const name of simdnn.ACTIVATION_NAMES) outputs[name] = bits(nn.activate(name, x, PARAMS[name]));
  for (const [name, params] of VARIANTS) outputs[`${name} ${JSON.stringify(params)}`] = bits(nn.activate(name, x, params));
  const rows = x.subarray(0, 63); // 7 rows of 9 (finite values only: ±Infinity rows are NaN)
  outputs['softmax rows of 9'] = bits(nn.softmax(rows, 9));
  outputs['logSoftmax rows of 9'] = bits(nn.logSoftmax(rows, 9));
  outputs['softmax rows of 7, in place'] = bits(nn.softmax(rows.slice(), 7, undefined));

  const model = nn.sequential(modelSpec());
  const batch = 3;
  const input = modelInput(batch);
  outputs['model 17-9-5 dense relu softmax, batch 3'] = bits(model.predict(input, batch));
  const into = new Float32Array(5);
  model.predictInto(Array.from(input.subarray(17, 34)), into, 1);
  outputs['model predictInto from a plain array'] = bits(into);

  const errors = {
    'predict with 16 features': errorOf(simdnn.SimdnnError, () => model.predict(new Float32Array(16), 1)),
    'unknown activation': errorOf(simdnn.SimdnnError, () => nn.activate('swishy', x)),
    'prelu without slope': errorOf(simdnn.SimdnnError, () => nn.activate('prelu', x)),
    'weights of the wrong length': errorOf(simdnn.SimdnnError, () => nn.sequential({ format: 'simdnn', version: 1, layers: [{ inputs: 3, units: 2, weights: [1, 2, 3], bias: [0, 0] }] })),
    'nested rows': errorOf(simdnn.SimdnnError, () => model.predict([[1, 2]], 1)),
  };
  model.dispose();
  errors['predict after dispose'] = errorOf(simdnn.SimdnnError, () => model.predict(input, batch));

  // The worker pool: model.predictAsync on a runtime of 2 threads, on a call large enough to be
  // split (24 rows of 64 → 4099 → 9: 6.5M multiply-adds), equals predict bit for bit in this engine
  // (and Node's, as an output); `threads` says how it ran here (shared memory, copies, or one
  // thread where no worker can start).
  const progress = globalThis.__simdnnProgress ?? (() => {});
  progress(`${options.simd}: pool runtime`);
  const pooled = await simdnn.createRuntime({ ...options, threads: poolThreads });
  const wide = pooled.sequential({
    format: 'simdnn', version: 1,
    layers: [
      { inputs: 64, units: 4099, activation: 'relu', weights: fill(64 * 4099, 5, 40000), bias: fill(4099, 6, 40000) },
      { units: 9, activation: 'softmax', weights: fill(4099 * 9, 7, 40000), bias: fill(9, 8, 40000) },
    ],
  });
  const xw = Float32Array.from({ length: 24 * 64 }, (_, i) => Math.cos(i * 0.3));
  const direct = bits(wide.predict(xw, 24));
  progress(`${options.simd}: predictAsync (starts the workers)`);
  outputs['64-4099-9 model, predictAsync on 2 threads, batch 24'] = bits(await wide.predictAsync(xw, 24));
  progress(`${options.simd}: predictAsync done`);
  const f = pooled.features;
  const threads = {
    threadsAsked: poolThreads, threads: f.threads, sharedMemory: f.sharedMemory, unavailable: f.threadsUnavailable ?? null,
    sameAsPredict: direct.every((v, i) => v === outputs['64-4099-9 model, predictAsync on 2 threads, batch 24'][i]),
  };
  wide.dispose();
  await pooled.close();
  progress(`${options.simd}: pool closed`);
  pooled.dispose();
  return { binary: nn.features.binary, features: { ...nn.features }, outputs, errors, threads };
}

/** `simd: 'relaxed'` where the engine lacks relaxed SIMD: the error code init() rejects with. */
export async function initError(simdnn, options) {
  try {
    const nn = await simdnn.init(options);
    return { code: 'NO_ERROR', binary: nn.features.binary };
  } catch (err) {
    return { code: err?.code ?? String(err), message: err?.message };
  }
}
