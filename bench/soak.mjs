// simdnn soak benchmark. `npm run soak` — not part of `npm test`. Needs `npm run build`.
//
// Runs inference for SOAK_SECONDS (default 60) on a mid-size MLP (256 → 512 → 256 → 10, ReLU,
// ReLU, softmax: 0.26 M parameters) with batches varying from 1 to 128, alternating predict and
// predictInto, while every SOAK_CHURN inferences (default 200) it creates, uses and disposes a
// random smaller model and runs an activation. Every SOAK_INTERVAL seconds (default 5) it samples
// memory; at the end it prints latency percentiles per batch size and memory over time as tables.
//
// It also checks that the soak is healthy, and exits 1 otherwise:
//   - the MLP's output for a fixed probe stays bit-identical for the whole run (no corruption),
//   - after the churn models are disposed, nn.memory() objects/bytes are back at their baseline,
//   - WebAssembly memory (heapBytes) stops growing after the first interval.
//
// Env: SOAK_SECONDS, SOAK_INTERVAL, SOAK_CHURN, SOAK_SEED, SOAK_SIMD (auto | baseline | relaxed;
// relaxed on Node 20 needs `node --experimental-wasm-relaxed-simd bench/soak.mjs`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rng } from './lib/workloads.mjs';

const DIST = new URL('../dist/node.js', import.meta.url);
if (!existsSync(fileURLToPath(DIST))) {
  process.stderr.write('soak: dist/node.js is missing. Run `npm run build` first.\n');
  process.exit(2);
}
const { init, SimdnnError } = await import(DIST.href);

const num = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`soak: ${name} must be a positive number, got ${v}\n`);
    process.exit(2);
  }
  return n;
};
const SECONDS = num('SOAK_SECONDS', 60);
const INTERVAL = num('SOAK_INTERVAL', 5);
const CHURN = Math.round(num('SOAK_CHURN', 200));
const SEED = Math.round(num('SOAK_SEED', 5));
const SIMD = process.env.SOAK_SIMD || 'auto';

const random = rng(SEED);
const floats = (n, scale = 1) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (random() * 2 - 1) * scale;
  return a;
};

const nn = await init({ simd: SIMD });
const WIDTHS = [256, 512, 256, 10];
const ACTS = ['relu', 'relu', 'softmax'];
const spec = {
  format: 'simdnn',
  version: 1,
  layers: ACTS.map((activation, i) => ({
    inputs: WIDTHS[i],
    units: WIDTHS[i + 1],
    weights: floats(WIDTHS[i] * WIDTHS[i + 1], 1 / Math.sqrt(WIDTHS[i])),
    bias: floats(WIDTHS[i + 1], 0.1),
    activation,
  })),
};
const baseline = nn.memory();
const mlp = nn.sequential(spec);
const probe = floats(256);
const golden = mlp.predict(probe);
const BATCHES = [1, 1, 1, 2, 3, 4, 7, 8, 16, 17, 32, 33, 64, 100, 128];
const MAX_BATCH = 128;
const input = floats(256 * MAX_BATCH);
const outs = new Map(BATCHES.map((b) => [b, new Float32Array(b * 10)]));
const buckets = [
  { label: 'batch 1', test: (b) => b === 1 },
  { label: 'batch 2–16', test: (b) => b >= 2 && b <= 16 },
  { label: 'batch 17–64', test: (b) => b >= 17 && b <= 64 },
  { label: 'batch 65–128', test: (b) => b > 64 },
];
const lat = new Map(buckets.map((k) => [k.label, []]));
const rows = [];
const problems = [];
let inferences = 0;
let rowsDone = 0;
let churned = 0;
let checks = 0;

const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
function sample(t) {
  const m = nn.memory();
  const p = process.memoryUsage();
  rows.push({ t, inferences, rows: rowsDone, churned, heapBytes: m.heapBytes, objects: m.objects, bytes: m.bytes, scratch: m.scratchBytes, rss: p.rss, jsHeap: p.heapUsed });
}

/** A random small model: 1–3 dense layers, widths 1–96, random activations. Used once, disposed. */
function churn() {
  const layers = [];
  let width = 1 + Math.floor(random() * 96);
  const inputs = width;
  const n = 1 + Math.floor(random() * 3);
  const acts = ['relu', 'tanh', 'gelu', 'sigmoid', 'linear', { name: 'leakyRelu', alpha: 0.2 }, 'softmax'];
  for (let i = 0; i < n; i++) {
    const units = 1 + Math.floor(random() * 96);
    layers.push({ inputs: width, units, weights: floats(width * units, 0.3), bias: floats(units, 0.1), activation: acts[Math.floor(random() * acts.length)] });
    width = units;
  }
  const m = nn.sequential({ layers });
  try {
    const batch = 1 + Math.floor(random() * 40);
    const y = m.predict(floats(inputs * batch), batch);
    if (y.length !== batch * width || y.some(Number.isNaN)) problems.push(`churn model ${churned}: bad output`);
    nn.activate(acts[Math.floor(random() * 5)], floats(1000 + Math.floor(random() * 50_000)));
  } finally {
    m.dispose();
  }
  churned++;
}

