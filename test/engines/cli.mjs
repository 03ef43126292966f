// Deno and Bun (and Node, for the expected results): `import * as simdnn from 'simdnn'` as an app
// does, then each case named on the command line (cases.mjs); prints one JSON line.
//   deno run --allow-read test/engines/cli.mjs baseline auto memory:baseline memory:auto
//   bun test/engines/cli.mjs baseline auto memory:baseline memory:auto
import * as simdnn from 'simdnn';
import { runCase } from './cases.mjs';

// Progress with timestamps on stderr (run.mjs shows a failed step's stderr): where a step that timed
// out stopped. smoke.mjs reports its pool's steps through this hook.
const t0 = Date.now();
globalThis.__simdnnProgress = (what) => console.error(`[${((Date.now() - t0) / 1000).toFixed(3)} s] ${what}`);
const engine = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const results = {};
for (const name of process.argv.slice(2)) {
  globalThis.__simdnnProgress(`case ${name}`);
  results[name] = await runCase(simdnn, name);
}
globalThis.__simdnnProgress('all cases done');
console.log(JSON.stringify({ engine, results }));
