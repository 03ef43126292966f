// Deno and Bun (and Node, for the expected results): `import { init } from 'simdnn'` as an app does,
// then the smoke set on each `simd` option named on the command line; prints one JSON line.
//   deno run --allow-read test/engines/cli.mjs baseline auto
//   bun test/engines/cli.mjs baseline auto
import * as simdnn from 'simdnn';
import { initError, runSmoke } from './smoke.mjs';

const engine = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const results = {};
for (const simd of process.argv.slice(2)) {
  results[simd] = simd === 'relaxed-error' ? await initError(simdnn, { simd: 'relaxed' }) : await runSmoke(simdnn, { simd });
}
console.log(JSON.stringify({ engine, results }));