process.stderr.write(`soak: ${nn.features.binary} binary, MLP ${WIDTHS.join(' → ')} (${mlp.parameterCount} parameters), ${SECONDS} s, sampling every ${INTERVAL} s\n`);
const start = performance.now();
const end = start + SECONDS * 1000;
let nextSample = start;
let now = start;
sample(0);
nextSample += INTERVAL * 1000;
while (now < end) {
  const batch = BATCHES[Math.floor(random() * BATCHES.length)];
  const x = input.subarray(0, 256 * batch);
  const t0 = performance.now();
  if (inferences & 1) mlp.predictInto(x, outs.get(batch), batch);
  else mlp.predict(x, batch);
  const t1 = performance.now();
  now = t1;
  for (const k of buckets) if (k.test(batch)) lat.get(k.label).push(t1 - t0);
  inferences++;
  rowsDone += batch;
  if (inferences % CHURN === 0) {
    const before = nn.memory();
    try {
      churn();
    } catch (err) {
      problems.push(`churn ${churned}: ${err instanceof SimdnnError ? err.code : err?.constructor?.name}: ${err?.message}`);
    }
    const after = nn.memory();
    if (after.objects !== before.objects || after.bytes !== before.bytes) {
      problems.push(`churn ${churned}: memory ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    }
    const y = mlp.predict(probe);
    checks++;
    if (!y.every((v, i) => Object.is(v, golden[i]))) problems.push(`after ${inferences} inferences: the MLP's probe output changed`);
  }
  if (now >= nextSample) {
    sample((now - start) / 1000);
    nextSample += INTERVAL * 1000;
    process.stderr.write(`  ${rows.at(-1).t.toFixed(0).padStart(4)} s: ${inferences} inferences, heap ${mb(rows.at(-1).heapBytes)} MB, rss ${mb(rows.at(-1).rss)} MB\n`);
  }
}
const seconds = (performance.now() - start) / 1000;
if (seconds - rows.at(-1).t > INTERVAL / 10) sample(seconds);
mlp.dispose();
const final = nn.memory();
if (final.objects !== baseline.objects || final.bytes !== baseline.bytes) {
  problems.push(`after disposing everything: ${JSON.stringify(final)}, baseline ${JSON.stringify(baseline)}`);
}
const heapAfterFirst = rows.find((r) => r.t >= INTERVAL)?.heapBytes ?? rows[1]?.heapBytes;
if (heapAfterFirst !== undefined && rows.at(-1).heapBytes > heapAfterFirst) {
  problems.push(`WebAssembly memory kept growing: ${heapAfterFirst} → ${rows.at(-1).heapBytes} bytes`);
}

// ---------------------------------------------------------------- report
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const us = (ms) => (ms * 1000).toFixed(ms < 0.1 ? 1 : 0);
function table(head, body, align) {
  const cells = [head, ...body].map((r) => r.map(String));
  const w = head.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((v, c) => (align[c] === 'l' ? v.padEnd(w[c]) : v.padStart(w[c]))).join(' | ')} |`;
  return [line(cells[0]), `| ${w.map((n, c) => (align[c] === 'l' ? ':' + '-'.repeat(n - 1) : '-'.repeat(n - 1) + ':')).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}
const latRows = [];
for (const k of buckets) {
  const a = Float64Array.from(lat.get(k.label)).sort();
  if (!a.length) continue;
  latRows.push([k.label, a.length, us(pct(a, 50)), us(pct(a, 90)), us(pct(a, 99)), us(a[a.length - 1])]);
}
const all = Float64Array.from([...lat.values()].flat()).sort();
latRows.push(['all', all.length, us(pct(all, 50)), us(pct(all, 90)), us(pct(all, 99)), us(all[all.length - 1])]);

const out = [];
out.push(`## simdnn soak: ${seconds.toFixed(0)} s, ${nn.features.binary} binary, Node ${process.versions.node}`);
out.push('');
out.push(`MLP ${WIDTHS.join(' → ')} (${ACTS.join(', ')}), ${mlp.parameterCount} parameters; ${inferences} inferences (${rowsDone} rows, ` +
  `${(rowsDone / seconds).toFixed(0)} rows/s); ${churned} churn models created, used and disposed; ${checks} corruption checks.`);
out.push('');
out.push('Latency per predict/predictInto call (µs):');
out.push('');
out.push(table(['batch', 'calls', 'p50', 'p90', 'p99', 'max'], latRows, ['l', 'r', 'r', 'r', 'r', 'r']));
out.push('');
out.push('Memory over time:');
out.push('');
out.push(table(
  ['t (s)', 'inferences', 'churned', 'heapBytes', 'objects', 'bytes', 'scratchBytes', 'RSS (MB)', 'JS heap (MB)'],
  rows.map((r) => [r.t.toFixed(0), r.inferences, r.churned, r.heapBytes, r.objects, r.bytes, r.scratch, mb(r.rss), mb(r.jsHeap)]),
  ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
));
out.push('');
out.push(problems.length ? `PROBLEMS (${problems.length}):\n${problems.slice(0, 20).map((p) => `- ${p}`).join('\n')}` : 'Healthy: probe output bit-identical throughout, memory back to baseline, WebAssembly memory flat after the first interval.');
process.stdout.write(out.join('\n') + '\n');
process.exit(problems.length ? 1 : 0);
