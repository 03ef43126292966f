import type { ModelSpec } from '../../../src/index.js';
export const SPEC: ModelSpec;
export const BATCH: number;
export const X: number[];
