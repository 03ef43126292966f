// Memory growth, run in every engine and by Node for the expected results (as smoke.mjs is). A fresh
// runtime (createRuntime: its own WebAssembly memory, 64 KiB at first) creates a small model and the
// staging buffer of activate()/softmax(), then forces WebAssembly.Memory.grow three ways: an 8 MiB
// dense layer, a batch of 30,000 rows through the small model (its own buffers grow), and a softmax
// over one row of 2²¹ floats (the staging buffer grows to 8 MiB). After each, the model and the
// staging buffer made before the growth must still give the same bits: a view kept on the detached
// buffer would read zeros. Then a runtime capped by maximumMemory rejects a layer and a batch with
// OUT_OF_MEMORY and keeps working, 1,000 create/predict/dispose cycles leave nn.memory() unchanged,
// dispose() returns the bytes, and nn.dispose() ends the runtime.
//
// Results are JSON: `outputs` (float32 bit patterns; large outputs sampled by rows), `digests`
// (a hash of each large output's every bit, for the bit-exact comparison), `checks` (invariants the
// engine checks itself, each must be true), `memory` (nn.memory() after each step) and `errors`.
//
//   const result = await runMemory(simdnn, { simd: 'baseline' });

import { bits, errorOf, inputs, modelInput, modelSpec } from './smoke.mjs';

const MiB = 2 ** 20;

