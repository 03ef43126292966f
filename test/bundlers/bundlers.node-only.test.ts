// Bundler smoke test: pack simdnn as it would be published (npm pack of the built package), install
// the tarball into throwaway apps, build them with Vite, webpack and esbuild (and a plain
// <script type="module"> page with an import map), serve each on 127.0.0.1 and check the prediction
// each page writes into its DOM in headless Chromium. Also: what a page sees when the server answers
// the .wasm with a 404 page or an SPA's index.html, and the CSP 'wasm-unsafe-eval' requirement.
// Needs `npm run build` first (it packs dist/ and build/*.wasm). SIMDNN_KEEP_APPS=1 keeps the apps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build as viteBuild } from 'vite';
import webpack from 'webpack';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright';
import { serveStatic, type StaticServer } from '../../demo/static-server.mjs';
import { HAS_CHROMIUM, LAUNCH_OPTIONS, NO_CHROMIUM_MESSAGE } from '../browser/chromium.js';
import { runtime } from '../runtime.js';
import { BATCH, SPEC, X } from './app/model.js';

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('./app/', import.meta.url));

interface Result { label: string; ok: boolean; binary?: string; y?: number[]; code?: string; name?: string; message?: string }

let work = '';
let browser: Browser | undefined;
let expected: number[] = [];
let installedWith = '';
const servers: StaticServer[] = [];

