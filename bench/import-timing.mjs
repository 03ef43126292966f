// How long importing a 784-512-256-10 MLP (535,818 parameters, 2.1 MB of float32) takes through the
// public API of the built package (dist/): from ONNX bytes (nn.loadOnnx), from a PyTorch-style
// safetensors state dict (nn.readSafetensors + nn.sequential(spec, { tensors })), and from a file
// written by model.save() (nn.load); the build alone (nn.sequential of a spec holding Float32Arrays)
// is measured too, so that parse = end-to-end − build. Medians of RUNS runs (default 21) after 3
// warm-ups, plus the first call, which includes the dynamic import() of the importers' chunk.
//
//   npm run build && node bench/import-timing.mjs            # baseline SIMD128
//   node --experimental-wasm-relaxed-simd bench/import-timing.mjs relaxed
//
// Shared, noisy machines: compare within one run. Prints a table, and JSON with --json.
import { performance } from 'node:perf_hooks';

const { init } = await import('../dist/node.js');
const binary = process.argv.includes('relaxed') ? 'relaxed' : 'baseline';
const RUNS = Number(process.env.RUNS ?? 21);
const SIZES = [784, 512, 256, 10];

function random(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 0.1;
  }
  return out;
}

const layers = [0, 1, 2].map((l) => ({
  w: random(SIZES[l] * SIZES[l + 1], l + 1), // [out][in]
  b: random(SIZES[l + 1], l + 11),
  act: l < 2 ? 'relu' : 'softmax',
}));

// --- A minimal protobuf writer for the ONNX graph PyTorch exports: Gemm(transB = 1) + Relu/Softmax.
const enc = new TextEncoder();
function varint(n) {
  const out = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const key = (field, wire) => Uint8Array.from(varint(field * 8 + wire));
const vint = (field, n) => cat(key(field, 0), Uint8Array.from(varint(n)));
const bytes = (field, b) => cat(key(field, 2), Uint8Array.from(varint(b.length)), b);
const str = (field, s) => bytes(field, enc.encode(s));

const tensor = (name, dims, data) => cat(...dims.map((d) => vint(1, d)), vint(2, 1), str(8, name), bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
const node = (op, inputs, outputs, attrs = []) => cat(...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(4, op), ...attrs);
const intAttr = (name, v) => bytes(5, cat(str(1, name), vint(3, v), vint(20, 2)));
const dim = (d) => bytes(1, typeof d === 'number' ? vint(1, d) : str(2, d));
const valueInfo = (name, dims) => cat(str(1, name), bytes(2, bytes(1, cat(vint(1, 1), bytes(2, cat(...dims.map(dim)))))));

function mlpOnnx() {
  const nodes = [];
  const inits = [];
  let cur = 'x';
  layers.forEach(({ w, b, act }, l) => {
    inits.push(bytes(5, tensor(`w${l}`, [SIZES[l + 1], SIZES[l]], w)), bytes(5, tensor(`b${l}`, [SIZES[l + 1]], b)));
    nodes.push(bytes(1, node('Gemm', [cur, `w${l}`, `b${l}`], [`g${l}`], [intAttr('transB', 1)])));
    const out = l < 2 ? `r${l}` : 'y';
    nodes.push(bytes(1, node(act === 'relu' ? 'Relu' : 'Softmax', [`g${l}`], [out], act === 'relu' ? [] : [intAttr('axis', 1)])));
    cur = out;
  });
  const graph = cat(...nodes, str(2, 'mlp'), ...inits, bytes(11, valueInfo('x', ['batch', 784])), bytes(12, valueInfo('y', ['batch', 10])));
  return cat(vint(1, 8), bytes(8, cat(str(1, ''), vint(2, 13))), bytes(7, graph));
}

function median(f) {
  for (let k = 0; k < 3; k++) f();
  const t = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

async function medianAsync(f) {
  for (let k = 0; k < 3; k++) await f();
  const t = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

const nn = await init({ simd: binary });
const onnx = mlpOnnx();
const spec = { inputs: 784, layers: layers.map(({ w, b, act }, l) => ({ units: SIZES[l + 1], weights: w, bias: b, activation: act })) };
const model = nn.sequential(spec);
const saved = model.save();
model.dispose();
// A state dict as PyTorch writes it (0.weight, 0.bias, 2.weight, … for Linear, ReLU, Linear, …).
const stateDict = (() => {
  const m = nn.sequential(spec);
  const bytesOut = m.save(); // F32 tensors named layers.N.weight/bias; the spec below names them
  m.dispose();
  return bytesOut;
})();
const named = { layers: [0, 1, 2].map((l) => ({ weights: `layers.${l}.weight`, bias: `layers.${l}.bias`, activation: layers[l].act })) };

const t0 = performance.now();
(await nn.loadOnnx(onnx)).dispose();
const first = performance.now() - t0;

const build = median(() => nn.sequential(spec).dispose());
const rows = [
  ['ONNX (Gemm, PyTorch export) → nn.loadOnnx', onnx.length, await medianAsync(async () => (await nn.loadOnnx(onnx)).dispose())],
  ['state dict → readSafetensors + sequential', stateDict.length, await medianAsync(async () => nn.sequential(named, { tensors: await nn.readSafetensors(stateDict) }).dispose())],
  ['model.save() file → nn.load', saved.length, await medianAsync(async () => (await nn.load(saved)).dispose())],
];

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ binary, runs: RUNS, firstCallMs: first, buildMs: build, rows: rows.map(([name, size, ms]) => ({ name, bytes: size, ms, parseMs: ms - build })) }, null, 2));
} else {
  console.log(`import timing, 784-512-256-10 MLP (${binary} binary, medians of ${RUNS})`);
  console.log(`  first nn.loadOnnx (includes importing the importers' chunk): ${first.toFixed(2)} ms`);
  console.log(`  build only (nn.sequential of Float32Arrays):                 ${build.toFixed(2)} ms`);
  for (const [name, size, ms] of rows) {
    console.log(`  ${name.padEnd(44)} ${(size / 1e6).toFixed(2)} MB  end-to-end ${ms.toFixed(2)} ms  parse ≈ ${(ms - build).toFixed(2)} ms`);
  }
}
nn.dispose();
