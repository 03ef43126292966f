// `npm start`: a short tour of what simdnn computes, on built-in defaults. Every number printed is
// computed now, on this machine.
import { init, type Runtime, type Sequential } from './node.js';

const f = (v: number, d = 4) => (Number.isInteger(v) ? String(v) : v.toFixed(d));
const row = (a: ArrayLike<number>, d = 4) => `[${Array.from(a, (v) => f(v, d)).join(', ')}]`;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Bold headings only on a terminal, and never with NO_COLOR set (no-color.org: present and not
 *  empty) or TERM=dumb: piped into a file or another program, the output is plain text. */
function useStyle(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}
const STYLE = useStyle(process.stdout, process.env);

function heading(text: string): void {
  console.log(STYLE ? `\n\x1b[1m${text}\x1b[0m` : `\n${text}`);
}

/** Deterministic weights so every run prints the same model. */
function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

function median(times: number[]): number {
  const s = [...times].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median µs per call of fn, over about `ms` milliseconds after a warm-up of about a fifth of
 *  that. Each sample repeats fn for about a millisecond, so a slow fn (a plain-JS sigmoid over a
 *  million floats, ~25 ms) costs as little time as a fast one, and the whole tour stays short. */
function time(fn: () => unknown, ms = 100): number {
  let calls = 0;
  const warm = performance.now();
  while (calls < 3 || performance.now() - warm < ms / 5) {
    fn();
    calls++;
  }
  const reps = Math.max(1, Math.round(calls / (performance.now() - warm))); // about 1 ms of calls
  const samples: number[] = [];
  const end = performance.now() + ms;
  while (samples.length < 5 || performance.now() < end) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    samples.push(((performance.now() - t0) / reps) * 1000);
  }
  return median(samples);
}

/** How a typical user writes a dense layer in plain JavaScript. */
function naiveDense(x: Float32Array, w: Float32Array, b: Float32Array, K: number, N: number, relu: boolean): Float32Array {
  const y = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let s = b[n]!;
    for (let k = 0; k < K; k++) s += w[n * K + k]! * x[k]!;
    y[n] = relu ? Math.max(0, s) : s;
  }
  return y;
}

function workedExample(nn: Runtime): void {
  heading('1. One neuron: z = w·x + b, then an activation a = σ(z)');
  const w = [0.5, -1.0];
  const x = [2.0, 1.5];
  const b = -0.5;
  const neuron = nn.dense({ inputs: 2, units: 1, weights: w, bias: [b] });
  const z = neuron.predict(x)[0]!;
  console.log(`   w = ${row(w, 1)}, x = ${row(x, 1)}, b = ${b}  →  z = 0.5·2 − 1·1.5 − 0.5 = ${f(z)}`);
  const zs = Float32Array.of(z);
  console.log(`   ReLU(z)    = max(0, z)      = ${f(nn.relu(zs)[0]!)}`);
  console.log(`   sigmoid(z) = 1/(1 + e^−z)   = ${nn.sigmoid(zs)[0]!.toPrecision(10)}   (float64: 0.2689414213699951)`);
  console.log(`   tanh(z)    = ${nn.tanh(zs)[0]!.toPrecision(8)},  step(z) = ${nn.step(zs)[0]},  gelu(z) = ${nn.gelu(zs)[0]!.toPrecision(8)}`);
  neuron.dispose();
}

function collapse(nn: Runtime): void {
  heading('2. Without an activation, two layers collapse into one matrix; with ReLU they do not');
  const W1 = [1, 2, -1, 0.5, 0, -3]; // 3×2
  const W2 = [1, -1, 2]; // 1×3
  const W21 = [0, 1].map((k) => W2[0]! * W1[k]! + W2[1]! * W1[2 + k]! + W2[2]! * W1[4 + k]!);
  const linear = nn.sequential({ layers: [{ inputs: 2, units: 3, weights: W1 }, { units: 1, weights: W2 }] });
  const bent = nn.sequential({ layers: [{ inputs: 2, units: 3, weights: W1, activation: 'relu' }, { units: 1, weights: W2 }] });
  const one = nn.dense({ inputs: 2, units: 1, weights: W21 });
  console.log(`   W2·W1 = ${row(W21, 1)}`);
  console.log('   x            W2(W1 x)   (W2 W1) x   W2 relu(W1 x)');
  for (const x of [[1, 0], [0, 1], [1, 1], [-1, 2]]) {
    console.log(`   ${row(x, 0).padEnd(12)} ${f(linear.predict(x)[0]!, 2).padStart(8)}   ${f(one.predict(x)[0]!, 2).padStart(8)}   ${f(bent.predict(x)[0]!, 2).padStart(12)}`);
  }
  console.log('   The first two columns agree for every x: a stack of linear layers is one linear map.');
  [linear, bent, one].forEach((m) => m.dispose());
}

