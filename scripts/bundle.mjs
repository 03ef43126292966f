// Bundles each public entry into one ES module in dist/ (types come from tsc). One file instead of
// a dozen halves Node's import time (measured: 20 ms → 4.5 ms from `import` to loaded), and
// bundlers get a single module. dist/*.js sit one level below the package root, like src/*.ts, so
// `new URL('../build/…wasm', import.meta.url)` resolves the same from source and from dist.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { common as shared, importersApart } from './bundle-options.mjs';

// The esbuild settings (minified, keepNames, the importers, the pool and fit's pool steps apart as
// dist/load.js, dist/pool.js and dist/parallel.js) are in scripts/bundle-options.mjs, shared with scripts/size.mjs.
// No source maps by default: they were 236 kB of the 545 kB the published package unpacked to (72 of
// its 164 kB packed), plus the src/ they point into, for stepping through simdnn's own internals,
// which a checkout does better. `node scripts/bundle.mjs --sourcemap` writes linked maps for that.
const sourcemap = process.argv.includes('--sourcemap');
const common = { ...shared, sourcemap };
const CHUNK = /^(chunk|load)-[A-Z0-9]{8}\.js(\.map)?$/; // left by an earlier code-splitting build
for (const name of existsSync('dist') ? await readdir('dist') : []) if (CHUNK.test(name)) await rm(join('dist', name));
const lib = { ...common, minify: true };
await Promise.all([
  build({ ...lib, entryPoints: ['src/node.ts'], outfile: 'dist/node.js', platform: 'node', plugins: [importersApart] }),
  build({ ...lib, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', platform: 'neutral', mainFields: ['module', 'main'], plugins: [importersApart] }),
  build({ ...lib, entryPoints: ['src/io/load.ts'], outfile: 'dist/load.js', platform: 'neutral', mainFields: ['module', 'main'] }),
  // The worker pool (src/pool/pool.ts, imported by the runtime on the first predictAsync that uses
  // threads) and the script each worker runs (src/worker.ts, self-contained: it imports nothing).
  build({ ...lib, entryPoints: ['src/pool/pool.ts'], outfile: 'dist/pool.js', platform: 'neutral' }),
  // fit's steps on the pool (src/train/parallel.ts, imported by a model on its first such step).
  build({ ...lib, entryPoints: ['src/train/parallel.ts'], outfile: 'dist/parallel.js', platform: 'neutral' }),
  build({ ...lib, entryPoints: ['src/worker.ts'], outfile: 'dist/worker.js', platform: 'neutral' }),
  // `npm start`'s tour (src/demo.ts). Built beside node.js, which it imports; not published (package.json "files").
  build({ ...common, entryPoints: ['src/demo.ts'], outfile: 'dist/demo.js', platform: 'node', external: ['./node.js'] }),
]);
// A map left by an earlier --sourcemap build would no longer match its bundle.
if (!sourcemap) for (const name of ['node', 'index', 'load', 'pool', 'parallel', 'worker', 'demo']) rmSync(`dist/${name}.js.map`, { force: true });
