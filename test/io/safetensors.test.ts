// safetensors reader/writer and specTensors on synthetic bytes (runs in Node and the browsers).
import { describe, expect, it } from 'vitest';
import { readSafetensors, specTensors, writeSafetensors } from '../../src/io/safetensors.js';
import { SimdnnError } from '../../src/errors.js';

/** A file from a header object and a data section, as a hostile writer might make it. */
function craft(header: unknown, data: Uint8Array | number = 0, headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  const dv = new DataView(out.buffer);
  const n = headerLength ?? json.length;
  dv.setUint32(0, n % 2 ** 32, true);
  dv.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof SimdnnError) return err.code;
    return `not a SimdnnError: ${String(err)}`;
  }
  return 'no error';
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('writeSafetensors', () => {
  const tensors = new Map([
    ['dense.weight', { data: Float32Array.from({ length: 12 }, (_, i) => i / 4 - 1), shape: [3, 4] }],
    ['dense.bias', { data: [0.5, -0.25, 1e-30] }],
    ['__proto__', { data: [7], shape: [1, 1] }],
  ]);
  const bytes = writeSafetensors(tensors, { format: 'pt', note: 'ünïcode ✓' });

  it('writes the published layout: u64 header length, JSON padded with spaces to 8 bytes, F32 data', () => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
    expect((8 + n) % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header[0]).toBe('{');
    expect(header.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    const h = JSON.parse(header);
    expect(h.__metadata__).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect(h['dense.weight']).toEqual({ dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] });
    expect(h['dense.bias']).toEqual({ dtype: 'F32', shape: [3], data_offsets: [48, 60] });
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toEqual({ dtype: 'F32', shape: [1, 1], data_offsets: [60, 64] });
    expect(bytes.length).toBe(8 + n + 64);
    expect(dv.getFloat32(8 + n + 4, true)).toBe(-0.75);
  });

  it('round-trips through readSafetensors, names and metadata included', () => {
    const r = readSafetensors(bytes);
    expect([...r.keys()]).toEqual(['dense.weight', 'dense.bias', '__proto__']);
    expect(r.get('dense.weight')).toEqual({ dtype: 'F32', shape: [3, 4], data: tensors.get('dense.weight')!.data });
    expect(Array.from(r.get('dense.bias')!.data)).toEqual(Array.from(Float32Array.from([0.5, -0.25, 1e-30])));
    expect(r.metadata.note).toBe('ünïcode ✓');
    expect(Object.getPrototypeOf(r.metadata)).toBe(null);
  });

  it('writes an empty file and no __metadata__ when none is given', () => {
    const empty = writeSafetensors({});
    expect(new TextDecoder().decode(empty.subarray(8)).trim()).toBe('{}');
    expect(readSafetensors(empty).size).toBe(0);
  });

  it('rejects bad arguments', () => {
    expect(code(() => writeSafetensors({ a: { data: [1, 2, 3], shape: [2, 2] } }))).toBe('SHAPE_MISMATCH');
    expect(code(() => writeSafetensors({ __metadata__: { data: [1] } }))).toBe('INVALID_ARGUMENT');
    expect(code(() => writeSafetensors({ a: { data: [1] } }, { n: 1 as unknown as string }))).toBe('INVALID_ARGUMENT');
    expect(code(() => writeSafetensors(null as never))).toBe('INVALID_ARGUMENT');
  });
});

describe('readSafetensors: dtypes', () => {
  it('reads F16, BF16 and F64 as float32 and rejects the others by name', () => {
    const f16 = Uint8Array.of(0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c); // 1, −2, 2^−24, +∞
    const bf16 = Uint8Array.of(0x80, 0x3f, 0x49, 0x40); // 1, 3.140625
    const f64 = new Uint8Array(Float64Array.of(0.1, -1e300).buffer);
    const data = new Uint8Array([...f16, ...bf16, ...f64]);
    const file = craft({
      h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
      d: { dtype: 'F64', shape: [2, 1], data_offsets: [12, 28] },
    }, data);
    const r = readSafetensors(file);
    expect(Array.from(r.get('h')!.data)).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(Array.from(r.get('b')!.data)).toEqual([1, 3.140625]);
    expect(Array.from(r.get('d')!.data)).toEqual([Math.fround(0.1), -Infinity]);
    expect(r.get('d')!.shape).toEqual([2, 1]);
    const withInt = craft({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, num_batches_tracked: { dtype: 'I64', shape: [], data_offsets: [4, 12] } }, 12);
    expect(code(() => readSafetensors(withInt))).toBe('UNSUPPORTED_MODEL');
    expect(message(() => readSafetensors(withInt))).toMatch(/"num_batches_tracked" is I64/);
    const skipping = readSafetensors(withInt, { skipUnsupported: true });
    expect([...skipping.keys()]).toEqual(['w']);
    expect(skipping.skipped).toEqual([{ name: 'num_batches_tracked', dtype: 'I64', shape: [] }]);
  });
});

