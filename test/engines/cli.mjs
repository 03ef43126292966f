// Deno and Bun (and Node, for the expected results): `import * as simdnn from 'simdnn'` as an app
// does, then each case named on the command line (cases.mjs); prints one JSON line.
//   deno run --allow-read test/engines/cli.mjs baseline auto memory:baseline memory:auto
//   bun test/engines/cli.mjs baseline auto memory:baseline memory:auto
import * as simdnn from 'simdnn';
import { runCase } from './cases.mjs';

const engine = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const results = {};
for (const name of process.argv.slice(2)) results[name] = await runCase(simdnn, name);
console.log(JSON.stringify({ engine, results }));
