// Training options read once into plain values: losses, optimizers and fit's options. Semantics
// and defaults are PyTorch's (torch.nn losses with reduction='mean', torch.optim).
import { SimdnnError, describe } from '../errors.js';
import type { NumberArray } from '../arrays.js';
import { checkSeed } from './init.js';
import { checkPositiveInt } from './data.js';
import type { Head, PreparedTargets } from './trainer.js';

export type LossName = 'mse' | 'mae' | 'crossEntropy' | 'binaryCrossEntropy';
const LOSSES: readonly LossName[] = ['mse', 'mae', 'crossEntropy', 'binaryCrossEntropy'];

export interface SgdConfig { name: 'sgd'; learningRate?: number; momentum?: number; nesterov?: boolean; weightDecay?: number; dampening?: number }
export interface AdamConfig { name: 'adam' | 'adamw'; learningRate?: number; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number }
export interface RmspropConfig { name: 'rmsprop'; learningRate?: number; alpha?: number; epsilon?: number; momentum?: number; weightDecay?: number; centered?: boolean }
/** An optimizer: a name (the defaults below) or `{ name, ...params }`. */
export type OptimizerSpec = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | SgdConfig | AdamConfig | RmspropConfig;

/** A parsed optimizer with every default filled in (defaults: PyTorch's, with SGD at lr 0.01). */
export type Optimizer =
  | { name: 'sgd'; lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number }
  | { name: 'adam' | 'adamw'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }
  | { name: 'rmsprop'; lr: number; alpha: number; eps: number; momentum: number; weightDecay: number; centered: boolean };

function num(o: Record<string, unknown>, key: string, dflt: number, where: string, lo: number, hi: number, open = false): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (open && (v === lo || v === hi))) {
    throw new SimdnnError('INVALID_ARGUMENT', `${where}.${key} must be a number in ${open ? '(' : '['}${lo}, ${hi}${open ? ')' : ']'}, received ${describe(v)}`);
  }
  return v;
}

function bool(o: Record<string, unknown>, key: string, where: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new SimdnnError('INVALID_ARGUMENT', `${where}.${key} must be a boolean, received ${describe(v)}`);
  return v;
}

