import { defineConfig } from 'vitest/config';

// Two Node projects run the same tests on both binaries; the relaxed one needs V8's flag on Node 20
// (Node 22+ has relaxed SIMD on by default; the flag is then accepted and ignored).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          provide: { simd: 'baseline' },
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'node-relaxed',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.node-only.test.ts'],
          provide: { simd: 'relaxed' },
          execArgv: ['--experimental-wasm-relaxed-simd'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
