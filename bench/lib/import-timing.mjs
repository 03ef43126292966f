// Import timing: how long a 784-512-256-10 MLP (the W2 model: 535,818 parameters, 2.1 MB of
// float32) takes from bytes in memory to a model ready to predict, in each format simdnn reads, and
// how long ONNX Runtime (Node and Web) takes to create a session from the same ONNX bytes.
//
// One fresh child process per (contender, format) (bench/child.mjs, mode 'import'): the library is
// imported and initialised before the clock starts (start-up is measured elsewhere), then
//   first  = the first load in the process. For simdnn this includes the dynamic import() of the
//            importers' chunk (dist/load.js) that the first nn.load* call makes; for ORT Web, the
//            instantiation of its wasm binary, which happens at the first session.
//   steady = median of `runs` further loads after `warmups` (each model disposed / session released):
//            the best case, once V8 has optimised the importer.
// After the first load the model predicts one row, checked against the float64 reference of mlp-b1
// (same weights): a format that loads the wrong numbers fails the run.
//
// The bytes are built here from the workload's weights, the way each tool writes them: ONNX as a
// PyTorch export (Gemm transB=1 + Relu, Softmax; symbolic batch), a PyTorch state dict in safetensors
// (0.weight, 0.bias, 2.weight, … of nn.Sequential(Linear, ReLU, …)), a TF.js layers model.json +
// weights.bin as tfjs-layers 4.22's model.save() writes it, and simdnn's own model.save() file.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { WORKLOAD_BY_ID, check } from './workloads.mjs';
import { buildOnnx } from './onnx-model.mjs';

/** The workload whose weights, input and float64 reference the import timing uses. */
export const IMPORT_WORKLOAD_ID = 'mlp-b1';

/** Formats in report order. `build` is the floor: nn.sequential of Float32Arrays, nothing parsed. */
export const IMPORT_FORMATS = {
  onnx: 'ONNX → nn.loadOnnx',
  safetensors: 'safetensors state dict → nn.readSafetensors + nn.sequential(spec, { tensors })',
  simdnn: 'model.save() file → nn.load',
  tfjs: 'TF.js model.json + weights.bin → nn.loadTfjs',
  build: 'no file: nn.sequential of Float32Arrays (the build alone)',
};
export const ORT_FORMAT_TITLE = 'ONNX → InferenceSession.create(bytes)';

// The importers' JavaScript (protobuf and JSON parsing) needs about ten loads before V8 has optimised
// it (under load, the first dozen nn.loadOnnx calls in one process took tens of ms each, then
// ~1.5 ms), hence the long warm-up.
export const IMPORT_RUNS = { full: { runs: 21, warmups: 20 }, quick: { runs: 3, warmups: 1 } };

const enc = new TextEncoder();

/** A safetensors file: 8-byte little-endian header length, JSON header (space-padded to 8), data. */
export function safetensorsBytes(tensors) {
  const header = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = enc.encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = enc.encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let o = 8 + json.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  return out;
}

