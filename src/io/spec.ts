// The model spec the importers produce, and helpers they share. Types and errors only: nothing
// here loads WebAssembly, so each importer stays a small module of its own.

import { SimdnnError } from '../errors.js';
import type { ActivationSpec } from '../activations.js';

/** A dense layer as the importers emit it: weights row-major [units][inputs]. */
export interface ImportedDenseLayer {
  type: 'dense';
  inputs: number;
  units: number;
  weights: Float32Array;
  bias?: Float32Array;
  activation: ActivationSpec;
  name: string;
}

/** An activation on its own. */
export interface ImportedActivationLayer {
  type: 'activation';
  activation: ActivationSpec;
  name?: string;
}

/** y = (x − mean) / √(variance + epsilon) · scale + offset, per feature (emitted when no dense layer
 *  precedes a batch normalisation, so it cannot be folded into one). */
export interface BatchNormLayerSpec {
  type: 'batchNorm';
  mean: Float32Array;
  variance: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
  epsilon: number;
  name?: string;
}

export type ImportedLayer = ImportedDenseLayer | ImportedActivationLayer | BatchNormLayerSpec;

/** The simdnn model spec, version 1, as the importers produce it. */
export interface ImportedModelSpec {
  format: 'simdnn';
  version: 1;
  inputs: number;
  layers: ImportedLayer[];
}

export function invalidModel(message: string): SimdnnError {
  return new SimdnnError('INVALID_MODEL', message);
}

export function unsupportedModel(message: string): SimdnnError {
  return new SimdnnError('UNSUPPORTED_MODEL', message);
}

let f16Table: Float32Array | undefined;

/** One IEEE half-precision value (bit pattern) as a number. */
export function halfToFloat(h: number): number {
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

/** Half-precision bit patterns → float32 (exact). */
export function halfToFloat32(bits: ArrayLike<number>): Float32Array {
  const n = bits.length;
  const out = new Float32Array(n);
  if (n > 4096) {
    if (!f16Table) {
      f16Table = new Float32Array(65536);
      for (let i = 0; i < 65536; i++) f16Table[i] = halfToFloat(i);
    }
    const t = f16Table;
    for (let i = 0; i < n; i++) out[i] = t[bits[i]! & 0xffff]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(bits[i]! & 0xffff);
  }
  return out;
}

/** bfloat16 bit patterns → float32 (exact: the upper half of a float32). */
export function bfloat16ToFloat32(bits: ArrayLike<number>): Float32Array {
  const n = bits.length;
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = (bits[i]! & 0xffff) << 16;
  return new Float32Array(u.buffer);
}

/** Little-endian uint16 values at byte `start` (a copy). */
export function readU16(buf: Uint8Array, start: number, n: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0, p = start; i < n; i++, p += 2) out[i] = buf[p]! | (buf[p + 1]! << 8);
  return out;
}

/** Little-endian float64 values at byte `start` (a copy). */
export function readF64(buf: Uint8Array, start: number, n: number): Float64Array {
  const dv = new DataView(buf.buffer, buf.byteOffset + start, 8 * n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  return out;
}

/** Transpose a rows×cols row-major matrix (cache-blocked). */
export function transpose<T extends Float32Array | Float64Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as { new (n: number): T })(a.length);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const row = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[row + c]!;
      }
    }
  }
  return out;
}

/** A short, safe rendering of a name from a file for error messages. */
export function quote(name: unknown): string {
  const s = typeof name === 'string' ? name : String(name);
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

/** A dense layer while an importer folds into it (batch norm, bias adds): its weights in the
 *  importer's working layout, float64 once anything has been folded in. */
export interface WorkDense {
  kind: 'dense';
  name: string;
  inputs: number;
  units: number;
  w: Float32Array | Float64Array;
  b?: Float32Array | Float64Array;
  activation?: ActivationSpec;
}
