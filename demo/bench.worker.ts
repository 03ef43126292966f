// The benchmark runs here, in a Web Worker, so the page stays responsive while it measures: simdnn
// (both binaries) against straightforward plain-JS loops on the same inputs.
import { createRuntime, detectFeatures, type Runtime } from '../src/index.js';

export interface BenchRow {
  id: string;
  label: string;
  detail: string;
  /** ms per call */
  js: number;
  baseline: number;
  relaxed?: number;
  /** largest |simdnn − JS| over the outputs */
  maxDiff: number;
}

export type BenchMessage =
  | { type: 'progress'; done: number; total: number; label: string }
  | { type: 'done'; rows: BenchRow[]; relaxedSimd: boolean }
  | { type: 'error'; message: string };

interface Scope { postMessage(m: BenchMessage): void; onmessage: ((e: MessageEvent<{ type: 'run'; quick?: boolean }>) => void) | null }
const scope = self as unknown as Scope;

const now = () => performance.now();

/** Median ms per call: calibrate repetitions so one sample takes ≥ 4 ms, then sample for `budget` ms. */
function time(fn: () => void, budget: number): number {
  fn();
  fn();
  let reps = 1;
  for (;;) {
    const t = now();
    for (let i = 0; i < reps; i++) fn();
    if (now() - t >= 4 || reps >= 1 << 14) break;
    reps *= 2;
  }
  const samples: number[] = [];
  const end = now() + budget;
  while ((now() < end && samples.length < 40) || samples.length < 3) {
    const t = now();
    for (let i = 0; i < reps; i++) fn();
    samples.push((now() - t) / reps);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

function random(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// ----- plain JS versions
function denseJs(x: Float32Array, batch: number, w: Float32Array, b: Float32Array, nIn: number, nOut: number, out: Float32Array, relu: boolean): void {
  for (let r = 0; r < batch; r++) {
    const xo = r * nIn;
    for (let o = 0; o < nOut; o++) {
      let s = b[o]!;
      const wo = o * nIn;
      for (let i = 0; i < nIn; i++) s += x[xo + i]! * w[wo + i]!;
      out[r * nOut + o] = relu && s < 0 ? 0 : s;
    }
  }
}

function softmaxJs(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[o + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) { const e = Math.exp(x[o + c]! - m); out[o + c] = e; s += e; }
    const inv = 1 / s;
    for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! * inv;
  }
}

/** Models a workload creates; disposed when the workload is done (the safety net would otherwise
 *  warn about them after garbage collection). */
const owned: Array<{ dispose(): void }> = [];

interface Workload {
  id: string;
  label: string;
  detail: string;
  js: () => Float32Array;
  nn: (nn: Runtime) => () => Float32Array;
}

function workloads(): Workload[] {
  // MLP 784 → 256 → 128 → 10
  const dims = [784, 256, 128, 10];
  const batch = 64;
  const Ws = dims.slice(1).map((n, l) => random(n * dims[l]!, 10 + l, Math.sqrt(6 / dims[l]!)));
  const Bs = dims.slice(1).map((n, l) => random(n, 20 + l, 0.1));
  const xMlp = random(batch * dims[0]!, 1);
  const bufs = dims.slice(1).map((n) => new Float32Array(batch * n));
  const spec = {
    layers: dims.slice(1).map((n, l) => ({
      inputs: dims[l]!, units: n, activation: l < 2 ? 'relu' : 'softmax', weights: Ws[l]!, bias: Bs[l]!,
    })),
  };
  const N = 1 << 20;
  const xAct = random(N, 2, 6);
  const outAct = new Float32Array(N);
  const rows = 2048, cols = 256;
  const xSm = random(rows * cols, 3, 8);
  const outSm = new Float32Array(rows * cols);
  const K = Math.sqrt(2 / Math.PI);
  return [
    {
      id: 'mlp',
      label: 'MLP forward',
      detail: `784-256-128-10 · batch ${batch}`,
      js: () => {
        let x = xMlp;
        for (let l = 0; l < 3; l++) {
          denseJs(x, batch, Ws[l]!, Bs[l]!, dims[l]!, dims[l + 1]!, bufs[l]!, l < 2);
          x = bufs[l]!;
        }
        softmaxJs(x, batch, 10, bufs[2]!);
        return bufs[2]!;
      },
      nn: (nn) => {
        const model = nn.sequential(spec as never);
        owned.push(model);
        const out = new Float32Array(batch * 10);
        return () => model.predictInto(xMlp, out, batch);
      },
    },
    {
      id: 'gelu',
      label: 'GELU (tanh)',
      detail: `${(N / 2 ** 20).toFixed(0)} M values`,
      js: () => {
        for (let i = 0; i < N; i++) {
          const x = xAct[i]!;
          outAct[i] = 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x * x * x)));
        }
        return outAct;
      },
      nn: (nn) => {
        const out = new Float32Array(N);
        return () => nn.gelu(xAct, { approximate: 'tanh' }, out);
      },
    },
    {
      id: 'sigmoid',
      label: 'sigmoid',
      detail: `${(N / 2 ** 20).toFixed(0)} M values`,
      js: () => {
        for (let i = 0; i < N; i++) outAct[i] = 1 / (1 + Math.exp(-xAct[i]!));
        return outAct;
      },
      nn: (nn) => {
        const out = new Float32Array(N);
        return () => nn.sigmoid(xAct, out);
      },
    },
    {
      id: 'softmax',
      label: 'softmax',
      detail: `${rows} rows × ${cols}`,
      js: () => { softmaxJs(xSm, rows, cols, outSm); return outSm; },
      nn: (nn) => {
        const out = new Float32Array(rows * cols);
        return () => nn.softmax(xSm, cols, out);
      },
    },
  ];
}

