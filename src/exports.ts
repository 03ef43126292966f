// Public exports shared by the Node and browser entries.
export { SimdnnError, type ErrorCode } from './errors.js';
export { Runtime, type InitOptions, type Features, type MemoryInfo } from './runtime.js';
export { Sequential, type ModelSpec, type LayerSpec, type DenseLayerSpec, type ActivationLayerSpec, type LayerInfo, type Weights } from './model.js';
export { ACTIVATION_NAMES, type ActivationName, type ActivationParams, type ActivationSpec } from './activations.js';
export { detectFeatures, type WasmSource, type Binary } from './wasm/loader.js';
