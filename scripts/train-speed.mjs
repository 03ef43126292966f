// Quick training throughput check (not the benchmark suite): samples/s of model.trainStep for a
// 64-128-64-10 ReLU/softmax MLP at batch 32 with Adam and crossEntropy, on both binaries.
// Median of 7 runs of 2,000 steps each, after 200 warm-up steps. Uses dist/ (npm run build).
//   node scripts/train-speed.mjs            (Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd for relaxed)
import { createRuntime } from '../dist/node.js';

const BATCH = 32;
const STEPS = 2000;
const RUNS = 7;

for (const simd of ['baseline', 'relaxed']) {
  let nn;
  try {
    nn = await createRuntime({ simd });
  } catch (err) {
    console.log(`${simd}: not available (${err.message.split('\n')[0]})`);
    continue;
  }
  const model = nn.sequential({
    layers: [
      { inputs: 64, units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 10, activation: 'softmax' },
    ],
  }, { seed: 1 });
  const x = Float32Array.from({ length: BATCH * 64 }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const y = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
  const opts = { loss: 'crossEntropy', optimizer: 'adam' };
  for (let i = 0; i < 200; i++) model.trainStep(x, y, BATCH, opts);
  const rates = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) model.trainStep(x, y, BATCH, opts);
    rates.push((STEPS * BATCH) / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const fmt = (v) => Math.round(v).toLocaleString('en-US');
  console.log(`${simd}: ${fmt(rates[RUNS >> 1])} samples/s (median of ${RUNS}; min ${fmt(rates[0])}, max ${fmt(rates[RUNS - 1])}); ${(1e6 * BATCH / rates[RUNS >> 1]).toFixed(1)} µs per step`);
  model.dispose();
  nn.dispose();
}
