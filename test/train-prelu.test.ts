// PReLU slopes are parameters (issue 11): their gradients against the float64 model and against
// central differences, every optimizer updating them, getWeights/setWeights/toJSON/save carrying
// them, predict using the trained values, and a model that needs a slope learning it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Sequential } from '../src/node.js';
import { expectNear, trackModels } from './train-helpers.js';
import { runtime, SIMD } from './runtime.js';
import { rand } from './reference.js';
import { refModel, type RefLayer } from './reference-backward.js';

let nn: Runtime;
beforeAll(async () => {
  nn = await runtime();
});
const track = trackModels();


type Where = 'dense' | 'layer';

/** K → H (prelu, on the dense layer or as its own activation layer) → C linear, and its float64 twin. */
function build(K: number, H: number, C: number, slope: Float32Array, where: Where, seed: number) {
  const w1 = rand(H * K, seed, -0.8, 0.8), b1 = rand(H, seed + 1, -0.3, 0.3);
  const w2 = rand(C * H, seed + 2, -0.8, 0.8), b2 = rand(C, seed + 3, -0.3, 0.3);
  const act = { name: 'prelu', slope: slope.length === 1 ? slope[0]! : slope };
  const layers = where === 'dense'
    ? [{ inputs: K, units: H, weights: w1, bias: b1, activation: act }, { units: C, weights: w2, bias: b2 }]
    : [{ inputs: K, units: H, weights: w1, bias: b1 }, { type: 'activation', activation: act }, { units: C, weights: w2, bias: b2 }];
  const ref = (s: ArrayLike<number>): RefLayer[] => where === 'dense'
    ? [
      { type: 'dense', K, N: H, w: w1, b: b1, act: { name: 'prelu', p: { slope: s } } },
      { type: 'dense', K: H, N: C, w: w2, b: b2, act: { name: 'linear' } },
    ]
    : [
      { type: 'dense', K, N: H, w: w1, b: b1, act: { name: 'linear' } },
      { type: 'activation', K: H, N: H, act: { name: 'prelu', p: { slope: s } } },
      { type: 'dense', K: H, N: C, w: w2, b: b2, act: { name: 'linear' } },
    ];
  return { model: track(nn.sequential({ layers } as never)), ref };
}

/** The slope entry of gradients()/getWeights(): on the dense layer (entry 0), or its own entry 1. */
const slopeOf = (entries: ReadonlyArray<{ slope?: Float32Array }>, where: Where) => entries[where === 'dense' ? 0 : 1]!.slope!;

/** 3 → 5 (prelu: 0.25 shared, or random per unit from slopeSeed) → 2 on B random rows from `seed`,
 *  and the model's slope gradients under mse. */
function smallCase(where: Where, shared: boolean, B: number, slopeSeed: number, seed: number) {
  const slope = shared ? Float32Array.of(0.25) : rand(5, slopeSeed, -0.5, 0.5);
  const { model } = build(3, 5, 2, slope, where, seed);
  const x = rand(B * 3, seed + 1, -1.5, 1.5);
  const y = rand(B * 2, seed + 2, -1, 1);
  return { slope, model, x, y, g: slopeOf(model.gradients(x, y, B, { loss: 'mse' }).layers, where) };
}

