// The named cases run.mjs asks an engine for, one dispatcher shared by cli.mjs (Node, Deno, Bun),
// worker.mjs (workerd), page.html and web-worker.mjs (browsers):
//   'baseline' | 'auto' | 'relaxed'   the smoke set (smoke.mjs) on init({ simd })
//   'relaxed-error'                   what init({ simd: 'relaxed' }) rejects with (engines without relaxed SIMD)
//   'memory:<simd>'                   the memory-growth sequence (memory.mjs) on createRuntime({ simd })
// `extra` options (workerd: { wasm }) go to every init()/createRuntime().
import { runMemory } from './memory.mjs';
import { initError, runSmoke } from './smoke.mjs';

export function runCase(simdnn, name, extra = {}, { poolThreads = 2 } = {}) {
  if (name === 'relaxed-error') return initError(simdnn, { ...extra, simd: 'relaxed' });
  if (name.startsWith('memory:')) return runMemory(simdnn, { ...extra, simd: name.slice('memory:'.length) });
  return runSmoke(simdnn, { ...extra, simd: name }, { poolThreads });
}