function xor(nn: Runtime): void {
  heading('3. XOR: no single linear neuron separates it; two ReLU neurons and one output do');
  const X = Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1);
  const XOR = [0, 1, 1, 0];
  // h1 = relu(x1 + x2), h2 = relu(x1 + x2 − 1), y = h1 − 2·h2
  const model = nn.sequential({
    format: 'simdnn', version: 1,
    layers: [
      { inputs: 2, units: 2, weights: [[1, 1], [1, 1]], bias: [0, -1], activation: 'relu' },
      { units: 1, weights: [[1, -2]], bias: [0] },
    ],
  });
  const y = model.predict(X, 4);
  // A single linear neuron with a step (a perceptron) draws one line through the plane: at best 3 of
  // the 4 points fall on the right side. Search a grid of them, all at once: one dense layer of G³
  // step units, each unit one candidate (w1, w2, b), evaluated on the 4 points in one call.
  const grid = Array.from({ length: 9 }, (_, i) => -2 + i / 2); // −2, −1.5, …, 2
  const candidates = grid.flatMap((w1) => grid.flatMap((w2) => grid.map((b) => [w1, w2, b] as const)));
  const perceptrons = nn.dense({
    inputs: 2, units: candidates.length, activation: 'step',
    weights: candidates.flatMap(([w1, w2]) => [w1, w2]), bias: candidates.map(([, , b]) => b),
  });
  const out = perceptrons.predict(X, 4); // [4 points][candidates]
  const score = candidates.map((_, u) => XOR.filter((t, i) => out[i * candidates.length + u] === t).length);
  const best = Math.max(...score);
  const winners = score.filter((s) => s === best).length;
  // The one shown: w = (1, 1), b = −0.5, which computes OR and is wrong only on (1, 1).
  const shown = candidates.findIndex(([w1, w2, b]) => w1 === 1 && w2 === 1 && b === -0.5);
  const step = (i: number) => out[i * candidates.length + shown]!;
  console.log('   x1 x2 | XOR | network | step(x1 + x2 − 0.5)');
  for (let i = 0; i < 4; i++) {
    const a = X[2 * i]!;
    const c = X[2 * i + 1]!;
    console.log(`    ${a}  ${c} |  ${a ^ c}  |    ${f(y[i]!)}    | ${step(i)}`);
  }
  const ok = XOR.every((t, i) => y[i] === t);
  console.log(`   network solves XOR: ${ok ? 'yes (4 of 4)' : 'NO'}. The step neuron above computes OR: ${score[shown]} of 4 right.`);
  console.log(`   A grid of ${candidates.length} step neurons (w1, w2, b ∈ {−2, −1.5, …, 2}) in one dense layer, one call:`);
  console.log(`   the best get ${best} of 4 (${winners} of them); ${best < 4 ? 'none gets all 4' : `${winners} get all 4?!`}.`);
  model.dispose();
  perceptrons.dispose();
}

/** Two interleaved spirals, one per class: n points per arm, 1.5 turns, radius 0.1 → 0.95, with a
 *  little seeded noise. No straight line (and no single neuron) separates them. Rows are x, y. */
function spirals(n: number, seed: number): { x: Float32Array; labels: Uint8Array } {
  const uniform = rand(6 * n, seed); // in [−1, 1)
  const x = new Float32Array(4 * n);
  const labels = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) {
      const k = 2 * i + c;
      const t = (i + 0.5 + 0.5 * uniform[3 * k]!) / n; // how far along the arm
      const [px, py] = spiralPoint(t, c);
      x[2 * k] = px + 0.03 * uniform[3 * k + 1]!;
      x[2 * k + 1] = py + 0.03 * uniform[3 * k + 2]!;
      labels[k] = c;
    }
  }
  return { x, labels };
}

/** The point a fraction t along arm c (0 or 1) of the spirals. */
function spiralPoint(t: number, c: number): [number, number] {
  const angle = t * 3 * Math.PI + c * Math.PI;
  const radius = 0.1 + 0.85 * t;
  return [radius * Math.cos(angle), radius * Math.sin(angle)];
}

/** Training progress on stdout: on a terminal, a bar redrawn in place with a
 *  carriage return (no escape codes, so NO_COLOR and TERM=dumb terminals get it too) and a kept
 *  line every few epochs; into a pipe or a file, only the kept lines. */