describe(`trainable PReLU slopes (${SIMD} binary)`, () => {
  it('slope gradients match the float64 model: per unit and shared, on a dense layer or its own layer, awkward sizes and batches', () => {
    let seed = 10;
    for (const where of ['dense', 'layer'] as const) {
      for (const H of [1, 3, 5, 17]) {
        for (const shared of [false, true]) {
          for (const B of [1, 3, 7]) {
            const slope = shared ? Float32Array.of(0.2) : rand(H, seed, -0.5, 0.5);
            const { model, ref } = build(4, H, 3, slope, where, seed);
            const x = rand(B * 4, seed + 7, -1.5, 1.5);
            const y = rand(B * 3, seed + 9, -1, 1);
            const g = model.gradients(x, y, B, { loss: 'mse' });
            const r = refModel(ref(slope), x, y, B, 'mse', false);
            const what = `${where} H=${H} ${shared ? 'shared' : 'per unit'} B=${B}`;
            expect(g.layers.length, what).toBe(where === 'dense' ? 2 : 3);
            const ds = r.slopes[where === 'dense' ? 0 : 1]!;
            expect(ds.length).toBe(shared ? 1 : H);
            expectNear(slopeOf(g.layers, where), ds, 2e-4, `${what}: dslope`);
            // and the other parameters still match with the slope in the model
            const dense = g.layers.filter((e) => e.weights.length > 0);
            dense.forEach((e, i) => {
              expectNear(e.weights, r.grads[i]!.w, 2e-4, `${what}: dW${i}`);
              expectNear(e.bias, r.grads[i]!.b, 2e-4, `${what}: db${i}`);
            });
            if (where === 'layer') {
              expect(g.layers[1]!.weights.length).toBe(0);
              expect(g.layers[1]!.bias.length).toBe(0);
            }
            seed += 3;
          }
        }
      }
    }
  });

  it('the float64 slope gradient is the central difference of the float64 loss', () => {
    for (const where of ['dense', 'layer'] as const) {
      for (const shared of [false, true]) {
        const H = 5, B = 3;
        const slope = shared ? Float64Array.of(0.3) : Float64Array.from(rand(H, 3, -0.5, 0.5));
        const { ref } = build(3, H, 2, Float32Array.from(slope), where, 40);
        const x = rand(B * 3, 41, -1.5, 1.5);
        const y = rand(B * 2, 42, -1, 1);
        const g = refModel(ref(slope), x, y, B, 'mse', false).slopes[where === 'dense' ? 0 : 1]!;
        for (let j = 0; j < slope.length; j++) {
          const h = 1e-6;
          const at = (d: number) => {
            const s = Float64Array.from(slope);
            s[j]! += d;
            return refModel(ref(s), x, y, B, 'mse', false).loss;
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          expect(Math.abs(fd - g[j]!), `${where} ${shared ? 'shared' : 'per unit'} slope ${j}: ${g[j]} vs ${fd}`).toBeLessThanOrEqual(1e-7 * (1 + Math.abs(fd)));
        }
      }
    }
  });

  it('model.gradients slope entries match central differences of model.evaluate (float32, via setWeights)', () => {
    for (const where of ['dense', 'layer'] as const) {
      for (const shared of [false, true]) {
        const { slope, model, x, y, g } = smallCase(where, shared, 5, 8, 60);
        const base = model.getWeights();
        for (let j = 0; j < slope.length; j++) {
          const h = 1e-2;
          const at = (d: number) => {
            const list = base.map((e) => ({ ...e, slope: e.slope?.slice() }));
            const s = slopeOf(list, where);
            s[j]! += d;
            model.setWeights(list);
            return model.evaluate(x, y, { loss: 'mse' }).loss;
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          model.setWeights(base);
          expect(Math.abs(fd - g[j]!), `${where} ${shared ? 'shared' : 'per unit'} slope ${j}: ${g[j]} vs ${fd}`).toBeLessThanOrEqual(2e-3 * (1 + Math.abs(fd)));
        }
      }
    }
  });

  it('every optimizer updates the slopes; SGD exactly slope − lr·(g + weightDecay·slope), shared or per unit', () => {
    const optimizers = [
      { name: 'sgd', learningRate: 0.1, weightDecay: 0.5 }, { name: 'sgd', learningRate: 0.1, momentum: 0.9 },
      { name: 'adam', learningRate: 0.01 }, { name: 'adamw', learningRate: 0.01 }, { name: 'rmsprop', learningRate: 0.01 },
      { name: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.5 },
    ] as const;
    for (const where of ['dense', 'layer'] as const) {
      for (const shared of [false, true]) {
        for (const optimizer of optimizers) {
          const B = 4;
          const { model, x, y, g } = smallCase(where, shared, B, 9, 70);
          const before = slopeOf(model.getWeights(), where);
          model.trainStep(x, y, B, { loss: 'mse', optimizer: optimizer as never });
          const after = slopeOf(model.getWeights(), where);
          const what = `${where} ${shared ? 'shared' : 'per unit'} ${JSON.stringify(optimizer)}`;
          for (let j = 0; j < before.length; j++) {
            if (Math.abs(g[j]!) < 1e-6) continue;
            if (optimizer.name === 'sgd') {
              const wd = 'weightDecay' in optimizer ? optimizer.weightDecay : 0;
              const expected = before[j]! - 0.1 * (g[j]! + wd * before[j]!);
              expect(Math.abs(after[j]! - expected), `${what} slope ${j}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(expected)));
            } else {
              // the first Adam/RMSprop step moves against the gradient
              expect(Math.sign(after[j]! - before[j]!), `${what} slope ${j}: ${before[j]} → ${after[j]}, g ${g[j]}`).toBe(-Math.sign(g[j]!));
            }
          }
        }
      }
    }
  });

  it('clipNorm counts the slope gradients in the global norm', () => {
    const { model } = build(3, 4, 2, rand(4, 5, -0.5, 0.5), 'layer', 80);
    const x = rand(6, 81, -1.5, 1.5), y = rand(4, 82, -4, 4);
    const g = model.gradients(x, y, 2, { loss: 'mse' }).layers;
    let sq = 0;
    for (const e of g) for (const a of [e.weights, e.bias, e.slope ?? new Float32Array(0)]) for (const v of a) sq += v * v;
    const norm = Math.sqrt(sq);
    const clip = norm / 4;
    const before = model.getWeights()[1]!.slope!;
    model.trainStep(x, y, 2, { loss: 'mse', optimizer: { name: 'sgd', learningRate: 1 }, clipNorm: clip });
    const after = model.getWeights()[1]!.slope!;
    const s = clip / (norm + 1e-6);
    for (let j = 0; j < 4; j++) expect(after[j]).toBeCloseTo(before[j]! - s * g[1]!.slope![j]!, 5);
  });

  it('predict, toJSON and save use the trained slopes (the shared one as well, which predict runs as leakyRelu)', async () => {
    for (const where of ['dense', 'layer'] as const) {
      for (const shared of [false, true]) {
        const slope = shared ? Float32Array.of(0.25) : rand(5, 11, -0.5, 0.5);
        const { model, ref } = build(3, 5, 2, slope, where, 90);
        const x = rand(6 * 3, 91, -1.5, 1.5);
        const y = rand(6 * 2, 92, -1, 1);
        for (let i = 0; i < 3; i++) model.trainStep(x, y, 6, { loss: 'mse', optimizer: { name: 'sgd', learningRate: 0.5 } });
        const trained = slopeOf(model.getWeights(), where);
        expect(Array.from(trained)).not.toEqual(Array.from(slope));
        // predict agrees with the float64 model at the trained parameters
        const w = model.getWeights().filter((e) => e.weights.length > 0);
        const layers = ref(trained).map((l) => (l.type === 'dense' ? { ...l } : l));
        const dense = layers.filter((l) => l.type === 'dense');
        dense.forEach((l, i) => { l.w = w[i]!.weights; l.b = w[i]!.bias; });
        const r = refModel(layers, x, y, 6, 'mse', false);
        expectNear(model.predict(x, 6), r.output, 1e-5, `${where} ${shared ? 'shared' : 'per unit'} predict`);
        // evaluate (the trainer's forward) and predict (the descriptors) agree
        expect(model.evaluate(x, y, { loss: 'mse' }).loss).toBeCloseTo(r.loss, 5);
        // the layer description shows the trained slope
        expect(model.layers[where === 'dense' ? 0 : 1]!.activationParams.slope).toEqual(Array.from(trained));
        // JSON and safetensors keep them
        const again = track(nn.sequential(JSON.parse(JSON.stringify(model))));
        expect(slopeOf(again.getWeights(), where)).toEqual(trained);
        expect(again.predict(x, 6)).toEqual(model.predict(x, 6));
        const loaded = track(await nn.load(model.save()));
        expect(slopeOf(loaded.getWeights(), where)).toEqual(trained);
        expect(loaded.predict(x, 6)).toEqual(model.predict(x, 6));
      }
    }
  });

  it('setWeights takes slopes (optional on a dense entry: kept), checks them, and predict follows', () => {
    const { model } = build(2, 3, 1, Float32Array.of(0.1, 0.2, 0.3), 'dense', 100);
    const w = model.getWeights();
    expect(Array.from(w[0]!.slope!)).toEqual(Array.from(Float32Array.of(0.1, 0.2, 0.3)));
    const x = Float32Array.of(-1, -2);
    model.setWeights([{ weights: w[0]!.weights, bias: w[0]!.bias }, w[1]!]);
    expect(model.getWeights()[0]!.slope).toEqual(w[0]!.slope); // absent: kept
    model.setWeights([{ ...w[0]!, slope: [0.5, 0.5, 0.5] }, w[1]!]);
    expect(Array.from(model.getWeights()[0]!.slope!)).toEqual([0.5, 0.5, 0.5]);
    expect(model.predict(x, 1)).not.toEqual(track(nn.sequential({ layers: [
      { inputs: 2, units: 3, weights: w[0]!.weights, bias: w[0]!.bias, activation: { name: 'prelu', slope: [0.1, 0.2, 0.3] } },
      { units: 1, weights: w[1]!.weights, bias: w[1]!.bias },
    ] })).predict(x, 1));
    expect(() => model.setWeights([{ ...w[0]!, slope: [1, 2] }, w[1]!])).toThrow(expect.objectContaining({ code: 'INVALID_WEIGHTS', message: expect.stringMatching(/slope has 2 values but 3/) }));
    expect(() => model.setWeights([{ ...w[0]!, slope: [NaN, 0, 0] }, w[1]!])).toThrow(expect.objectContaining({ code: 'INVALID_WEIGHTS' }));
    expect(() => model.setWeights([w[0]!, { ...w[1]!, slope: [1] }])).toThrow(/no prelu/);
    const { model: m2 } = build(2, 3, 1, Float32Array.of(0.2), 'layer', 101);
    const w2 = m2.getWeights();
    expect(w2.length).toBe(3);
    expect(() => m2.setWeights([w2[0]!, { weights: new Float32Array(0), bias: new Float32Array(0) }, w2[2]!])).toThrow(/slope is required/);
    expect(() => m2.setWeights([w2[0]!, { weights: [1], bias: [], slope: [0.5] } as never, w2[2]!])).toThrow(/has no weights/);
    m2.setWeights([w2[0]!, { slope: [0.5] } as never, w2[2]!]);
    expect(Array.from(m2.getWeights()[1]!.slope!)).toEqual([0.5]);
    // the shared slope runs as leakyRelu in predict: its descriptor follows setWeights
    const y = m2.predict(x, 1);
    m2.setWeights([w2[0]!, { slope: [0.2] } as never, w2[2]!]);
    expect(m2.predict(x, 1)).not.toEqual(y);
    m2.setWeights([w2[0]!, { slope: [0.5] } as never, w2[2]!]);
    expect(m2.predict(x, 1)).toEqual(y);
  });

  it('parameterCount and summary count the slopes', () => {
    const { model } = build(2, 3, 1, Float32Array.of(0.1, 0.2, 0.3), 'dense', 110);
    expect(model.parameterCount).toBe(2 * 3 + 3 + 3 + 3 + 1);
    const { model: m2 } = build(2, 3, 1, Float32Array.of(0.1), 'layer', 111);
    expect(m2.parameterCount).toBe(2 * 3 + 3 + 1 + 3 + 1);
    expect(m2.layers[1]!.params).toBe(1);
  });

  it('a model with PReLU learns the slopes the data needs (per unit and shared)', async () => {
    // y = prelu(x) with slopes [0.1, 0.5, −0.3]: a prelu activation layer starting at slope 0 learns them
    const target = [0.1, 0.5, -0.3];
    const n = 256;
    const x = rand(n * 3, 120, -2, 2);
    const y = x.map((v, i) => (v > 0 ? v : target[i % 3]! * v));
    const m = track(nn.sequential({ layers: [{ type: 'activation', activation: { name: 'prelu', slope: [0, 0, 0] } }], inputs: 3 } as never));
    const seen: number[] = [];
    await m.fit(x, y, {
      epochs: 30, batchSize: 32, loss: 'mse', optimizer: { name: 'adam', learningRate: 0.05 }, seed: 1,
      onEpochEnd: () => { seen.push((m.layers[0]!.activationParams.slope as number[])[1]!); },
    });
    // layers[i].activationParams follows the slopes during fit (read from a callback)
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[29]).toBeGreaterThan(seen[0]!);
    const learned = m.getWeights()[0]!.slope!;
    expect(m.layers[0]!.activationParams.slope).toEqual(Array.from(learned));
    for (let j = 0; j < 3; j++) expect(Math.abs(learned[j]! - target[j]!), `slope ${j}: ${learned[j]}`).toBeLessThan(0.01);
    // a dense layer with one shared slope, from 0.9 towards 0.2
    const w = Float32Array.of(1, 0, 0, 1);
    const y2 = x.subarray(0, n * 2).map((v) => (v > 0 ? v : 0.2 * v));
    const d = track(nn.sequential({ layers: [{ inputs: 2, units: 2, weights: w, bias: [0, 0], activation: { name: 'prelu', slope: 0.9 } }] }));
    const before = d.evaluate(x.subarray(0, n * 2), y2, { loss: 'mse' }).loss;
    await d.fit(x.subarray(0, n * 2), y2, { epochs: 40, batchSize: 32, loss: 'mse', optimizer: { name: 'sgd', learningRate: 0.1 }, seed: 2 });
    const s = d.getWeights()[0]!.slope!;
    expect(s.length).toBe(1);
    expect(Math.abs(s[0]! - 0.2), `shared slope ${s[0]}`).toBeLessThan(0.02);
    expect(d.evaluate(x.subarray(0, n * 2), y2, { loss: 'mse' }).loss).toBeLessThan(before / 100);
  });
});
