// Constants mirrored between assembly/ and src/ must not drift, and the compiled hot loops must
// really be SIMD. These read source and build files, so they run in Node only.
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { ACTIVATION_KINDS } from '../src/activations.js';
import { ELEMENTWISE_ACTIVATIONS } from '../src/activation-table.js';
import { DESC, LAYER_TYPE, LAYOUT } from '../src/ops.js';

const root = new URL('../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

describe('ABI between assembly/ and src/', () => {
  it('the generated activation dispatch and table are up to date with assembly/activations.json', async () => {
    // A non-literal specifier: the generator is plain JavaScript (scripts/*.mjs), typed loosely here.
    const gen = (await import('../scripts/gen-activations.mjs' as string)) as { generate(): Record<string, string> };
    const files = gen.generate();
    expect(Object.keys(files).sort()).toEqual(['assembly/activation_dispatch.ts', 'src/activation-table.ts']);
    for (const [path, text] of Object.entries(files)) {
      expect(read(path), `${path} is stale: run \`node scripts/gen-activations.mjs\` (npm run build does)`).toBe(text);
    }
  });

  it('activation kinds match `enum Act` in assembly/activation_dispatch.ts and the list', () => {
    const body = /export const enum Act \{([\s\S]*?)\}/.exec(read('assembly/activation_dispatch.ts'))![1]!;
    const asKinds = Object.fromEntries([...body.matchAll(/(\w+)\s*=\s*(\d+)/g)].map((m) => [m[1]!.toLowerCase(), Number(m[2])]));
    const tsKinds = Object.fromEntries(Object.entries(ACTIVATION_KINDS).map(([k, v]) => [k.toLowerCase(), v]));
    expect(asKinds).toEqual(tsKinds);
    const list = (JSON.parse(read('assembly/activations.json')) as { activations: Array<{ name: string }> }).activations;
    expect(list.map((a) => a.name)).toEqual(Object.keys(ACTIVATION_KINDS));
  });

  it('every elementwise activation of the list has its Op class with a forward and a derivative side by side', () => {
    const src = read('assembly/activations.ts');
    const classes = new Map([...src.matchAll(/export class (Op\w+) \{([\s\S]*?)\n\}/g)].map((m) => [m[1]!, m[2]!]));
    const list = (JSON.parse(read('assembly/activations.json')) as { activations: Array<{ name: string; kind: string; op?: null | { then: string; else: string } }> }).activations;
    const used = new Set<string>();
    for (const a of list) {
      expect(ELEMENTWISE_ACTIVATIONS.has(a.name as never), a.name).toBe(a.op !== null);
      if (a.op === null) continue;
      for (const op of a.op ? [a.op.then, a.op.else] : [`Op${a.kind}`]) {
        used.add(op);
        const body = classes.get(op);
        expect(body, `${a.name}: class ${op} in assembly/activations.ts`).toBeDefined();
        expect(body, `${op} has apply`).toMatch(/@inline apply\(/);
        expect(body, `${op} has deriv`).toMatch(/@inline deriv\(/);
      }
    }
    // and no Op class is left out of the list
    expect([...classes.keys()].filter((c) => !used.has(c))).toEqual([]);
  });

  it('layer descriptor offsets match model_forward_f32', () => {
    const src = read('assembly/model.ts');
    const loads = Object.fromEntries([...src.matchAll(/const (\w+) = (?:<usize>)?load<\w+>\(d(?:, (\d+))?\)/g)].map((m) => [m[1]!, Number(m[2] ?? 0) / 4]));
    expect(loads).toEqual({ type: DESC.type, K: DESC.inputs, N: DESC.units, packed: DESC.packed, kind: DESC.kind, a: DESC.a, b: DESC.b, slope: DESC.slope });
  });

  it('layer types match model_forward_f32', () => {
    const src = read('assembly/model.ts');
    const header = /\[0\] type \(([^)]*)\)/.exec(src)![1]!;
    expect(Object.fromEntries([...header.matchAll(/(\d+) (\w+)/g)].map((m) => [m[2]!, Number(m[1])]))).toEqual(LAYER_TYPE);
    expect(src).toMatch(new RegExp(`if \\(type == ${LAYER_TYPE.dense}\\) \\{\\s*dense_f32\\(`));
    expect(src).toMatch(new RegExp(`if \\(type == ${LAYER_TYPE.affine}\\) \\{\\s*affine_f32\\(`));
  });

  it('weight layouts match pack_weights_f32', () => {
    expect(read('assembly/gemm.ts')).toMatch(/layout 0: W is \[N\]\[K\][\s\S]*layout 1: W is \[K\]\[N\]/);
    expect(LAYOUT).toEqual({ 'out-in': 0, 'in-out': 1 });
  });
});

describe('compiled kernels', () => {
  for (const [binary, madd] of [['simd', /f32x4\.mul[\s\S]{0,400}f32x4\.add|f32x4\.add[\s\S]{0,400}f32x4\.mul/], ['relaxed', /f32x4\.relaxed_madd/]] as const) {
    const wat = read(`build/simdnn-${binary}.wat`);
    const func = (name: string) => {
      const start = wat.indexOf(`\n (func $assembly/${name} `);
      expect(start, `${name} in ${binary}.wat`).toBeGreaterThan(0);
      const end = wat.indexOf('\n (func ', start + 10);
      return wat.slice(start, end < 0 ? undefined : end);
    };

    it(`${binary}: dense kernels multiply-add with f32x4 in their inner loops`, () => {
      for (const f of ['gemm/gemm4x8', 'gemm/gemv1x24']) {
        const body = func(f);
        expect(body).toMatch(/loop/);
        expect(body).toMatch(madd);
        expect(body).toMatch(/v128\.load32_splat/);
      }
    });

    it(`${binary}: activation and softmax kernels are vectorised`, () => {
      const act = func('activation_dispatch/activate_f32');
      expect(act).toMatch(/f32x4\.pmax/); // relu
      expect(act).toMatch(/i32x4\.shl/); // exp: 2^n built in the exponent bits
      expect(act).toMatch(/f32x4\.div/); // sigmoid
      expect(func('softmax/softmax_f32')).toMatch(/f32x4\.(add|mul|sub)/);
    });

    it(`${binary}: the batchNorm affine is vectorised, a multiply then an add (never fused: the same bits on both binaries)`, () => {
      const body = func('model/affine_f32');
      expect(body).toMatch(/f32x4\.mul[\s\S]{0,200}f32x4\.add/);
      expect(body).not.toMatch(/relaxed_madd/);
    });

    it(`${binary}: the .wasm is at most 64 KiB`, () => {
      expect(statSync(new URL(`build/simdnn-${binary}.wasm`, root)).size).toBeLessThanOrEqual(64 * 1024);
    });
  }
});
