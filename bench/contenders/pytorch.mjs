// PyTorch on one thread (torch.set_num_threads(1)), for the training workloads only: the reference
// point people compare training speed with. It runs in Python, so it cannot take calls from the
// harness: each workload is one `/usr/bin/python3 bench/contenders/pytorch-train.py` process that
// gets the workload's data through files and times itself with the harness's budget rules
// (pytorch-train.py). Its check is the same as the others' (first loss against float64, then falling).
//
// Optional: when `import torch` fails in that Python (CI machines have none), every cell is n/a
// with the reason, the run says "PyTorch SKIPPED" and the targets against it read "no data". It never
// fails the run. BENCH_PYTHON names another interpreter.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pytorch-train.py', import.meta.url));
// Python's own threads: one, whatever the BLAS would pick.
const ENV = { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };

let available = null; // null: not probed; else { ok, version?, reason? }

/** Whether `import torch` works in PYTHON (about a second: it imports torch). */
export function probeTorch() {
  if (available) return available;
  const r = spawnSync(PYTHON, ['-c', 'import json, torch; torch.set_num_threads(1); print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads()}))'], {
    encoding: 'utf8', env: ENV, timeout: 120_000,
  });
  if (r.status === 0) {
    try {
      return (available = { ok: true, ...JSON.parse(r.stdout.trim().split('\n').at(-1)) });
    } catch { /* fall through */ }
  }
  const why = r.error ? r.error.message : (r.stderr || r.stdout || `exit code ${r.status}`).trim().split('\n').at(-1);
  return (available = { ok: false, reason: `\`import torch\` failed in ${PYTHON}: ${why}` });
}

/** @type {import('./types.mjs').Contender} */
export default {
  id: 'pytorch',
  label: 'PyTorch (CPU, 1 thread, training only)',

  supports(w) {
    if (w.kind !== 'train') return 'PyTorch is timed on the training workloads only';
    const t = probeTorch();
    return t.ok ? true : `SKIPPED: ${t.reason}`;
  },

  async init() {
    const t = probeTorch();
    return t.ok
      ? { version: t.version, threads: t.threads, python: PYTHON }
      : { skipped: t.reason, python: PYTHON };
  },

  async setup(w) {
    const { layers, x, labels } = w.data();
    const dir = mkdtempSync(path.join(process.env.BENCH_CACHE_DIR || os.tmpdir(), 'pytorch-'));
    const raw = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    writeFileSync(path.join(dir, 'x.f32'), raw(x));
    writeFileSync(path.join(dir, 'labels.i32'), raw(labels));
    const files = layers.map((l, i) => {
      writeFileSync(path.join(dir, `w${i}.f32`), raw(l.weights));
      writeFileSync(path.join(dir, `b${i}.f32`), raw(l.bias));
      return { w: `w${i}.f32`, b: `b${i}.f32` };
    });
    return {
      crossEntropy: true,
      /** Runs the check steps and the timing in Python; returns what the harness would have measured. */
      timed(budget, checkSteps) {
        const job = { dir, shape: w.shape, batch: w.batch, batches: w.batches, checkSteps, budget, layers: files };
        const r = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(job), encoding: 'utf8', env: ENV, timeout: 600_000, maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new Error(`${PYTHON} pytorch-train.py: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
        return JSON.parse(r.stdout.trim().split('\n').at(-1));
      },
      dispose() { rmSync(dir, { recursive: true, force: true }); },
    };
  },

  async footprint() {
    return null; // not something a web page ships
  },
};