const OPTIMIZER_KEYS: Record<string, readonly string[]> = {
  sgd: ['name', 'learningRate', 'momentum', 'nesterov', 'weightDecay', 'dampening'],
  adam: ['name', 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'],
  adamw: ['name', 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'],
  rmsprop: ['name', 'learningRate', 'alpha', 'epsilon', 'momentum', 'weightDecay', 'centered'],
};

export function parseOptimizer(spec: unknown, where = 'optimizer'): Optimizer {
  const o: Record<string, unknown> = typeof spec === 'string' ? { name: spec } : spec !== null && typeof spec === 'object' ? { ...(spec as object) } : {};
  const name = o.name;
  if (typeof name !== 'string' || !Object.hasOwn(OPTIMIZER_KEYS, name)) {
    throw new SimdnnError('INVALID_ARGUMENT', `${where} must be 'sgd', 'adam', 'adamw', 'rmsprop' or { name, ...params }, received ${describe(spec)}`);
  }
  for (const key of Object.keys(o)) {
    if (!OPTIMIZER_KEYS[name]!.includes(key)) {
      throw new SimdnnError('INVALID_ARGUMENT', `${where}: '${name}' has no parameter '${key}'; it takes ${OPTIMIZER_KEYS[name]!.slice(1).join(', ')}`);
    }
  }
  const lr = (d: number) => num(o, 'learningRate', d, where, 0, Infinity);
  const wd = num(o, 'weightDecay', name === 'adamw' ? 0.01 : 0, where, 0, Infinity);
  switch (name) {
    case 'sgd': {
      const momentum = num(o, 'momentum', 0, where, 0, 1);
      const nesterov = bool(o, 'nesterov', where);
      const dampening = num(o, 'dampening', 0, where, 0, 1);
      if (nesterov && (momentum === 0 || dampening !== 0)) {
        throw new SimdnnError('INVALID_ARGUMENT', `${where}: nesterov needs a momentum > 0 and dampening 0 (as torch.optim.SGD)`);
      }
      return { name, lr: lr(0.01), momentum, dampening, nesterov, weightDecay: wd };
    }
    case 'adam': case 'adamw':
      return {
        name, lr: lr(0.001), beta1: num(o, 'beta1', 0.9, where, 0, 1, true), beta2: num(o, 'beta2', 0.999, where, 0, 1, true),
        eps: num(o, 'epsilon', 1e-8, where, 0, Infinity), weightDecay: wd,
      };
    default:
      return {
        name: 'rmsprop', lr: lr(0.01), alpha: num(o, 'alpha', 0.99, where, 0, 1), eps: num(o, 'epsilon', 1e-8, where, 0, Infinity),
        momentum: num(o, 'momentum', 0, where, 0, 1), weightDecay: wd, centered: bool(o, 'centered', where),
      };
  }
}

export function parseLoss(spec: unknown, where = 'loss'): LossName {
  if (typeof spec !== 'string' || !(LOSSES as readonly string[]).includes(spec)) {
    throw new SimdnnError('INVALID_ARGUMENT', `${where} must be one of ${LOSSES.map((l) => `'${l}'`).join(', ')}, received ${describe(spec)}`);
  }
  return spec as LossName;
}

/** Logs passed to the callbacks. */
export interface EpochLogs { loss: number; accuracy?: number; valLoss?: number; valAccuracy?: number }
export interface BatchLogs { loss: number; batchSize: number }

/** Targets: n×outputs floats (one-hot or values), or n class indices. */
export type Targets = Float32Array | Int32Array | Uint8Array | Uint16Array;

export interface TrainOptions {
  /** Default 'mse'. */
  loss?: LossName;
  /** Default 'adam'. */
  optimizer?: OptimizerSpec;
  /** Global gradient-norm clipping (PyTorch clip_grad_norm_): off when absent. */
  clipNorm?: number;
}

export interface FitOptions extends TrainOptions {
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the rows each epoch (default true), from `seed`. */
  shuffle?: boolean;
  /** Shuffling seed (default: derived from the model's seed, so a seeded model trains reproducibly). */
  seed?: number;
  validationData?: readonly [NumberArray, Targets | NumberArray];
  onEpochEnd?: (epoch: number, logs: EpochLogs) => void | boolean | Promise<void | boolean>;
  /** Return false to stop training after this batch (fit resolves with the history so far). */
  onBatchEnd?: (batch: number, logs: BatchLogs) => void | boolean | Promise<void | boolean>;
  /** Abort: fit rejects with the signal's reason at the next batch boundary. */
  signal?: AbortSignal;
}

export interface History { loss: number[]; accuracy?: number[]; valLoss?: number[]; valAccuracy?: number[] }

export function parseClipNorm(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new SimdnnError('INVALID_ARGUMENT', `clipNorm must be a positive number, received ${describe(v)}`);
  }
  return v;
}

/** Same optimizer and hyperparameters: the optimizer state carries over. */
export function sameOptimizer(a: Optimizer, b: Optimizer): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A fit call's options and data, read once before training starts. */
export interface FitRun {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  loss: LossName;
  optimizer: Optimizer;
  clipNorm: number;
  validationData?: readonly [unknown, unknown];
  onEpochEnd?: FitOptions['onEpochEnd'];
  onBatchEnd?: FitOptions['onBatchEnd'];
  signal?: AbortSignal;
  x?: Float32Array;
  n: number;
  t?: PreparedTargets;
  val?: { x: Float32Array; n: number; t: PreparedTargets };
  head?: Head;
}

export function readTrainOptions(options: unknown, what: string): { loss: LossName; optimizer: Optimizer; clipNorm: number } {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new SimdnnError('INVALID_ARGUMENT', `${what}: options must be an object, received ${describe(options)}`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  return {
    loss: parseLoss(o.loss ?? 'mse', `${what}: loss`),
    optimizer: parseOptimizer(o.optimizer ?? 'adam', `${what}: optimizer`),
    clipNorm: parseClipNorm(o.clipNorm),
  };
}

export function readFitOptions(options: unknown, modelSeed: number, fits: number): FitRun {
  const base = readTrainOptions(options, 'model.fit');
  const o = (options ?? {}) as Record<string, unknown>;
  const fn = (key: string) => {
    const f = o[key];
    if (f !== undefined && typeof f !== 'function') throw new SimdnnError('INVALID_ARGUMENT', `model.fit: ${key} must be a function, received ${describe(f)}`);
    return f as never;
  };
  const shuffleOpt = o.shuffle ?? true;
  if (typeof shuffleOpt !== 'boolean') throw new SimdnnError('INVALID_ARGUMENT', `model.fit: shuffle must be a boolean, received ${describe(shuffleOpt)}`);
  const signal = o.signal as AbortSignal | undefined;
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof (signal as { aborted?: unknown }).aborted !== 'boolean')) {
    throw new SimdnnError('INVALID_ARGUMENT', `model.fit: signal must be an AbortSignal, received ${describe(signal)}`);
  }
  const vd = o.validationData;
  if (vd !== undefined && (!Array.isArray(vd) || vd.length !== 2)) {
    throw new SimdnnError('INVALID_ARGUMENT', `model.fit: validationData must be [x, y], received ${describe(vd)}`);
  }
  return {
    ...base,
    epochs: checkPositiveInt(o.epochs, 1, 'model.fit: epochs'),
    batchSize: checkPositiveInt(o.batchSize, 32, 'model.fit: batchSize', 1 << 24),
    shuffle: shuffleOpt,
    // By default the k-th fit of a model shuffles from (model seed, k): reproducible for a seeded model.
    seed: o.seed === undefined ? (Math.imul(modelSeed ^ 0x2545f491, 0x9e3779b1) + fits) >>> 0 : checkSeed(o.seed, 'model.fit: seed'),
    validationData: vd as readonly [unknown, unknown] | undefined,
    onEpochEnd: fn('onEpochEnd'),
    onBatchEnd: fn('onBatchEnd'),
    signal,
    n: 0,
  };
}
