// What an application ships: bundles a tiny inference-only app (init, nn.sequential, predict) that
// imports `simdnn`, from source (src/index.ts, the browser entry a bundler resolves `simdnn` to) with
// the package's own esbuild settings (scripts/bundle-options.mjs: minified, keepNames) plus code
// splitting, as an application's bundler would: the importers (src/io/) and the worker pool
// (src/pool/pool.ts), reached only through the runtime's dynamic import()s, become lazy chunks.
// Prints the gzipped JavaScript loaded before the app runs (the entry chunk and the chunks it imports
// statically), the lazy chunks, the biggest modules loaded up front, and the same app without
// --splitting (esbuild then inlines the dynamic imports), and what the importers' hooks in the core
// (nn.load, loadOnnx, loadTfjs, readSafetensors: the `// @importers {…}` regions of src/) add up
// front. Needs `npm ci`, no build.
//   node scripts/size.mjs               simdnn (src/index.ts, platform browser); also `npm run size`
//   node scripts/size.mjs --node        also simdnn/node (src/node.ts, platform node)
//   node scripts/size.mjs --dist        against the built package (dist/*.js; after `npm run build`)
//   node scripts/size.mjs --modules     every module loaded up front, not just the ten biggest
//   node scripts/size.mjs --at <commit> src/index.ts at an earlier commit, the same way
// test/bundlers/size.node-only.test.ts asserts on the same measurement.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { lib } from './bundle-options.mjs';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** The app: builds a model from a spec and predicts (relu(1 − 2 + 1.5), relu(2 − 3 + 0.5) = [0.5, 0]). */
export const APP = `import { init } from 'simdnn';
const nn = await init();
const model = nn.sequential({ layers: [{ inputs: 3, units: 2, activation: 'relu', weights: [1, -1, 0.5, 2, 0, -1], bias: [0, 0.5] }] });
export const y = model.predict([1, 2, 3]);
console.log(JSON.stringify(Array.from(y)));
`;

/** The lines between `// @importers {` and `// @importers }` of src/*.ts left out: what the core
 *  would be without the importers' hooks (nn.load, loadOnnx, loadTfjs, readSafetensors). */
export const IMPORTER_MARK = /^[ \t]*\/\/ @importers \{[^\n]*\n[\s\S]*?^[ \t]*\/\/ @importers \}[^\n]*\n/gm;
function withoutMarked(srcDir) {
  return {
    name: 'without-importers',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (a) => {
        if (!a.path.startsWith(srcDir)) return undefined;
        const text = readFileSync(a.path, 'utf8');
        return { contents: text.replace(IMPORTER_MARK, ''), loader: 'ts' };
      });
    },
  };
}

/**
 * Bundle `source` with esbuild and the package's settings. `simdnn` resolves as package.json's
 * exports do: to the Node entry for platform 'node' (and for `simdnn/node`), else the browser entry;
 * from `root`/src (default) or the built `root`/dist.
 */
