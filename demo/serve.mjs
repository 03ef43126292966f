#!/usr/bin/env node
// npm run demo: build the demo with Vite, then serve it on http://127.0.0.1:5173/ (env PORT, HOST).
// `npm run demo -- --no-serve` or DEMO_BUILD_ONLY=1 only builds (into demo/dist/).
import { networkInterfaces } from 'node:os';
import { buildDemo } from './build.mjs';
import { serveStatic } from './static-server.mjs';

const buildOnly = process.argv.includes('--no-serve') || ['1', 'true'].includes(process.env.DEMO_BUILD_ONLY ?? '');
const started = performance.now();
const dist = await buildDemo({ logLevel: 'warn' });
console.log(`simdnn demo built into ${dist} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (buildOnly) process.exit(0);

const port = Number(process.env.PORT ?? 5173);
const host = process.env.HOST ?? '127.0.0.1';
// The server answers only to loopback Host names (DNS-rebinding protection). Bound elsewhere, it
// also answers to that address, or to every address of this machine for 0.0.0.0 / ::.
const wildcard = host === '0.0.0.0' || host === '::';
const allowedHosts = wildcard
  ? [host, ...Object.values(networkInterfaces()).flat().map((i) => i?.address).filter((a) => a !== undefined)]
  : [host];
try {
  const server = await serveStatic({ root: dist, port, host, allowedHosts });
  console.log(`\n  simdnn demo: ${server.url}\n\n  (Ctrl+C to stop; PORT=… to change the port)\n`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  const e = /** @type {NodeJS.ErrnoException} */ (err);
  console.error(e.code === 'EADDRINUSE' ? `port ${port} is in use: try PORT=${port + 1} npm run demo` : e);
  process.exit(1);
}