function transpose(m, rows, cols) {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/** model.json (as bytes) + one weights.bin, laid out as tfjs-layers 4.22's model.save() writes them. */
export function tfjsArtifacts(layers) {
  const weights = [], data = [];
  const config = layers.map((l, i) => {
    const name = `dense_Dense${i + 1}`;
    weights.push({ name: `${name}/kernel`, shape: [l.inputs, l.units], dtype: 'float32' }, { name: `${name}/bias`, shape: [l.units], dtype: 'float32' });
    data.push(transpose(l.weights, l.units, l.inputs), l.bias); // kernels are [inputs][units]
    return {
      class_name: 'Dense',
      config: {
        units: l.units, activation: l.activation, use_bias: true,
        kernel_initializer: { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'normal', seed: null } },
        bias_initializer: { class_name: 'Zeros', config: {} },
        kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
        name, trainable: true, ...(i === 0 ? { batch_input_shape: [null, l.inputs], dtype: 'float32' } : {}),
      },
    };
  });
  const modelJson = {
    modelTopology: { class_name: 'Sequential', config: { name: 'sequential_1', layers: config }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    format: 'layers-model', generatedBy: 'TensorFlow.js tfjs-layers v4.22.0', convertedBy: null,
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  const bin = new Uint8Array(data.reduce((n, a) => n + a.byteLength, 0));
  let o = 0;
  for (const a of data) { bin.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o); o += a.byteLength; }
  return { modelJson: enc.encode(JSON.stringify(modelJson)), weights: bin };
}

/** Every format's bytes for the import workload (simdnn's own file is made by simdnn: see savedBytes). */
export function importArtifacts() {
  const w = WORKLOAD_BY_ID[IMPORT_WORKLOAD_ID];
  const { layers } = w.data();
  const onnx = buildOnnx(w, { batch: 'batch' }).bytes;
  const safetensors = safetensorsBytes(layers.flatMap((l, i) => [
    { name: `${2 * i}.weight`, shape: [l.units, l.inputs], data: l.weights },
    { name: `${2 * i}.bias`, shape: [l.units], data: l.bias },
  ]));
  // The spec a user writes beside a state dict: which tensor fills which layer, and the activations.
  const stateDictSpec = { format: 'simdnn', version: 1, layers: layers.map((l, i) => ({ weights: `${2 * i}.weight`, bias: `${2 * i}.bias`, activation: l.activation })) };
  const spec = { format: 'simdnn', version: 1, layers: layers.map((l, i) => ({ ...(i === 0 ? { inputs: l.inputs } : {}), units: l.units, activation: l.activation, weights: l.weights, bias: l.bias })) };
  return { w, onnx, safetensors, stateDictSpec, spec, tfjs: tfjsArtifacts(layers) };
}

// model.save()'s bytes are shared through the run's cache folder: the first simdnn import process
// writes them after its own timing, so the process that times nn.load of them has not run
// nn.sequential or save() before its clock starts (that would warm the code it times).
const savedFile = () => (process.env.BENCH_CACHE_DIR ? path.join(process.env.BENCH_CACHE_DIR, 'import.saved.safetensors') : null);

function writeSaved(bytes) {
  const file = savedFile();
  if (!file || existsSync(file)) return;
  writeFileSync(`${file}.${process.pid}.tmp`, bytes);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Steady state: `warmups` loads, then the median of `runs` timed loads (each released untimed). */
async function steadyState(load, release, { runs, warmups }) {
  for (let k = 0; k < warmups; k++) await release(await load());
  const ms = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const m = await load();
    ms.push(performance.now() - t0);
    await release(m);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: quantile(ms, 0.5), p25Ms: quantile(ms, 0.25), p75Ms: quantile(ms, 0.75), minMs: ms[0], runs: ms.length, warmups };
}

/**
 * One (contender, format) measurement, in a fresh process. `contender` is the adapter (simdnn's or
 * ORT's). Returns the row for the report.
 */
export async function measureImport(contender, format, quick) {
  const budget = quick ? IMPORT_RUNS.quick : IMPORT_RUNS.full;
  const a = importArtifacts();
  const { x } = a.w.data();
  a.w.reference();
  const info = await contender.init(); // the library is loaded before the clock starts

  let load, release, predict, bytes;
  if (contender.isSimdnn) {
    const nn = contender.runtime();
    release = (m) => m.dispose();
    predict = (m) => m.predict(x, 1);
    if (format === 'onnx') { bytes = a.onnx.length; load = () => nn.loadOnnx(a.onnx); }
    else if (format === 'safetensors') { bytes = a.safetensors.length; load = async () => nn.sequential(a.stateDictSpec, { tensors: await nn.readSafetensors(a.safetensors) }); }
    else if (format === 'tfjs') { bytes = a.tfjs.modelJson.length + a.tfjs.weights.length; load = () => nn.loadTfjs(a.tfjs.modelJson, a.tfjs.weights); }
    else if (format === 'build') { bytes = 0; load = async () => nn.sequential(a.spec); }
    else if (format === 'simdnn') {
      let saved = savedFile() && existsSync(savedFile()) ? new Uint8Array(readFileSync(savedFile())) : null;
      if (!saved) { // a filtered run: make it here (this warms nn.sequential before the clock)
        const m = nn.sequential(a.spec);
        saved = m.save();
        m.dispose();
      }
      bytes = saved.length;
      load = () => nn.load(saved);
    } else throw new Error(`unknown import format ${format}`);
  } else {
    if (format !== 'onnx') throw new Error(`${contender.id} reads ONNX only`);
    bytes = a.onnx.length;
    load = () => contender.createSession(a.onnx);
    release = (s) => s.release();
    predict = (s) => contender.runSession(s, x, [1, a.w.inputs]);
  }

  const t0 = performance.now();
  const first = await load();
  const firstMs = performance.now() - t0;
  // The check, on the first model, untimed.
  const verdict = check(a.w, await predict(first));
  if (contender.isSimdnn && format === 'onnx') writeSaved(first.save());
  await release(first);
  const steady = await steadyState(load, release, budget);
  return {
    contender: contender.id, format, bytes, info,
    ok: verdict.ok, message: verdict.message, maxAbsErr: verdict.maxAbsErr,
    firstMs, ...steady,
  };
}
