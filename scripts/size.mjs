// What an application ships: bundles a tiny inference-only app (init, sequential, predict) against
// the built package (dist/index.js, as a bundler resolves `simdnn`), minified, and reports the
// gzipped JavaScript loaded up front (the entry chunk and what it imports statically) and the lazy
// chunks (the importers, dist/load.js; the worker pool, dist/pool.js), with and without esbuild's
// code splitting (without it, esbuild inlines dynamically imported modules into the one file).
//   node scripts/size.mjs [--modules]       (after `npm run build`)
// test/bundlers/size.node-only.test.ts asserts on the same measurement.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';

const REPO = fileURLToPath(new URL('../', import.meta.url));

export const APP = `import { init } from 'simdnn';
const nn = await init();
const model = nn.sequential({ layers: [{ inputs: 3, units: 2, activation: 'relu', weights: [1, -1, 0.5, 2, 0, -1], bias: [0, 0.5] }] });
export const y = model.predict([1, 2, 3]);
`;

/** Bundle `source` (`simdnn` → dist/index.js) with esbuild, minified, split or not. */
export async function bundleApp(source = APP, { splitting = true } = {}) {
  const outdir = join(tmpdir(), 'simdnn-size');
  const result = await build({
    stdin: { contents: source, resolveDir: REPO, sourcefile: 'app.js' },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, splitting, outdir,
    metafile: true, write: false, absWorkingDir: REPO, logLevel: 'silent',
    plugins: [{ name: 'simdnn', setup(b) { b.onResolve({ filter: /^simdnn$/ }, () => ({ path: join(REPO, 'dist/index.js') })); } }],
  });
  const outputs = result.metafile.outputs;
  const text = new Map(result.outputFiles.map((f) => [relative(REPO, f.path), f.text]));
  const [entry] = Object.entries(outputs).find(([, o]) => o.entryPoint !== undefined);
  const initial = new Set();
  const visit = (path) => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const i of outputs[path].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  const up = [...initial].map((path) => text.get(path)).join('\n');
  const lazy = Object.keys(outputs).filter((p) => !initial.has(p) && p.endsWith('.js')).map((path) => ({
    path, inputs: Object.keys(outputs[path].inputs), text: text.get(path), gzip: gzipSync(text.get(path)).length,
  }));
  const modules = new Map();
  for (const path of initial) for (const [m, v] of Object.entries(outputs[path].inputs)) modules.set(m, (modules.get(m) ?? 0) + v.bytesInOutput);
  return { text: up, bytes: Buffer.byteLength(up), gzip: gzipSync(up).length, lazy, modules: [...modules].sort((a, b) => b[1] - a[1]) };
}

const kB = (n) => `${(n / 1024).toFixed(1)} KiB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const splitting of [true, false]) {
    const r = await bundleApp(APP, { splitting });
    console.log(`esbuild --bundle --minify${splitting ? ' --splitting' : ''}: ${kB(r.bytes)} minified, ${kB(r.gzip)} gzipped (${r.gzip} bytes) loaded up front`);
    for (const c of r.lazy) console.log(`  lazy ${c.inputs.map((i) => i.replace(/^dist\//, '')).join(' + ')}: ${kB(c.gzip)} gzipped`);
    if (process.argv.includes('--modules')) for (const [m, n] of r.modules) console.log(`  ${String(n).padStart(7)}  ${m}`);
  }
}
