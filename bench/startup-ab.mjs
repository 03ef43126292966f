// Start-up of two builds compared in one run: fresh Node processes, interleaved, each timing
// import → init() → nn.sequential (a 64×64 dense layer) → the first predict, phase by phase.
// Without arguments: this checkout's dist/node.js with init() (threads 'auto': shared memory) and
// with init({ threads: 1 }); give another build's dist/node.js to compare with it too, e.g. one from
// before the worker pool:
//   git worktree add /tmp/old 0eae078 && (cd /tmp/old && npm ci && npm run build)
//   node bench/startup-ab.mjs /tmp/old/dist/node.js
// Env RUNS (default 21) sets the processes per variant. Medians per phase, in ms.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('../dist/node.js', import.meta.url));
const variants = [['this build, threads auto', here, ''], ['this build, threads 1', here, '{ threads: 1 }']];
for (const other of process.argv.slice(2)) variants.push([other, other, '']);
const runs = Number(process.env.RUNS ?? 21);
const dir = mkdtempSync(join(tmpdir(), 'simdnn-startup-'));
const script = join(dir, 'one.mjs');
writeFileSync(script, `const [path, options] = process.argv.slice(2);
const t0 = performance.now();
const { init } = await import(path);
const t1 = performance.now();
const nn = await init(options ? JSON.parse(options) : undefined);
const t2 = performance.now();
const m = nn.sequential({ layers: [{ inputs: 64, units: 64, activation: 'relu', weights: new Float32Array(4096).fill(0.01), bias: new Float32Array(64) }] });
const t3 = performance.now();
m.predict(new Float32Array(64).fill(1));
const t4 = performance.now();
console.log(JSON.stringify([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]));
`);
try {
  const results = variants.map(() => []);
  for (let r = 0; r < runs; r++) {
    variants.forEach(([, path, options], i) => {
      const json = options ? JSON.stringify({ threads: 1 }) : '';
      results[i].push(JSON.parse(execFileSync(process.execPath, [script, path, json], { encoding: 'utf8' })));
    });
  }
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log(`import → init → sequential → first predict, ms (medians of ${runs} fresh processes each, interleaved; Node ${process.versions.node})`);
  variants.forEach(([name], i) => {
    const m = (k) => median(results[i].map((row) => row[k])).toFixed(2);
    console.log(`  ${name.padEnd(28)} import ${m(0)}  init ${m(1)}  sequential ${m(2)}  predict ${m(3)}  total ${m(4)}`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