const html = (script: string, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>simdnn smoke</title><link rel="icon" href="data:,">${head}</head>` +
  `<body><pre id="out"></pre>${script}</body></html>`;

/** A fresh app folder under the install root, holding the shared app sources. */
async function app(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await cp(APP, dir, { recursive: true, filter: (src) => !src.endsWith('.d.ts') });
  return dir;
}

async function serve(options: Parameters<typeof serveStatic>[0]): Promise<string> {
  const server = await serveStatic(options);
  servers.push(server);
  return server.url;
}

/** Load a page, wait for the app to write its results, fail on any uncaught page error. */
async function results(url: string): Promise<{ results: Result[]; errors: string[] }> {
  if (!browser) throw new Error(NO_CHROMIUM_MESSAGE);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-status="done"]', { timeout: 20_000 });
    const list = JSON.parse((await page.textContent('#out')) ?? '[]') as Result[];
    if (process.env.SIMDNN_SMOKE_LOG) console.log(url, JSON.stringify(list, null, 2), errors);
    return { results: list, errors };
  } finally {
    await page.close();
  }
}

function expectPredictions(list: Result[]): void {
  expect(list.map((r) => [r.label, r.ok, r.binary, r.message])).toEqual([
    ['auto', true, 'relaxed', undefined], // Chromium has relaxed SIMD
    ['baseline', true, 'baseline', undefined],
  ]);
  for (const r of list) {
    expect(r.y).toHaveLength(expected.length);
    r.y!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  }
}

const wasmFiles = async (dir: string) => (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.wasm')).sort();

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/index.js')) || !existsSync(join(REPO, 'build/simdnn-simd.wasm'))) {
    throw new Error('the package is not built: run `npm run build` before the bundler smoke test');
  }
  work = await mkdtemp(join(tmpdir(), 'simdnn-bundlers-'));
  // --ignore-scripts: pack what is built, without rebuilding (prepare) under other tests' feet.
  const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO });
  const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0]!.files.map((f) => f.path);
  expect(files, 'npm pack must ship both binaries (package.json "files": build/*.wasm)').toEqual(
    expect.arrayContaining(['build/simdnn-simd.wasm', 'build/simdnn-relaxed.wasm', 'dist/index.js', 'dist/node.js']),
  );
  const tgz = join(work, packed[0]!.filename);
  await writeFile(join(work, 'package.json'), JSON.stringify({ name: 'simdnn-smoke-apps', private: true, type: 'module' }));
  try {
    // Offline, from npm's cache (enough for a package with no dependencies, or with cached ones).
    await exec('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', tgz], { cwd: work });
    installedWith = 'npm install --offline';
  } catch {
    // npm could not install offline: unpack the tarball where npm would have put it.
    const dest = join(work, 'node_modules/simdnn');
    await mkdir(dest, { recursive: true });
    await exec('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1']);
    installedWith = 'tarball unpacked into node_modules';
  }
  expect(existsSync(join(work, 'node_modules/simdnn/build/simdnn-relaxed.wasm'))).toBe(true);
  const nn = await runtime();
  const model = nn.sequential(SPEC);
  expected = Array.from(model.predict(Float32Array.from(X), BATCH));
  model.dispose();
  if (HAS_CHROMIUM) browser = await chromium.launch(LAUNCH_OPTIONS);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await browser?.close();
  if (work && !process.env.SIMDNN_KEEP_APPS) await rm(work, { recursive: true, force: true });
  else if (work) console.log(`bundler apps kept in ${work} (installed with ${installedWith})`);
});

describe('bundlers (packed tarball, headless Chromium)', () => {
  describe('Vite', () => {
    let dist = '';
    beforeAll(async () => {
      const dir = await app('vite');
      await writeFile(join(dir, 'index.html'), html('<script type="module" src="./main.js"></script>'));
      await viteBuild({ root: dir, configFile: false, logLevel: 'warn', build: { outDir: 'dist', emptyOutDir: true } });
      dist = join(dir, 'dist');
    }, 60_000);

    it('emits both binaries as assets', async () => {
      expect(await wasmFiles(dist)).toEqual([
        expect.stringMatching(/^assets\/simdnn-relaxed-.*\.wasm$/),
        expect.stringMatching(/^assets\/simdnn-simd-.*\.wasm$/),
      ]);
    });

    it.skipIf(!HAS_CHROMIUM)('predicts in Chromium with no configuration', async () => {
      const { results: list, errors } = await results(await serve({ root: dist }));
      expectPredictions(list);
      expect(errors).toEqual([]);
    });

    it.skipIf(!HAS_CHROMIUM)('a 404 HTML page for the .wasm: the error names the URL and init({ wasm })', async () => {
      const url = await serve({ root: dist, wasm: '404' });
      const { results: list } = await results(url);
      const [relaxedFile, simdFile] = await wasmFiles(dist);
      const byLabel = Object.fromEntries(list.map((r) => [r.label, r]));
      for (const [label, file] of [['auto', relaxedFile], ['baseline', simdFile]] as const) {
        const r = byLabel[label]!;
        expect(r).toMatchObject({ ok: false, name: 'SimdnnError', code: 'WASM_LOAD_FAILED' });
        expect(r.message).toContain(`${url}${file}`);
        expect(r.message).toContain('HTTP 404');
        expect(r.message).toContain('init({ wasm');
      }
    });

    it.skipIf(!HAS_CHROMIUM)("an SPA fallback (index.html with 200 for the .wasm): the error says it got HTML", async () => {
      const url = await serve({ root: dist, wasm: 'spa' });
      const { results: list } = await results(url);
      const [relaxedFile] = await wasmFiles(dist);
      expect(list[0]).toMatchObject({ ok: false, code: 'WASM_LOAD_FAILED' });
      expect(list[0]!.message).toContain(`${url}${relaxedFile}`);
      expect(list[0]!.message).toMatch(/HTML page/);
      expect(list[0]!.message).toContain('init({ wasm');
    });

    it.skipIf(!HAS_CHROMIUM)("a Content-Security-Policy needs 'wasm-unsafe-eval' in script-src", async () => {
      const blocked = await results(await serve({ root: dist, headers: { 'content-security-policy': "script-src 'self'" } }));
      for (const r of blocked.results) {
        expect(r).toMatchObject({ ok: false, code: 'WASM_LOAD_FAILED' });
        expect(r.message).toMatch(/wasm-unsafe-eval|unsafe-eval/);
      }
      const allowed = await results(
        await serve({ root: dist, headers: { 'content-security-policy': "script-src 'self' 'wasm-unsafe-eval'" } }),
      );
      expectPredictions(allowed.results);
      expect(allowed.errors).toEqual([]);
    });
  });

  describe('webpack 5', () => {
    let dist = '';
    beforeAll(async () => {
      const dir = await app('webpack');
      dist = join(dir, 'dist');
      const compiler = webpack({
        mode: 'production',
        context: dir,
        entry: './main.js',
        target: 'web',
        devtool: false,
        performance: { hints: false },
        output: { path: dist, filename: 'main.js', clean: true },
      });
      await new Promise<void>((resolve, reject) => {
        compiler.run((err, stats) => {
          compiler.close(() => {});
          if (err) reject(err);
          else if (stats?.hasErrors()) reject(new Error(stats.toString('errors-only')));
          else resolve();
        });
      });
      await writeFile(join(dist, 'index.html'), html('<script src="main.js"></script>'));
    }, 60_000);

    it('emits both binaries as assets', async () => {
      expect(await wasmFiles(dist)).toHaveLength(2);
    });

    it.skipIf(!HAS_CHROMIUM)('predicts in Chromium with no configuration', async () => {
      const { results: list, errors } = await results(await serve({ root: dist }));
      expectPredictions(list);
      expect(errors).toEqual([]);
    });
  });

  describe('esbuild', () => {
    let dist = '';
    beforeAll(async () => {
      const dir = await app('esbuild');
      dist = join(dir, 'dist');
      await esbuild.build({
        entryPoints: [join(dir, 'main-esbuild.js')],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        outdir: dist,
        loader: { '.wasm': 'file' },
        assetNames: '[name]-[hash]',
        logLevel: 'warning',
      });
      await writeFile(join(dist, 'index.html'), html('<script type="module" src="./main-esbuild.js"></script>'));
    }, 60_000);

    it('emits the binaries the app imports with the file loader', async () => {
      expect(await wasmFiles(dist)).toEqual([
        expect.stringMatching(/^simdnn-relaxed-.*\.wasm$/),
        expect.stringMatching(/^simdnn-simd-.*\.wasm$/),
      ]);
    });

    it.skipIf(!HAS_CHROMIUM)('predicts in Chromium with init({ wasm })', async () => {
      const { results: list, errors } = await results(await serve({ root: dist }));
      expectPredictions(list);
      expect(errors).toEqual([]);
    });
  });

  describe('no bundler: <script type="module"> and an import map', () => {
    it.skipIf(!HAS_CHROMIUM)('predicts in Chromium straight from node_modules/simdnn/dist', async () => {
      const dir = await app('plain');
      // dist/index.js is self-contained (no bare imports): one entry for `simdnn` is the whole map.
      const importMap = JSON.stringify({ imports: { simdnn: '/node_modules/simdnn/dist/index.js' } });
      await writeFile(
        join(dir, 'index.html'),
        html('<script type="module" src="./main.js"></script>', `<script type="importmap">${importMap}</script>`),
      );
      const root = await serve({ root: work });
      const { results: list, errors } = await results(`${root}plain/`);
      expectPredictions(list);
      expect(errors).toEqual([]);
    });
  });
});
