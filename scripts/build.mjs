// `npm run build` (and `npm install`'s prepare): the kernels (assembly/ → build/*.wasm, both targets
// in parallel), the type declarations (tsc → dist/*.d.ts) and the bundles (esbuild → dist/*.js).
// The three are independent, so they run at the same time. Measured apart on a 2-core machine:
// kernels 13.8 s (binaryen; two targets in parallel), tsc 5.7 s, bundles 0.4 s; a warm-cache
// `npm ci` went 29.0 → 27.9 s (the kernels already use both cores).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

function run(label, args) {
  return new Promise((resolve) => {
    spawn(process.execPath, args, { cwd: root, stdio: 'inherit' }).on('close', (code) => {
      if (code !== 0) console.error(`build: ${label} failed (exit ${code})`);
      resolve(code === 0);
    });
  });
}

const ok = await Promise.all([
  run('kernels', ['scripts/build-wasm.mjs']),
  run('type declarations', [tsc, '-p', 'tsconfig.build.json']),
  run('bundles', ['scripts/bundle.mjs']),
]);
if (!ok.every(Boolean)) process.exit(1);
