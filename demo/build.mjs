// Builds the demo (demo/index.html and its modules, simdnn from ../src) with Vite into demo/dist/.
// Vite emits simdnn's .wasm files as assets from src/platform-browser.ts's
// `new URL('…wasm', import.meta.url)`: no plugin, no configuration.
import { build } from 'vite';
import { fileURLToPath } from 'node:url';

export const DEMO_DIR = fileURLToPath(new URL('.', import.meta.url));
export const DEMO_DIST = fileURLToPath(new URL('./dist/', import.meta.url));

/** Build into `outDir` (default demo/dist). Resolves to the output folder. */
export async function buildDemo({ outDir = DEMO_DIST, logLevel = 'warn' } = {}) {
  await build({
    root: DEMO_DIR,
    configFile: false,
    base: './', // relative URLs: the output works from any folder or sub-path
    logLevel,
    build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
    worker: { format: 'es' }, // the benchmark worker is a module worker
  });
  return outDir;
}
