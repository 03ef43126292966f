// Training data as the trainer takes it: inputs as float32 rows, targets as class indices or float
// rows, index orders (seeded shuffles), accuracy, and yielding to the event loop.
import { SimdnnError, describe } from '../errors.js';
import { realLength, toF32Input, typedArrayKind } from '../arrays.js';
import type { LossName } from './options.js';
import type { PreparedTargets } from './trainer.js';
import type { Rng } from './init.js';

/** Inputs: exactly n × inputs float32 values. Returns the rows and n. */
export function prepareInputs(x: unknown, inputs: number, what: string): { x: Float32Array; n: number } {
  const { array, length } = toF32Input(x, `${what}: x`);
  if (length % inputs !== 0) {
    throw new SimdnnError('SHAPE_MISMATCH', `${what}: x has ${length} values, not a whole number of rows of ${inputs} inputs`);
  }
  return { x: array, n: length / inputs };
}

const LABEL_KINDS = new Set(['Int32Array', 'Uint8Array', 'Uint16Array']);

/**
 * Targets for n rows: an Int32Array, Uint8Array or Uint16Array of length n holds class indices;
 * anything else is n × outputs floats (one-hot rows, probabilities or values). Class indices are
 * kept as labels for crossEntropy and become one-hot rows for the other losses (0/1 values for
 * binaryCrossEntropy with one output).
 */
export function prepareTargets(y: unknown, n: number, outputs: number, loss: LossName, what: string): PreparedTargets {
  const kind = typedArrayKind(y);
  if (kind !== undefined && LABEL_KINDS.has(kind)) {
    const src = y as Int32Array | Uint8Array | Uint16Array;
    const given = realLength(src); // never the object's own `length`
    if (given !== n) {
      throw new SimdnnError('SHAPE_MISMATCH', `${what}: y holds class indices (${kind}) and must have one per row: ${n}, received ${given}`);
    }
    const classes = loss === 'binaryCrossEntropy' && outputs === 1 ? 2 : outputs;
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = src[i]!;
      if (!(c >= 0 && c < classes)) {
        throw new SimdnnError('INVALID_ARGUMENT', `${what}: y[${i}] is class ${c}, outside 0…${classes - 1} (the model has ${outputs} output${outputs === 1 ? '' : 's'})`);
      }
      labels[i] = c;
    }
    if (loss === 'crossEntropy') return { kind: 'labels', labels };
    const values = new Float32Array(n * outputs);
    for (let i = 0; i < n; i++) {
      if (outputs === 1) values[i] = labels[i]!;
      else values[i * outputs + labels[i]!] = 1;
    }
    return { kind: 'floats', values };
  }
  const { array, length } = toF32Input(y, `${what}: y`, 'a Float32Array of n × outputs values, or class indices (Int32Array, Uint8Array, Uint16Array)');
  if (length !== n * outputs) {
    throw new SimdnnError(
      'SHAPE_MISMATCH',
      `${what}: y has ${length} values but n × outputs = ${n} × ${outputs} = ${n * outputs} are expected` +
        ' (class indices must be an Int32Array, Uint8Array or Uint16Array)',
    );
  }
  return { kind: 'floats', values: array };
}

/** Rows predicted right among B (argmax for several outputs, logit/value > 0 vs target ≥ ½ for
 *  binaryCrossEntropy). `out` is the loss input: logits when softmax/sigmoid is fused. */
export function countCorrect(
  out: Float32Array, t: PreparedTargets, idx: Uint32Array, from: number, B: number, outputs: number, binary: boolean, threshold: number,
): number {
  let correct = 0;
  if (binary) {
    const v = (t as { values: Float32Array }).values;
    for (let r = 0; r < B; r++) {
      const row = idx[from + r]! * outputs;
      for (let c = 0; c < outputs; c++) if ((out[r * outputs + c]! > threshold) === (v[row + c]! >= 0.5)) correct++;
    }
    return correct / outputs;
  }
  for (let r = 0; r < B; r++) {
    let best = 0;
    for (let c = 1; c < outputs; c++) if (out[r * outputs + c]! > out[r * outputs + best]!) best = c;
    const row = idx[from + r]!;
    let label: number;
    if (t.kind === 'labels') label = t.labels[row]!;
    else {
      label = 0;
      for (let c = 1; c < outputs; c++) if (t.values[row * outputs + c]! > t.values[row * outputs + label]!) label = c;
    }
    if (best === label) correct++;
  }
  return correct;
}

/** 0, 1, …, n − 1. */
export function identity(n: number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

/** Fisher–Yates shuffle in place. */
export function shuffle(idx: Uint32Array, rng: Rng): void {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
}

/** Let the event loop run (timers, I/O, input, rendering): setImmediate in Node (it runs after
 *  due timers and I/O), a MessageChannel message elsewhere (no 4 ms clamp, and not subject to the
 *  timer throttling of background tabs, which would stall training there), setTimeout as a last
 *  resort. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof g.MessageChannel === 'function') {
    return new Promise((resolve) => {
      const ch = new g.MessageChannel!();
      ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function checkPositiveInt(v: unknown, dflt: number, what: string, max = 2 ** 31 - 1): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new SimdnnError('INVALID_ARGUMENT', `${what} must be a positive integer, received ${describe(v)}`);
  }
  return v;
}