export async function bundleApp(source = APP, { root = REPO, from = 'src', platform = 'browser', splitting = true, outdir = join(tmpdir(), 'simdnn-size'), withoutImporters = false } = {}) {
  const entry = (spec) => {
    const name = platform === 'node' || spec === 'simdnn/node' ? 'node' : 'index';
    return join(root, from === 'dist' ? `dist/${name}.js` : `src/${name}.ts`);
  };
  const result = await build({
    // From dist/, the app's own bundler settings: dist/*.js keep their names already.
    ...lib, ...(from === 'dist' ? { keepNames: false } : {}), stdin: { contents: source, resolveDir: root, sourcefile: 'app.js' }, splitting, outdir, platform,
    metafile: true, write: false, absWorkingDir: root, logLevel: 'silent',
    plugins: [
      { name: 'simdnn', setup(b) { b.onResolve({ filter: /^simdnn(\/node)?$/ }, (a) => ({ path: entry(a.path) })); } },
      ...(withoutImporters ? [withoutMarked(join(root, 'src'))] : []),
    ],
  });
  const outputs = result.metafile.outputs;
  const text = new Map(result.outputFiles.map((f) => [relative(root, f.path), f.text]));
  const [main] = Object.entries(outputs).find(([, o]) => o.entryPoint !== undefined);
  const initial = new Set();
  const visit = (path) => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const i of outputs[path].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(main);
  const files = [...initial].map((path) => ({ path, text: text.get(path) }));
  const up = files.map((f) => f.text).join('\n');
  const lazy = Object.keys(outputs).filter((p) => !initial.has(p) && p.endsWith('.js')).map((path) => ({
    path, inputs: Object.keys(outputs[path].inputs), text: text.get(path), bytes: Buffer.byteLength(text.get(path)), gzip: gzipSync(text.get(path)).length,
  }));
  const modules = new Map();
  for (const path of initial) for (const [m, v] of Object.entries(outputs[path].inputs)) modules.set(m, (modules.get(m) ?? 0) + v.bytesInOutput);
  return {
    /** The files loaded up front (the entry chunk first) and their text, joined. */
    files, text: up, bytes: Buffer.byteLength(up),
    /** The files loaded up front gzipped as one text (comparable with a one-file bundle). */
    gzip: gzipSync(up).length,
    /** The same, each file gzipped on its own (what a server sends). */
    gzipFiles: files.reduce((a, f) => a + gzipSync(f.text).length, 0),
    lazy,
    /** The bytes each module puts into the files loaded up front, biggest first. */
    modules: [...modules].sort((a, b) => b[1] - a[1]),
    /** Writes every chunk into outdir; returns the entry chunk's path. */
    write() {
      for (const f of result.outputFiles) { mkdirSync(dirname(f.path), { recursive: true }); writeFileSync(f.path, f.contents); }
      return join(root, main);
    },
  };
}

const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

/** A lazy chunk's modules in short: `src/io/*` (9 modules). */
function describeChunk(inputs) {
  const dirs = [...new Set(inputs.map((m) => dirname(m)))];
  return inputs.length <= 3 ? inputs.join(' + ') : `${dirs.map((d) => `${d}/*`).join(', ')} (${inputs.length} modules)`;
}

function report(label, r, all) {
  console.log(`${label}\n  up front: ${kB(r.gzip)} gzipped (${r.gzip} bytes; ${r.gzipFiles} as ${r.files.length} file(s) gzipped apart), ${kB(r.bytes)} minified`);
  for (const c of r.lazy) console.log(`  lazy ${c.path.replace(/^.*\//, '')}: ${kB(c.gzip)} gzipped (${c.gzip} bytes), ${kB(c.bytes)} minified: ${describeChunk(c.inputs)}`);
  console.log(`  ${all ? 'modules' : 'biggest modules'} up front (minified bytes):`);
  for (const [m, n] of all ? r.modules : r.modules.slice(0, 10)) console.log(`  ${String(n).padStart(7)}  ${m}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const all = args.includes('--modules');
  const at = args.indexOf('--at');
  if (at >= 0) {
    const commit = args[at + 1];
    if (!commit) throw new Error('usage: node scripts/size.mjs --at <commit>');
    const root = mkdtempSync(join(tmpdir(), 'simdnn-size-'));
    try {
      execFileSync('sh', ['-c', `git archive "$1" src | tar -x -C "$2"`, 'sh', commit, root], { cwd: REPO });
      symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
      writeFileSync(join(root, 'package.json'), '{"type":"module"}');
      report(`simdnn at ${commit} (src/index.ts), esbuild --bundle --minify --splitting:`, await bundleApp(APP, { root }), all);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  } else {
    const from = args.includes('--dist') ? 'dist' : 'src';
    const entries = [['simdnn', 'browser', from === 'dist' ? 'dist/index.js' : 'src/index.ts']];
    if (args.includes('--node')) entries.push(['simdnn/node', 'node', from === 'dist' ? 'dist/node.js' : 'src/node.ts']);
    for (const [name, platform, file] of entries) {
      const full = await bundleApp(APP, { from, platform });
      report(`${name} (${file}, platform ${platform}), esbuild --bundle --minify --splitting:`, full, all);
      const one = await bundleApp(APP, { from, platform, splitting: false });
      console.log(`  without --splitting: ${kB(one.gzip)} gzipped (${one.gzip} bytes) up front, ${kB(one.bytes)} minified, ${one.lazy.length} lazy chunks`);
      if (from === 'src') {
        const bare = await bundleApp(APP, { from, platform, withoutImporters: true });
        console.log(`  the importers' hooks (the \`// @importers\` regions of src/): ${full.gzip - bare.gzip} bytes gzipped up front (${bare.gzip} without them)`);
      }
    }
  }
}
