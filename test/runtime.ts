// The runtime every test uses. Which binary is chosen per vitest project (`provide: { simd }`), so
// the same tests run on the baseline and the relaxed-SIMD binary.
import { inject } from 'vitest';
import { init, type Runtime } from '../src/node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    simd: 'baseline' | 'relaxed';
  }
}

export const SIMD = inject('simd') ?? 'baseline';

export function runtime(): Promise<Runtime> {
  return init({ simd: SIMD });
}
