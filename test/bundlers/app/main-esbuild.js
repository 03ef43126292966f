// esbuild does not emit assets referenced by `new URL(…, import.meta.url)`: import the binaries
// with the `file` loader (loader: { '.wasm': 'file' }) and pass the one you choose to init({ wasm }).
import { init, detectFeatures } from 'simdnn';
import simdWasm from 'simdnn/wasm/simd';
import relaxedWasm from 'simdnn/wasm/relaxed';
import { run } from './common.js';

const relaxed = detectFeatures().relaxedSimd;
run([
  ['auto', () => init({
    simd: relaxed ? 'relaxed' : 'baseline',
    wasm: new URL(relaxed ? relaxedWasm : simdWasm, import.meta.url),
  })],
  ['baseline', () => init({ simd: 'baseline', wasm: new URL(simdWasm, import.meta.url) })],
]);
