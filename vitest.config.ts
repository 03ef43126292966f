import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, CHROMIUM_PATH, HAS_CHROMIUM, IN_CI, NO_CHROMIUM_MESSAGE } from './test/browser/chromium.js';

// Two Node projects run the same tests on both binaries; the relaxed one needs V8's flag on Node 20
// (Node 22+ has relaxed SIMD on by default; the flag is then accepted and ignored).
//
// Two browser projects run the same tests (minus *.node-only.test.ts) in headless Chromium on both
// binaries, through the browser entry (src/index.ts, which fetches the .wasm). They need a Chromium:
// the system one (/usr/lib/chromium/chromium) or env SIMDNN_CHROMIUM. Without one they are skipped
// with a loud warning; with env CI set, a missing Chromium fails the run instead.
// Naming: *.node-only.test.ts run only in Node (the `node` project), *.browser-only.test.ts only
// in the browser projects.

const BROWSER_ONLY = 'test/**/*.browser-only.test.ts';
const NODE_ONLY = 'test/**/*.node-only.test.ts';
const BINARY_INDEPENDENT = ['test/bundlers/**', 'test/browser/**', 'test/workers/**', 'test/abi.node-only.test.ts', 'test/train-kernels.node-only.test.ts', 'test/types.node-only.test.ts', 'test/demo-server.node-only.test.ts'];

if (!HAS_CHROMIUM) {
  if (IN_CI) throw new Error(`simdnn: CI is set but there is ${NO_CHROMIUM_MESSAGE}`);
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!!! SKIPPING THE BROWSER TESTS: ${NO_CHROMIUM_MESSAGE}\n${bar}\n`);
}

function browserProject(name: string, simd: 'baseline' | 'relaxed', isolated = false): TestProjectInlineConfiguration {
  return {
    // The isolated project serves every file with COOP/COEP, so the page is cross-origin isolated and
    // the worker pool shares one WebAssembly memory (the other projects test the copies mode).
    ...(isolated ? {
      server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
    } : {}),
    // Pre-bundle the one CommonJS-free dependency up front so vite never reloads the page mid-run.
    optimizeDeps: { include: ['@assemblyscript/loader'] },
    // Tests that import the Node entry (src/node.ts: fs) get the browser entry (src/index.ts: fetch)
    // here: same API, and the browser entry is what a browser runs.
    resolve: { alias: [{ find: /^(.*\/src)\/node(\.js|\.ts)?$/, replacement: '$1/index.ts' }] },
    test: {
      name,
      include: isolated ? ['test/threads.test.ts', 'test/threads-fit.test.ts', 'test/workers/**/*.test.ts'] : ['test/**/*.test.ts'],
      exclude: [...configDefaults.exclude, NODE_ONLY],
      provide: { simd, isolated },
      testTimeout: 60_000,
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({ launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS } }),
        instances: [{ browser: 'chromium' }],
      },
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, BROWSER_ONLY],
          provide: { simd: 'baseline' },
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'node-relaxed',
          include: ['test/**/*.test.ts'],
          // Node-only suites that test one binary's behaviour (ONNX conformance) run here too; those
          // that test packaging, pages or the build, not a binary, run once, in the `node` project.
          exclude: [...configDefaults.exclude, BROWSER_ONLY, ...BINARY_INDEPENDENT],
          provide: { simd: 'relaxed' },
          execArgv: ['--experimental-wasm-relaxed-simd'],
          testTimeout: 60_000,
        },
      },
      ...(HAS_CHROMIUM ? [
        browserProject('browser', 'baseline'), browserProject('browser-relaxed', 'relaxed'),
        browserProject('browser-isolated', 'relaxed', true),
      ] : []),
    ],
  },
});
