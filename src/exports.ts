// Public exports shared by the Node and browser entries.
export { SimdnnError, type ErrorCode } from './errors.js';
export { Runtime, type InitOptions, type Features, type MemoryInfo } from './runtime.js';
export type { ModelSource, LoadOptions, LoadOnnxOptions } from './io/load.js';
export type { SafetensorsFile, SafeTensor, ReadSafetensorsOptions } from './io/safetensors.js';
export type { TfjsWeights } from './io/tfjs.js';
export {
  Sequential, type ModelSpec, type LayerSpec, type DenseLayerSpec, type ActivationLayerSpec, type LayerInfo, type Weights,
  type ModelSpecInput, type LayerSpecInput, type CheckedSpec, type CheckedLayer, type BatchNormLayerSpec,
  type DropoutLayerSpec, type FlattenLayerSpec, type LayerType, type SequentialOptions, type TensorName, type TensorValue,
} from './model.js';
export type {
  FitOptions, TrainOptions, History, EpochLogs, BatchLogs, Targets, LossName, OptimizerSpec, SgdConfig, AdamConfig, RmspropConfig,
} from './train/options.js';
export type { InitializerSpec, InitializerName } from './train/init.js';
export type { LayerWeights } from './train/trainer.js';
export {
  ACTIVATION_NAMES, ACTIVATION_ALIASES, type ActivationName, type ActivationAlias, type KnownActivation,
  type ActivationParams, type ActivationSpec, type ActivationObject, type ParamsOf, type CheckedActivation,
} from './activations.js';
export type { NumberArray } from './arrays.js';
export type { CompiledWasm } from './wasm/loader.js';
export { detectFeatures, type WasmSource, type Binary } from './wasm/loader.js';
