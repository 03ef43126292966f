// Installs the benchmark's peer libraries (bench/package.json: TensorFlow.js, ONNX Runtime Node and
// Web, brain.js, onnx-proto, tinybench, esbuild) into bench/node_modules, once: `npm run bench` and
// bench/tail-accuracy.mjs call ensureBenchDeps() before they import any of them. They are several
// hundred MB, so the root package (build, tests, demo) does not depend on them.
//
// Runs `npm ci` in bench/ when bench/node_modules is missing or was installed from a different
// bench/package-lock.json (a stamp file records the lockfile's hash). `node bench/setup.mjs` runs
// the same check by hand.
//
// onnxruntime-node's install script downloads its CUDA/TensorRT execution providers (Linux x64) from
// outside the npm registry; the benchmark uses only the CPU provider, whose native library ships in
// the npm package. bench/package.json denies that script through allowScripts (npm 11), and
// ONNXRUNTIME_NODE_INSTALL=skip makes the script exit at once where npm still runs it (npm 10).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('./', import.meta.url));
const LOCKFILE = path.join(BENCH, 'package-lock.json');
const STAMP = path.join(BENCH, 'node_modules', '.simdnn-bench-lock-sha256');

const lockHash = () => createHash('sha256').update(readFileSync(LOCKFILE)).digest('hex');

/** True when bench/node_modules holds what bench/package-lock.json asks for. */
export function benchDepsInstalled() {
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === lockHash();
}

/** The npm that is running us (npm run bench), else the one on PATH. */
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /\.[cm]?js$/.test(cli) && existsSync(cli)) return { cmd: process.execPath, pre: [cli], shell: false };
  return { cmd: process.platform === 'win32' ? 'npm.cmd' : 'npm', pre: [], shell: process.platform === 'win32' };
}

/** Install the benchmark's peers if needed. Exits the process (code 2) when npm fails. */
export function ensureBenchDeps({ log = (msg) => process.stderr.write(`${msg}\n`) } = {}) {
  if (benchDepsInstalled()) return false;
  const { cmd, pre, shell } = npmCommand();
  const args = [...pre, 'ci', '--no-audit', '--no-fund', '--prefix', BENCH];
  const why = existsSync(path.join(BENCH, 'node_modules')) ? 'bench/package-lock.json changed since the last install' : 'first run';
  log(`bench: installing the benchmark's peer libraries into bench/node_modules (${why}; several hundred MB, once):`);
  log(`bench:   (cd bench && npm ci --no-audit --no-fund)   with ONNXRUNTIME_NODE_INSTALL=skip`);
  const started = Date.now();
  // Only the variables a plain shell would have: `npm run bench` exports npm_config_* / npm_package_*
  // for the root package, which must not leak into the bench package's install.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
  const r = spawnSync(cmd, args, {
    cwd: BENCH, shell, stdio: ['ignore', 2, 2], env: { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (r.status !== 0) {
    log(`bench: npm ci in bench/ failed (${r.error?.message ?? `exit code ${r.status ?? r.signal}`}). Fix the error above and run again.`);
    process.exit(2);
  }
  writeFileSync(STAMP, `${lockHash()}\n`);
  log(`bench: peer libraries installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!ensureBenchDeps()) process.stderr.write('bench: bench/node_modules is up to date\n');
}