class Progress {
  #shown = 0;
  constructor(private readonly live: boolean, private readonly total: number) {}

  bar(epoch: number, text: string): void {
    if (!this.live) return;
    const width = 24;
    const done = Math.round((epoch / this.total) * width);
    this.#draw(`   [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${text}`);
  }

  line(text: string): void {
    if (this.#shown > 0) process.stdout.write(`\r${' '.repeat(this.#shown)}\r`); // the bar goes; the line stays
    this.#shown = 0;
    console.log(text);
  }

  #draw(text: string): void {
    process.stdout.write(`\r${text.padEnd(this.#shown)}`);
    this.#shown = text.length;
  }
}

/** The plane [−1, 1]² as text: what the model predicts at each character cell (one batched predict),
 *  with the training points on top, under a caption. */
function map(model: Sequential, data: { x: Float32Array; labels: Uint8Array }): string {
  const cols = 50;
  const rows = 19; // a character is about twice as tall as it is wide
  const caption = [
    `   What the trained model predicts over the plane (one predict of ${cols * rows} points): class B where ':', A where blank;`,
    '   the letters are the training points.',
  ];
  const cells = new Float32Array(2 * cols * rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      cells[2 * (r * cols + c)] = -1 + (2 * (c + 0.5)) / cols;
      cells[2 * (r * cols + c) + 1] = 1 - (2 * (r + 0.5)) / rows;
    }
  }
  const p = model.predict(cells, cols * rows);
  const text = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c): string => (p[2 * (r * cols + c) + 1]! > 0.5 ? ':' : ' ')));
  for (let k = 0; k < data.labels.length; k++) {
    const c = Math.floor(((data.x[2 * k]! + 1) / 2) * cols);
    const r = Math.floor(((1 - data.x[2 * k + 1]!) / 2) * rows);
    const line = text[Math.min(rows - 1, Math.max(0, r))]!;
    line[Math.min(cols - 1, Math.max(0, c))] = data.labels[k] ? 'B' : 'A';
  }
  const edge = `   +${'-'.repeat(cols)}+`;
  return [...caption, edge, ...text.map((line) => `   |${line.join('')}|`), edge].join('\n');
}

async function training(nn: Runtime): Promise<void> {
  heading('4. Training from scratch: a 2-32-32-2 network learns two spirals (model.fit, cross-entropy, Adam)');
  const perArm = 150;
  const train = spirals(perArm, 42);
  const test = spirals(100, 4242);
  const epochs = 60;
  const every = 10;
  const options = { epochs, batchSize: 32, loss: 'crossEntropy', optimizer: { name: 'adam', learningRate: 0.02 } } as const;
  // Layers without weights are untrained: seeded He initialisation, so every run prints the same.
  const model = nn.sequential({
    layers: [{ inputs: 2, units: 32, activation: 'relu' }, { units: 32, activation: 'relu' }, { units: 2, activation: 'softmax' }],
  }, { seed: 1 });
  const before = model.evaluate(train.x, train.labels, { loss: 'crossEntropy' });
  console.log(`   ${2 * perArm} points on two interleaved spirals (1.5 turns each), class A and class B; ${model.parameterCount} parameters.`);
  console.log(`   untrained (seed 1): loss ${f(before.loss)}, accuracy ${pct(before.accuracy!)} (chance is 50%)`);
  const progress = new Progress(process.stdout.isTTY === true, epochs);
  const pad = String(epochs).length;
  const t0 = performance.now();
  const history = await model.fit(train.x, train.labels, {
    ...options,
    onEpochEnd(epoch, logs) {
      const text = `epoch ${String(epoch + 1).padStart(pad)}/${epochs}  loss ${f(logs.loss)}  accuracy ${pct(logs.accuracy!)}`;
      if ((epoch + 1) % every === 0 || epoch === 0) progress.line(`   ${text}`);
      else progress.bar(epoch + 1, text);
    },
  });
  const ms = performance.now() - t0;
  const steps = epochs * Math.ceil((2 * perArm) / options.batchSize);
  const final = model.evaluate(test.x, test.labels, { loss: 'crossEntropy' });
  console.log(`   trained in ${f(ms, 0)} ms (${steps} steps of batch ${options.batchSize}); loss ${f(history.loss[0]!)} → ${f(history.loss.at(-1)!)}`);
  console.log(`   accuracy on ${test.labels.length} new points from the same spirals: ${pct(final.accuracy!)}`);
  // Without hidden layers the same training finds the best straight cut, which cannot follow a spiral.
  const linear = nn.sequential({ layers: [{ inputs: 2, units: 2, activation: 'softmax' }] }, { seed: 1 });
  await linear.fit(train.x, train.labels, options);
  console.log(`   the same training without hidden layers (one straight cut): ${pct(linear.evaluate(test.x, test.labels, { loss: 'crossEntropy' }).accuracy!)}`);
  console.log(map(model, train));
  const point = spiralPoint(0.6, 1);
  const p = model.predict(point);
  console.log(`   model.predict(${row(point, 2)}) = ${row(p)}: class ${p[1]! > p[0]! ? 'B' : 'A'} (a point on arm B)`);
  model.dispose();
  linear.dispose();
}

