// What an inference-only application ships (scripts/size.mjs): an app that calls init(),
// nn.sequential() and predict(), bundled and minified by esbuild against the built package. With
// code splitting (as webpack, Vite and Rollup always do for dynamic imports) the importers and the
// worker pool are lazy chunks, loaded only by nn.load* and by the first call that uses threads; the
// JavaScript loaded up front is held to a budget. Without splitting esbuild inlines them: the README
// says so. Needs `npm run build` first.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { bundleApp } from '../../scripts/size.mjs';

interface Bundle {
  text: string;
  bytes: number;
  gzip: number;
  lazy: Array<{ path: string; inputs: string[]; text: string; gzip: number }>;
  modules: Array<[string, number]>;
}

/** Strings only the importers hold (src/io: ONNX protobuf fields, TF.js manifests, skl2onnx ops),
 *  and only the pool (src/pool/pool.ts). Each is checked to be in its lazy chunk, so a marker that
 *  stopped matching anything would fail here rather than pass vacuously. */
const IMPORTER_MARKERS = ['ir_version', 'opset_import', 'weightsManifest', 'ArrayFeatureExtractor', 'ZipMap'];
const POOL_MARKERS = ['did not report ready'];

/** The initial JavaScript's budget, gzipped: 32,765 bytes measured at this commit (`node
 *  scripts/size.mjs`), plus 2 %. A regression guard: the importers' and the pool's code must stay out of
 *  it, and the core may not grow by more than this without someone raising the number on purpose. */
const BUDGET = 33_420;

describe('inference-only app size (esbuild, minified)', () => {
  it('with splitting: the importers and the pool are lazy chunks; what loads up front is within the budget', async () => {
    const r = (await bundleApp(undefined, { splitting: true })) as Bundle;
    for (const m of [...IMPORTER_MARKERS, ...POOL_MARKERS]) expect(r.text.includes(m), `"${m}" in the initial JavaScript`).toBe(false);
    const importers = r.lazy.find((c) => c.inputs.includes('dist/load.js'));
    const pool = r.lazy.find((c) => c.inputs.includes('dist/pool.js'));
    expect(importers, 'a lazy chunk for dist/load.js').toBeDefined();
    expect(pool, 'a lazy chunk for dist/pool.js').toBeDefined();
    for (const m of IMPORTER_MARKERS) expect(importers!.text.includes(m), `"${m}" in the importers' chunk`).toBe(true);
    for (const m of POOL_MARKERS) expect(pool!.text.includes(m), `"${m}" in the pool's chunk`).toBe(true);
    console.log(`inference-only app: ${r.gzip} bytes gzipped up front (budget ${BUDGET}); lazy: importers ${importers!.gzip}, pool ${pool!.gzip} bytes gzipped`);
    expect(r.gzip).toBeLessThanOrEqual(BUDGET);
  });

  it('without splitting esbuild inlines the lazy modules (the README\'s caveat): the markers find them', async () => {
    const r = (await bundleApp(undefined, { splitting: false })) as Bundle;
    expect(r.lazy).toEqual([]);
    for (const m of [...IMPORTER_MARKERS, ...POOL_MARKERS]) expect(r.text.includes(m), `"${m}" inlined`).toBe(true);
    console.log(`the same app without --splitting: ${r.gzip} bytes gzipped`);
  });
});
