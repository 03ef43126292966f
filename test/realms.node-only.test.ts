// Float32Arrays from another realm (a `vm` context here; an iframe in the browser projects) are
// Float32Arrays: accepted as inputs, outputs, weights and slopes, with the same results.
// Also: nn.dispose() really lets the garbage collector take the runtime's WebAssembly memory.
import { describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../src/node.js';
import { SIMD } from './runtime.js';
import { rand } from './reference.js';

describe(`another realm's typed arrays (${SIMD} binary)`, () => {
  it('predict, predictInto, activate, softmax and weights accept a vm context Float32Array', async () => {
    const nn = await createRuntime({ simd: SIMD });
    const foreign = <T>(code: string): T => runInNewContext(code) as T;
    const w = rand(6, 1);
    const wForeign = foreign<Float32Array>(`new Float32Array([${Array.from(w).join(',')}])`);
    expect(wForeign instanceof Float32Array).toBe(false); // really another realm
    const m = nn.dense({ inputs: 3, units: 2, weights: wForeign, activation: 'tanh' });
    const ref = nn.dense({ inputs: 3, units: 2, weights: w, activation: 'tanh' });
    const x = foreign<Float32Array>('new Float32Array([0.5, -1, 2])');
    expect(Array.from(m.predict(x))).toEqual(Array.from(ref.predict(Float32Array.of(0.5, -1, 2))));
    const out = foreign<Float32Array>('new Float32Array(2)');
    m.predictInto(x, out);
    expect(Array.from(out)).toEqual(Array.from(ref.predict(Float32Array.of(0.5, -1, 2))));
    expect(Array.from(nn.relu(x))).toEqual([0.5, 0, 2]);
    nn.softmax(x, 3, x);
    expect(x.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(Array.from(nn.prelu(foreign('new Float32Array([-2, 2])'), { slope: foreign('new Float32Array([0.5])') }))).toEqual([-1, 2]);
    const f64 = foreign<Float64Array>('new Float64Array([0.5, -1, 2])');
    expect(Array.from(m.predict(f64))).toEqual(Array.from(ref.predict(Float32Array.of(0.5, -1, 2))));
    nn.dispose();
  });
});

describe('nn.dispose() and the garbage collector', () => {
  it('the WebAssembly.Memory of a disposed runtime is collected even while its models are still referenced (child node --expose-gc)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-dispose-'));
    const entry = fileURLToPath(new URL('../dist/node.js', import.meta.url));
    const child = join(dir, 'child.mjs');
    writeFileSync(child, `
      const refs = [];
      const Memory = WebAssembly.Memory;
      WebAssembly.Memory = function (d) { const m = new Memory(d); refs.push(new WeakRef(m)); return m; };
      const { createRuntime } = await import(${JSON.stringify(entry)});
      const nn = await createRuntime({ simd: 'baseline' });
      const model = nn.dense({ inputs: 4096, units: 4096, weights: new Float32Array(4096 * 4096) }); // 64 MB
      const grown = nn.memory().heapBytes;
      nn.dispose();
      for (let i = 0; i < 10 && refs.some((r) => r.deref()); i++) { await new Promise((r) => setTimeout(r, 10)); gc(); }
      let code = 'none';
      try { model.predict(new Float32Array(4096)); } catch (e) { code = e.code; }
      console.log(JSON.stringify({ memories: refs.length, alive: refs.filter((r) => r.deref()).length, grown, code, kept: model.disposed }));
    `);
    const out = execFileSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.memories).toBe(1);
    expect(r.grown).toBeGreaterThan(64 << 20);
    expect(r.alive).toBe(0);
    expect(r.code).toBe('DISPOSED');
    expect(r.kept).toBe(true);
  });
});
