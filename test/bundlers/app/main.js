// Vite, webpack and the plain <script type="module"> page: no configuration, the bundler (or the
// browser) finds the binary from simdnn's `new URL('…wasm', import.meta.url)`.
import { init } from 'simdnn';
import { run } from './common.js';

run([
  ['auto', () => init()],
  ['baseline', () => init({ simd: 'baseline' })],
]);
