// The contender registry, in report order. simdnn-simd is the ratio baseline for "× simdnn" columns
// together with simdnn-relaxed.

import { simdnn } from './simdnn.mjs';
import naive from './naive.mjs';
import { tfjs } from './tfjs.mjs';
import ortWeb from './ort-web.mjs';
import ortNode from './ort-node.mjs';
import brain from './brain.mjs';
import pytorch from './pytorch.mjs';
import { THREADED } from './threads.mjs';

/** @type {import('./types.mjs').Contender[]} */
export const CONTENDERS = [
  simdnn('baseline'),
  simdnn('relaxed'),
  naive,
  tfjs('cpu'),
  tfjs('wasm'),
  ortWeb,
  ortNode,
  brain,
  pytorch,
  // Last: the multi-thread contenders (their own table in the report).
  ...THREADED,
];

export const CONTENDER_BY_ID = Object.fromEntries(CONTENDERS.map((c) => [c.id, c]));