function mlp(nn: Runtime): void {
  heading('5. A 784-512-256-10 MLP (ReLU, ReLU, softmax): the forward pass runs in one WebAssembly call');
  const sizes = [784, 512, 256, 10];
  const acts = ['relu', 'relu', 'softmax'] as const;
  const t0 = performance.now();
  const model = nn.sequential({
    format: 'simdnn', version: 1,
    layers: [0, 1, 2].map((i) => ({
      inputs: sizes[i]!, units: sizes[i + 1]!, activation: acts[i],
      weights: rand(sizes[i]! * sizes[i + 1]!, 11 + i, 1 / Math.sqrt(sizes[i]!)), bias: rand(sizes[i + 1]!, 21 + i, 0.1),
    })),
  });
  const built = performance.now() - t0;
  console.log(model.summary().split('\n').map((l) => '   ' + l).join('\n'));
  const batch = 64;
  const x = rand(batch * 784, 5).map((v) => (v + 1) / 2);
  const t1 = performance.now();
  const y = model.predict(x, batch);
  const first = performance.now() - t1;
  const top = Array.from(y.subarray(0, 10)).reduce((best, v, i, a) => (v > a[best]! ? i : best), 0);
  console.log(`   built (weights packed) in ${f(built, 1)} ms; first predict of batch ${batch} in ${f(first, 2)} ms`);
  console.log(`   row 0: class ${top} with p = ${f(y[top]!)}; each row sums to 1 (row 0: ${f(y.subarray(0, 10).reduce((a, b) => a + b, 0), 6)})`);
  const us1 = time(() => model.predict(x.subarray(0, 784), 1));
  const us64 = time(() => model.predict(x, batch));
  const flops = 2 * (784 * 512 + 512 * 256 + 256 * 10);
  console.log(`   batch 1: ${f(us1, 1)} µs per prediction; batch ${batch}: ${f(us64, 0)} µs (${f((flops * batch) / us64 / 1000, 1)} GFLOP/s)`);
  model.dispose();
}

function timing(nn: Runtime): void {
  heading('6. Quick timing against plain JavaScript (median µs per call, this machine, one thread)');
  console.log('   workload                          simdnn    plain JS   speed-up');
  for (const size of [64, 256, 1024]) {
    const w = rand(size * size, size, 1 / Math.sqrt(size));
    const b = rand(size, size + 1, 0.1);
    const x = rand(size, size + 2);
    const layer = nn.dense({ inputs: size, units: size, weights: w, bias: b, activation: 'relu' });
    const fast = time(() => layer.predict(x));
    const slow = time(() => naiveDense(x, w, b, size, size, true));
    console.log(`   dense relu(Wx+b) ${String(size + '×' + size).padEnd(10)} batch 1 ${f(fast, 2).padStart(9)} ${f(slow, 2).padStart(10)} ${f(slow / fast, 1).padStart(8)}×`);
    layer.dispose();
  }
  const n = 1 << 20;
  const big = rand(n, 3, 8);
  const out = new Float32Array(n);
  const fast = time(() => nn.sigmoid(big, out));
  const slow = time(() => { for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-big[i]!)); });
  console.log(`   sigmoid on 1M floats                ${f(fast, 0).padStart(9)} ${f(slow, 0).padStart(10)} ${f(slow / fast, 1).padStart(8)}×`);
  console.log('   Full comparison with TensorFlow.js and ONNX Runtime: npm run bench');
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const nn = await init();
  const loaded = performance.now() - t0;
  console.log(`simdnn: ${nn.features.binary === 'relaxed' ? 'relaxed SIMD (FMA)' : 'SIMD128'} binary loaded in ${f(loaded, 1)} ms (Node ${process.versions.node})`);
  workedExample(nn);
  collapse(nn);
  xor(nn);
  await training(nn);
  mlp(nn);
  timing(nn);
  const mem = nn.memory();
  console.log(`\nmemory: ${mem.objects} live objects, ${mem.bytes} bytes owned, ${(mem.heapBytes / 2 ** 20).toFixed(1)} MiB of WebAssembly memory`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
