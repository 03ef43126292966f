// Byte counts for the "what does a user ship" table: raw and gzip (default level) sizes of files, or
// of an esbuild browser bundle (minified) when a package has no minified bundle of its own.

import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The peers are installed in bench/node_modules (bench/package.json), not in the root package.
const BENCH = fileURLToPath(new URL('../', import.meta.url));
export const fromRoot = (p) => ROOT + p;

/** Sum of raw and gzip sizes of files (paths relative to the repository root). */
export function filesBytes(paths, { gzip = true } = {}) {
  let raw = 0, gz = 0;
  for (const p of paths) {
    const full = fromRoot(p);
    if (!existsSync(full)) throw new Error(`footprint: missing ${p}`);
    const buf = readFileSync(full);
    raw += buf.length;
    if (gzip) gz += gzipSync(buf).length;
  }
  return { raw, gz };
}

/** Minified esbuild browser bundle of `export * from entry`, resolved from bench/ (a package name
 *  finds bench/node_modules; simdnn's own entry is '../dist/index.js'). */
export async function bundleBytes(entry) {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: BENCH, loader: 'js' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
  });
  const buf = r.outputFiles[0].contents;
  return { raw: buf.length, gz: gzipSync(buf).length };
}

/** Assemble a Footprint. */
export function footprintOf({ js = { raw: 0, gz: 0 }, wasm = { raw: 0, gz: 0 }, native = 0, note }) {
  return { js: js.raw, jsGzip: js.gz, wasm: wasm.raw, wasmGzip: wasm.gz, native, note };
}