describe('readSafetensors: hostile files are INVALID_MODEL, at once', () => {
  const good = writeSafetensors({ a: { data: [1, 2, 3, 4], shape: [2, 2] }, b: { data: [5] } }, { k: 'v' });

  it('a header length of 2^40 (or 2^64 − 1) fails before anything is allocated', () => {
    for (const n of [2 ** 40, 2 ** 53, -1]) {
      const f = craft({}, 0, n === -1 ? 0 : n);
      if (n === -1) f.fill(0xff, 0, 8); // 2^64 − 1
      // The message comes from the length check made before any allocation (a 2^40-byte one would
      // throw a RangeError, not this).
      expect(code(() => readSafetensors(f))).toBe('INVALID_MODEL');
      expect(message(() => readSafetensors(f))).toMatch(/header claims/);
    }
  });

  it('every truncation of a valid file is INVALID_MODEL', () => {
    for (let len = 0; len < good.length; len++) {
      expect(code(() => readSafetensors(good.subarray(0, len))), `truncated to ${len}`).toBe('INVALID_MODEL');
    }
    expect(readSafetensors(good).size).toBe(2);
  });

  it('a byte appended after the data is INVALID_MODEL (the tensors must cover the data)', () => {
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(code(() => readSafetensors(longer))).toBe('INVALID_MODEL');
  });

  const cases: Array<[string, unknown, number, RegExp]> = [
    ['not JSON', '{"a": ', 0, /not valid JSON/],
    ['an array header', '[1,2]', 0, /starting with '\{'/],
    ['a tensor that is not an object', { a: 3 }, 0, /must be an object/],
    ['an unknown dtype', { a: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, 4, /not a safetensors dtype/],
    ['a negative dim', { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4, /non-negative integers/],
    ['a fractional dim', { a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4, /non-negative integers/],
    ['offsets past the data', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4, /outside/],
    ['offsets 2^40', { a: { dtype: 'F32', shape: [2 ** 38], data_offsets: [0, 2 ** 40] } }, 4, /outside/],
    ['end before begin', { a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4, /outside/],
    ['dtype × shape ≠ the bytes', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8, /needs 12 bytes/],
    ['a huge shape', { a: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 8] } }, 8, /needs/],
    ['overlapping tensors', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12, /overlaps/],
    ['a gap', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12, /belong to no tensor/],
    ['metadata that is not strings', { __metadata__: { n: 1 } }, 0, /must be a string/],
    ['missing data_offsets', { a: { dtype: 'F32', shape: [1] } }, 4, /data_offsets/],
  ];
  for (const [what, header, dataLen, msg] of cases) {
    it(what, () => {
      const f = craft(header, dataLen);
      expect(code(() => readSafetensors(f))).toBe('INVALID_MODEL');
      expect(message(() => readSafetensors(f))).toMatch(msg);
    });
  }

  it('an empty tensor with a huge dimension is fine (no overflow in dtype × shape)', () => {
    const r = readSafetensors(craft({ e: { dtype: 'F32', shape: [2 ** 40, 0], data_offsets: [0, 0] } }));
    expect(r.get('e')).toEqual({ dtype: 'F32', shape: [2 ** 40, 0], data: new Float32Array(0) });
  });

  it('invalid UTF-8 in the header', () => {
    const f = craft('{"a"}');
    f[10] = 0xff;
    expect(message(() => readSafetensors(f))).toMatch(/UTF-8/);
  });

  it('not bytes is INVALID_ARGUMENT', () => {
    expect(code(() => readSafetensors('x' as never))).toBe('INVALID_ARGUMENT');
  });
});

describe('specTensors', () => {
  const tensors = readSafetensors(writeSafetensors({
    'fc1.weight': { data: Float32Array.from({ length: 6 }, (_, i) => i), shape: [3, 2] },
    'fc1.bias': { data: [1, 2, 3] },
    'act.slope': { data: [0.1, 0.2, 0.3] },
    'kernel': { data: [1, 2, 3, 4, 5, 6], shape: [3, 2] },
    'bn.mean': { data: [0, 1] }, 'bn.var': { data: [1, 4] }, 'bn.gamma': { data: [1, 1] }, 'bn.beta': { data: [0, 0.5] },
  }));

  it('resolves names, infers units and inputs, transposes in-out weights', () => {
    const spec = specTensors({
      layers: [
        { weights: 'fc1.weight', bias: 'fc1.bias', activation: { name: 'prelu', slope: 'act.slope' } },
        { weights: 'kernel', weightsLayout: 'in-out' },
        { type: 'batchNorm', mean: 'bn.mean', variance: 'bn.var', scale: 'bn.gamma', offset: 'bn.beta', epsilon: 0 },
        { type: 'activation', activation: 'relu' },
      ],
    }, tensors);
    expect(spec.inputs).toBe(2);
    const [d1, d2, bn] = spec.layers as unknown as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(d1).toMatchObject({ type: 'dense', inputs: 2, units: 3 });
    expect(Array.from((d1.activation as { slope: Float32Array }).slope)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(d2).toMatchObject({ type: 'dense', inputs: 3, units: 2 });
    expect(Array.from(d2.weights as Float32Array)).toEqual([1, 3, 5, 2, 4, 6]);
    expect(d2.weightsLayout).toBeUndefined();
    expect(Array.from(bn.variance as Float32Array)).toEqual([1, 4]);
  });

  it('names the missing tensor and the shape that does not fit', () => {
    expect(message(() => specTensors({ layers: [{ weights: 'nope' }] }, tensors))).toMatch(/"nope", which is not in the file/);
    expect(code(() => specTensors({ layers: [{ weights: 'nope' }] }, tensors))).toBe('INVALID_MODEL');
    expect(message(() => specTensors({ layers: [{ weights: 'fc1.weight', units: 4 }] }, tensors))).toMatch(/shape \[3, 2\] but the layer is 4 units/);
    expect(message(() => specTensors({ layers: [{ weights: 'fc1.weight', bias: 'bn.mean' }] }, tensors))).toMatch(/bias has 2 values, expected 3/);
    expect(message(() => specTensors({ inputs: 5, layers: [{ weights: 'fc1.weight' }] }, tensors))).toMatch(/3 units × 5 inputs|× 5 inputs/);
    expect(code(() => specTensors({ layers: 'x' }, tensors))).toBe('INVALID_SPEC');
  });
});
