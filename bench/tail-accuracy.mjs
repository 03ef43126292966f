// Sigmoid far into its lower tail: simdnn against ONNX Runtime Node and a float64 reference.
// `node bench/tail-accuracy.mjs` (needs `npm run build`). ORT's sigmoid (MLAS) is a rational
// function plus 1/2 with absolute accuracy only; simdnn's goes through e^-|x| and keeps its
// relative accuracy. Prints one row per input. Installs the benchmark's peer libraries into
// bench/node_modules first if they are not there (bench/setup.mjs).
import { ensureBenchDeps } from './setup.mjs';

ensureBenchDeps();
const { default: ort } = await import('onnxruntime-node');
const { buildOnnx } = await import('./lib/onnx-model.mjs');
const { init } = await import('../dist/node.js');

const xs = Float32Array.of(-5, -10, -15, -17, -20, -30, -60, -80);
const model = buildOnnx({ kind: 'elementwise', op: 'sigmoid', elements: xs.length, id: 'sigmoid-tail' });
const session = await ort.InferenceSession.create(model.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const fromOrt = (await session.run({ [model.input]: new ort.Tensor('float32', xs, model.dims) }))[model.output].data;
const nn = await init();
const fromSimdnn = nn.sigmoid(xs);

const rows = [['x', 'float64', 'simdnn', 'rel. error', 'ORT Node', 'rel. error']];
xs.forEach((x, i) => {
  const ref = 1 / (1 + Math.exp(-x));
  const rel = (y) => (Math.abs(y - ref) / ref).toExponential(1);
  rows.push([String(x), ref.toExponential(4), fromSimdnn[i].toExponential(4), rel(fromSimdnn[i]), fromOrt[i].toExponential(4), rel(fromOrt[i])]);
});
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join('  '));