async function run(quick: boolean): Promise<void> {
  const relaxedSimd = detectFeatures().relaxedSimd;
  const baseline = await createRuntime({ simd: 'baseline' });
  const relaxed = relaxedSimd ? await createRuntime({ simd: 'relaxed' }) : undefined;
  const budget = quick ? 150 : 450;
  const list = workloads();
  const rows: BenchRow[] = [];
  const total = list.length * (relaxed ? 3 : 2);
  let done = 0;
  const progress = (label: string) => scope.postMessage({ type: 'progress', done, total, label });
  // Rounds interleave the contenders, and each keeps its best round median: a burst of load from
  // elsewhere on the machine then skews one round, not the comparison.
  const ROUNDS = 3;
  for (const w of list) {
    const contenders: Array<{ key: 'js' | 'baseline' | 'relaxed'; fn: () => Float32Array }> = [{ key: 'js', fn: w.js }];
    contenders.push({ key: 'baseline', fn: w.nn(baseline) });
    if (relaxed) contenders.push({ key: 'relaxed', fn: w.nn(relaxed) });
    const best: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of contenders) {
        progress(`${w.label} · ${c.key === 'js' ? 'plain JS' : `simdnn ${c.key}`}`);
        best[c.key] = Math.min(best[c.key] ?? Infinity, time(c.fn, budget / ROUNDS));
      }
    }
    done += contenders.length;
    const ref = w.js().slice();
    const diff = Math.max(...contenders.slice(1).map((c) => maxDiff(ref, c.fn())));
    owned.splice(0).forEach((m) => m.dispose());
    rows.push({
      id: w.id, label: w.label, detail: w.detail, js: best.js!, baseline: best.baseline!,
      ...(best.relaxed !== undefined ? { relaxed: best.relaxed } : {}), maxDiff: diff,
    });
  }
  scope.postMessage({ type: 'done', rows, relaxedSimd });
}

scope.onmessage = (e) => {
  if (e.data.type === 'run') {
    run(!!e.data.quick).catch((err: unknown) => scope.postMessage({ type: 'error', message: String((err as Error)?.message ?? err) }));
  }
};