/** n deterministic values in [-scale, scale) (xorshift32; no Math.random). */
function fill(n, seed, scale = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** Rows 0, step, 2·step, … and the last row of a row-major `y` with `width` columns. */
function everyRow(y, width, step) {
  const rows = y.length / width;
  const picked = [];
  for (let r = 0; r < rows; r += step) picked.push(r);
  if (picked.at(-1) !== rows - 1) picked.push(rows - 1);
  const out = new Float32Array(picked.length * width);
  picked.forEach((r, i) => out.set(y.subarray(r * width, (r + 1) * width), i * width));
  return out;
}

/** FNV-1a over the float32 bit patterns (one 32-bit word at a time): equal digests, equal bits. */
function digest(f32) {
  let h = 0x811c9dc5;
  for (const w of new Uint32Array(f32.buffer, f32.byteOffset, f32.length)) h = Math.imul(h ^ w, 0x01000193) >>> 0;
  return h;
}

function sameBits(a, b) {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** Run the growth sequence on `createRuntime(options)`; resolves to { binary, outputs, digests, checks, memory, errors }. */
export async function runMemory(simdnn, options = {}) {
  const nn = await simdnn.createRuntime(options);
  const binary = nn.features.binary;
  const outputs = {};
  const digests = {};
  const checks = {};
  const memory = [];
  const note = (step) => memory.push({ step, ...nn.memory() });

  note('fresh runtime');
  const x = inputs();
  const model = nn.sequential(modelSpec());
  const input = modelInput(3);
  const before = model.predict(input, 3);
  const geluBefore = nn.activate('gelu', x); // allocates the staging buffer, before any growth
  outputs['model, batch 3, before growth'] = bits(before);
  outputs['gelu, before growth'] = bits(geluBefore);
  note('17-9-5 model, batch 3, and the staging buffer');

  // 1. 8 MiB of packed weights.
  const K = 2048;
  const N = 1024;
  const weights = fill(K * N, 11, 1 / 32);
  const big = nn.dense({ inputs: K, units: N, weights, bias: fill(N, 12) });
  note('+ a 2048 → 1024 dense layer (8 MiB of weights)');
  outputs['model, batch 3, after the 8 MiB layer'] = bits(model.predict(input, 3));
  outputs['gelu, after the 8 MiB layer'] = bits(nn.activate('gelu', x));
  outputs['2048 → 1024 dense, batch 2'] = bits(big.predict(fill(2 * K, 13), 2));
  note('+ its buffers for batch 2');

  // 2. A batch far larger than any before: the model's own input/output buffers grow.
  const rows = 30_000;
  const ys = model.predict(modelInput(rows), rows);
  note('+ the model’s buffers for batch 30000');
  outputs['model, batch 30000: every 97th row and the last'] = bits(everyRow(ys, 5, 97));
  digests['model, batch 30000'] = digest(ys);
  checks['batch 30000: its first 3 rows have the bits of batch 3'] = sameBits(ys.subarray(0, 15), before);

  // 3. One softmax row of 2²¹ floats: the staging buffer grows to 8 MiB.
  const wide = fill(2 ** 21, 14, 10);
  const sm = nn.softmax(wide, wide.length);
  note('+ softmax over one row of 2²¹ floats (staging buffer)');
  outputs['softmax, one row of 2²¹: every 4099th value and the last'] = bits(everyRow(sm, 1, 4099));
  digests['softmax, one row of 2²¹'] = digest(sm);
  let sum = 0;
  for (const v of sm) sum += v;
  // (float32 accumulation over 2²¹ terms: Node's sum is 1.0002; a stale or zeroed stretch of the
  // row would be far off)
  checks['softmax, one row of 2²¹: sums to 1 within 1e-3'] = Math.abs(sum - 1) < 1e-3;

  // After all of it, what was created first still reads and writes the right memory.
  const after = model.predict(input, 3);
  outputs['model, batch 3, after all growth'] = bits(after);
  outputs['gelu, after all growth'] = bits(nn.activate('gelu', x));
  checks['the model created before growth predicts the same bits after it'] = sameBits(before, after);
  checks['gelu through the staging buffer gives the same bits after growth'] = sameBits(geluBefore, nn.activate('gelu', x));
  const heap = memory.map((m) => m.heapBytes);
  checks['nn.memory().heapBytes grew by more than 16 MiB, never shrinking'] =
    heap.at(-1) - heap[0] > 16 * MiB && heap.every((h, i) => i === 0 || h >= heap[i - 1]);

  // A runtime capped at 4 MiB: the 8 MiB layer is refused, and its model keeps working.
  const capped = await simdnn.createRuntime({ ...options, maximumMemory: 4 * MiB });
  const small = capped.sequential(modelSpec());
  const errors = {
    'an 8 MiB layer past maximumMemory: 4 MiB': errorOf(simdnn.SimdnnError, () => capped.dense({ inputs: K, units: N, weights })),
  };
  errors['a batch of 100000 past maximumMemory: 4 MiB'] = errorOf(simdnn.SimdnnError, () => small.predict(modelInput(100_000), 100_000));
  outputs['capped runtime: model, batch 3, after OUT_OF_MEMORY'] = bits(small.predict(input, 3));
  checks['capped runtime: nn.memory() stays within maximumMemory'] = capped.memory().heapBytes <= 4 * MiB && capped.memory().maximumBytes === 4 * MiB;
  capped.dispose();

  // Create/predict/dispose cycles leave nn.memory() where they found it: nothing leaks, and the
  // freed blocks are reused (the heap does not grow).
  const start = JSON.stringify(nn.memory());
  for (let i = 0; i < 1000; i++) {
    const m = nn.sequential(modelSpec());
    m.predict(modelInput(1 + (i % 7)), 1 + (i % 7));
    m.dispose();
  }
  checks['1,000 create/predict/dispose cycles return nn.memory() to where it was'] = JSON.stringify(nn.memory()) === start;

  big.dispose();
  model.dispose();
  note('after dispose() of both models');
  const end = memory.at(-1);
  checks['after dispose(): no live objects, no bytes owned, memory not shrunk'] = end.objects === 0 && end.bytes === 0 && end.heapBytes === heap.at(-1);
  nn.dispose();
  errors['nn.memory() after nn.dispose()'] = errorOf(simdnn.SimdnnError, () => nn.memory());
  errors['predict after nn.dispose()'] = errorOf(simdnn.SimdnnError, () => model.predict(input, 3));
  return { binary, outputs, digests, checks, memory, errors };
}
