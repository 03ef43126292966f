// The runtime every test uses. Which binary is chosen per vitest project (`provide: { simd }`), so
// the same tests run on the baseline and the relaxed-SIMD binary. Which entry: in Node the Node
// entry (reads the .wasm with fs); in the browser projects the browser entry (fetches the .wasm from
// `new URL(…, import.meta.url)`, which vite serves). The entry not used is never loaded.
import { inject } from 'vitest';
import type { InitOptions, Runtime } from '../src/node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    simd: 'baseline' | 'relaxed';
    /** The browser project whose page is served with COOP/COEP (cross-origin isolated). */
    isolated?: boolean;
  }
}

export const SIMD = inject('simd') ?? 'baseline';

/** True in a browser page or a web worker, false in Node. */
export const IN_BROWSER =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== 'string';

type Entry = typeof import('../src/node.js');

/** The entry module for this environment: src/index.ts in browsers, src/node.ts in Node. */
export const entry: Promise<Entry> = IN_BROWSER ? import('../src/index.js') : import('../src/node.js');

export async function runtime(options?: Omit<InitOptions, 'simd'>): Promise<Runtime> {
  const { init } = await entry;
  return init({ ...options, simd: SIMD });
}

/** A new independent runtime (not memoised) from this environment's entry, on this project's binary. */
export async function createRuntime(options?: Omit<InitOptions, 'simd'>): Promise<Runtime> {
  const { createRuntime: create } = await entry;
  return create({ ...options, simd: SIMD });
}
