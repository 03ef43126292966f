// Hardening: every public entry point validates its arguments and throws SimdnnError with a
// stable code and a message that names what was expected and what was received. Table-driven: each
// row is a call, the code it must throw and a pattern its message must match. A last property
// throws random junk at every entry point: anything thrown must be a SimdnnError.
//
// ERROR_TABLE=<file> writes the markdown table of codes (code → when → example message) there.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createRuntime, detectFeatures, init, SimdnnError, type ErrorCode, type Runtime, type Sequential,
} from '../src/node.js';
import { SIMD } from './runtime.js';
import { BUDGET, env, IN_BROWSER, wasmModule } from './hardening.js';

interface Ctx {
  nn: Runtime;
  /** 3 inputs → 2 outputs. */
  model: Sequential;
  /** Disposed. */
  dead: Sequential;
  /** maximumMemory 16 MiB. */
  small: Runtime;
  wasm: WebAssembly.Module;
}

type Row = [label: string, call: (c: Ctx) => unknown, code: ErrorCode, message: RegExp];

const x3 = () => new Float32Array(3);
const w6 = [1, 2, 3, 4, 5, 6];
/** A valid one-layer spec with `patch` merged into the layer. */
const layer = (patch: Record<string, unknown>) => ({ layers: [{ inputs: 3, units: 2, weights: w6, ...patch }] });
const HTML = new TextEncoder().encode('<!doctype html><html><body>404 Not Found</body></html>');
const EMPTY_MODULE = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);

const ROWS: Row[] = [
  // ---- init / createRuntime options
  ['init(null)', () => createRuntime(null as never), 'INVALID_ARGUMENT', /options must be an object, received null/],
  ['init("baseline")', () => createRuntime('baseline' as never), 'INVALID_ARGUMENT', /options must be an object, received string "baseline"/],
  ['init({ simd: "fast" })', () => createRuntime({ simd: 'fast' as never }), 'INVALID_ARGUMENT', /simd must be 'auto', 'relaxed' or 'baseline', received string "fast"/],
  ['init({ simd: true })', () => createRuntime({ simd: true as never }), 'INVALID_ARGUMENT', /simd must be .*received boolean/],
  ['init({ maximumMemory: -1 })', () => createRuntime({ simd: SIMD, maximumMemory: -1 }), 'INVALID_ARGUMENT', /maximumMemory must be a number of bytes between 65536 and 4294967296, received number -1/],
  ['init({ maximumMemory: 1000 })', () => createRuntime({ simd: SIMD, maximumMemory: 1000 }), 'INVALID_ARGUMENT', /maximumMemory must be .*between 65536 and 4294967296, received number 1000/],
  ['init({ maximumMemory: NaN })', () => createRuntime({ simd: SIMD, maximumMemory: NaN }), 'INVALID_ARGUMENT', /maximumMemory .*received number NaN/],
  ['init({ maximumMemory: Infinity })', () => createRuntime({ simd: SIMD, maximumMemory: Infinity }), 'INVALID_ARGUMENT', /maximumMemory .*received number Infinity/],
  ['init({ maximumMemory: 2 ** 33 })', () => createRuntime({ simd: SIMD, maximumMemory: 2 ** 33 }), 'INVALID_ARGUMENT', /maximumMemory .*4294967296, received number 8589934592/],
  ['init({ maximumMemory: "16mb" })', () => createRuntime({ simd: SIMD, maximumMemory: '16mb' as never }), 'INVALID_ARGUMENT', /maximumMemory .*received string "16mb"/],
  ['init() memoised: { simd: "fast" }', () => init({ simd: 'fast' as never }), 'INVALID_ARGUMENT', /simd must be .*received string "fast"/],
  ['init({ wasm: 42 })', () => createRuntime({ simd: SIMD, wasm: 42 as never }), 'INVALID_ARGUMENT', /takes a URL, path, Response, bytes or WebAssembly\.Module, received number 42/],
  ['init({ wasm: {} })', () => createRuntime({ simd: SIMD, wasm: {} as never }), 'INVALID_ARGUMENT', /init\(\{ wasm \}\): an object must have 'baseline' and\/or 'relaxed' binaries/],
  ['init({ wasm: { baseline: 42 } })', () => createRuntime({ simd: 'baseline', wasm: { baseline: 42 } as never }), 'INVALID_ARGUMENT', /takes a URL, path, Response, bytes or WebAssembly\.Module, received number 42/],
  ['init({ wasm: new Map() })', () => createRuntime({ simd: SIMD, wasm: new Map() as never }), 'INVALID_ARGUMENT', /takes a URL, .*received Map/],
  ['init({ wasm: 3 bytes })', () => createRuntime({ simd: SIMD, wasm: Uint8Array.of(1, 2, 3) }), 'WASM_LOAD_FAILED', /not a WebAssembly binary \(expected magic bytes 00 61 73 6d, found 01 02 03\)/],
  ['init({ wasm: an HTML page })', () => createRuntime({ simd: SIMD, wasm: HTML }), 'WASM_LOAD_FAILED', /expected magic bytes 00 61 73 6d, found 3c 21 64 6f\).*HTML page/],
  ['init({ wasm: an empty module })', () => createRuntime({ simd: SIMD, wasm: EMPTY_MODULE }), 'WASM_LOAD_FAILED', /does not export 'heap_base': it is not simdnn's binary/],
  ['init({ wasm: magic + garbage })', () => createRuntime({ simd: SIMD, wasm: Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 99, 99) }), 'WASM_LOAD_FAILED', /failed to compile/],
  ['init({ wasm: a missing file })', () => createRuntime({ simd: SIMD, wasm: IN_BROWSER ? '/no/such/simdnn.wasm' : '/no/such/dir/simdnn.wasm' }), 'WASM_LOAD_FAILED', /could not load .*no\/such.*simdnn\.wasm/],

  // ---- activate and the named methods
  ['activate("relux")', (c) => c.nn.activate('relux' as never, x3()), 'UNKNOWN_ACTIVATION', /unknown activation 'relux'; expected one of: linear, step, relu/],
  ['activate(42)', (c) => c.nn.activate(42 as never, x3()), 'UNKNOWN_ACTIVATION', /activation must be a name such as 'relu', received number 42/],
  ['activate(null)', (c) => c.nn.activate(null as never, x3()), 'UNKNOWN_ACTIVATION', /must be a name .*received null/],
  ['activate({ alpha: 1 }) (no name)', (c) => c.nn.activate({ alpha: 1 } as never, x3()), 'UNKNOWN_ACTIVATION', /must be a name .*received undefined/],
  ['activate("relu", [1, 2])', (c) => c.nn.activate('relu', [1, 2] as never), 'INVALID_ARGUMENT', /relu: x must be a Float32Array, received Array\(2\)/],
  ['activate("relu", Float64Array)', (c) => c.nn.activate('relu', new Float64Array(3) as never), 'INVALID_ARGUMENT', /x must be a Float32Array, received Float64Array\(3\)/],
  ['relu(undefined)', (c) => c.nn.relu(undefined as never), 'INVALID_ARGUMENT', /x must be a Float32Array, received undefined/],
  ['relu(x, out of the wrong length)', (c) => c.nn.relu(x3(), new Float32Array(2)), 'SHAPE_MISMATCH', /relu: out has 2 values but the result has 3/],
  ['relu(x, out: number[])', (c) => c.nn.relu(x3(), [0, 0, 0] as never), 'INVALID_ARGUMENT', /relu: out must be a Float32Array, received Array\(3\)/],
  ['relu(x, out: null)', (c) => c.nn.relu(x3(), null as never), 'INVALID_ARGUMENT', /out must be a Float32Array, received null/],
  ['leakyRelu(x, 0.1) (params not an object)', (c) => c.nn.leakyRelu(x3(), 0.1 as never), 'INVALID_PARAMETER', /parameters must be an object, received number 0\.1/],
  ['leakyRelu(x, { beta })', (c) => c.nn.leakyRelu(x3(), { beta: 1 } as never), 'INVALID_PARAMETER', /leakyRelu: unknown parameter 'beta'; expected alpha/],
  ['relu(x) with params', (c) => c.nn.activate('relu', x3(), { alpha: 1 }), 'INVALID_PARAMETER', /relu: unknown parameter 'alpha'; expected no parameters/],
  ['leakyRelu alpha NaN', (c) => c.nn.leakyRelu(x3(), { alpha: NaN }), 'INVALID_PARAMETER', /parameter 'alpha' must be a finite number.*received number NaN/],
  ['elu alpha Infinity', (c) => c.nn.elu(x3(), { alpha: Infinity }), 'INVALID_PARAMETER', /elu: parameter 'alpha' must be a finite number.*received number Infinity/],
  ['selu gamma "1"', (c) => c.nn.selu(x3(), { gamma: '1' as never }), 'INVALID_PARAMETER', /selu: parameter 'gamma' must be a finite number.*received string "1"/],
  ['hardSigmoid beta null', (c) => c.nn.hardSigmoid(x3(), { beta: null as never }), 'INVALID_PARAMETER', /parameter 'beta' must be a finite number.*received null/],
  ['celu alpha 0', (c) => c.nn.celu(x3(), { alpha: 0 }), 'INVALID_PARAMETER', /celu: parameter 'alpha' must be non-zero, received 0/],
  ['clip min NaN', (c) => c.nn.clip(x3(), { min: NaN }), 'INVALID_PARAMETER', /clip: parameter 'min' must be a number, received number NaN/],
  ['gelu approximate "fast"', (c) => c.nn.gelu(x3(), { approximate: 'fast' as never }), 'INVALID_PARAMETER', /gelu: parameter 'approximate' must be 'none' or 'tanh', received string "fast"/],
  ['prelu without slope', (c) => c.nn.activate('prelu', x3()), 'INVALID_PARAMETER', /prelu: parameter 'slope' .* is required, received undefined/],
  ['prelu slope []', (c) => c.nn.prelu(x3(), { slope: [] }), 'INVALID_PARAMETER', /prelu: 'slope' must hold one or more finite numbers, received Array\(0\)/],
  ['prelu slope [NaN]', (c) => c.nn.prelu(x3(), { slope: [NaN] }), 'INVALID_PARAMETER', /'slope' must hold one or more finite numbers, received Array\(1\)/],
  ['prelu slope ["1"]', (c) => c.nn.prelu(x3(), { slope: ['1'] as never }), 'INVALID_PARAMETER', /'slope' must hold one or more finite numbers/],
  ['prelu slope "0.1"', (c) => c.nn.prelu(x3(), { slope: '0.1' as never }), 'INVALID_PARAMETER', /'slope' .* is required, received string "0\.1"/],
  ['prelu slope of 2 on 3 values', (c) => c.nn.prelu(x3(), { slope: [0.1, 0.2] }), 'SHAPE_MISMATCH', /prelu: slope has 2 values, which must divide the input length 3/],

  // ---- softmax / logSoftmax
  ['softmax(x, 0)', (c) => c.nn.softmax(x3(), 0), 'INVALID_ARGUMENT', /softmax: cols must be an integer in \[1, \d+\], received number 0/],
  ['softmax(x, -1)', (c) => c.nn.softmax(x3(), -1), 'INVALID_ARGUMENT', /cols must be an integer .*received number -1/],
  ['softmax(x, 1.5)', (c) => c.nn.softmax(x3(), 1.5), 'INVALID_ARGUMENT', /cols must be an integer .*received number 1\.5/],
  ['softmax(x, "3")', (c) => c.nn.softmax(x3(), '3' as never), 'INVALID_ARGUMENT', /cols must be an integer .*received string "3"/],
  ['softmax(x of 4, 3)', (c) => c.nn.softmax(new Float32Array(4), 3), 'SHAPE_MISMATCH', /softmax: input has 4 values, which is not a whole number of rows of 3 columns/],
  ['softmax(Array)', (c) => c.nn.softmax([1, 2] as never), 'INVALID_ARGUMENT', /softmax: x must be a Float32Array, received Array\(2\)/],
  ['logSoftmax(x, 3, out of 2)', (c) => c.nn.logSoftmax(x3(), 3, new Float32Array(2)), 'SHAPE_MISMATCH', /logSoftmax: out has 2 values but the result has 3/],
  ['logSoftmax(x, 3, Float64Array)', (c) => c.nn.logSoftmax(x3(), 3, new Float64Array(3) as never), 'INVALID_ARGUMENT', /logSoftmax: out must be a Float32Array, received Float64Array\(3\)/],

  // ---- sequential / dense specs
  ['sequential(null)', (c) => c.nn.sequential(null as never), 'INVALID_SPEC', /model: spec must be an object, received null/],
  ['sequential("{...json}")', (c) => c.nn.sequential('{"layers":[]}' as never), 'INVALID_SPEC', /spec must be an object, received string/],
  ['sequential({})', (c) => c.nn.sequential({} as never), 'INVALID_SPEC', /'layers' must be a non-empty array, received undefined/],
  ['sequential({ layers: [] })', (c) => c.nn.sequential({ layers: [] }), 'INVALID_SPEC', /'layers' must be a non-empty array, received Array\(0\)/],
  ['sequential({ layers: {} })', (c) => c.nn.sequential({ layers: {} as never }), 'INVALID_SPEC', /'layers' must be a non-empty array, received Object/],
  ['format "keras"', (c) => c.nn.sequential({ format: 'keras' as never, ...layer({}) }), 'INVALID_SPEC', /format must be 'simdnn', received string "keras"/],
  ['version 2', (c) => c.nn.sequential({ version: 2 as never, ...layer({}) }), 'INVALID_SPEC', /version .*2 is not supported; this simdnn reads version 1/],
  ['no inputs anywhere', (c) => c.nn.sequential({ layers: [{ units: 2, weights: w6 }] }), 'INVALID_SPEC', /layers\[0\]: 'inputs' is required on the first layer \(or as the model's 'inputs'\)/],
  ['inputs 0', (c) => c.nn.sequential(layer({ inputs: 0 })), 'INVALID_SPEC', /layers\[0\]\.inputs must be a positive integer \(at most 16777216\), received number 0/],
  ['inputs 1.5', (c) => c.nn.sequential(layer({ inputs: 1.5 })), 'INVALID_SPEC', /inputs must be a positive integer .*received number 1\.5/],
  ['inputs "3"', (c) => c.nn.sequential(layer({ inputs: '3' })), 'INVALID_SPEC', /inputs must be a positive integer .*received string "3"/],
  ['model inputs 2 ** 25', (c) => c.nn.sequential({ inputs: 2 ** 25, layers: [{ units: 1, weights: [1] }] }), 'INVALID_SPEC', /model\.inputs must be a positive integer \(at most 16777216\), received number 33554432/],
  ['layers[0] = 5', (c) => c.nn.sequential({ inputs: 3, layers: [5 as never] }), 'INVALID_SPEC', /layers\[0\]: must be an object, received number 5/],
  ['layers[1] = null', (c) => c.nn.sequential({ layers: [{ inputs: 3, units: 2, weights: w6 }, null as never] }), 'INVALID_SPEC', /layers\[1\]: must be an object, received null/],
  ['type "conv"', (c) => c.nn.sequential(layer({ type: 'conv' })), 'INVALID_SPEC', /layers\[0\]: unknown layer type string "conv"; expected 'dense', 'activation', 'batchNorm', 'dropout' or 'flatten'/],
  ['units missing', (c) => c.nn.sequential(layer({ units: undefined })), 'INVALID_SPEC', /layers\[0\]\.units must be a positive integer .*received undefined/],
  ['units NaN', (c) => c.nn.sequential(layer({ units: NaN })), 'INVALID_SPEC', /units must be a positive integer .*received number NaN/],
  ['units -2', (c) => c.nn.sequential(layer({ units: -2 })), 'INVALID_SPEC', /units must be a positive integer .*received number -2/],
  ['weightsLayout "row"', (c) => c.nn.sequential(layer({ weightsLayout: 'row' })), 'INVALID_SPEC', /weightsLayout must be 'out-in' or 'in-out', received string "row"/],
  ['hidden layer inputs mismatch', (c) => c.nn.sequential({ layers: [{ inputs: 3, units: 2, weights: w6 }, { inputs: 3, units: 1, weights: [1, 1, 1] }] }), 'SHAPE_MISMATCH', /layers\[1\]: inputs is number 3 but the previous layer has 2 outputs/],
  ['weights null (absent weights mean an untrained layer)', (c) => c.nn.sequential(layer({ weights: null })), 'INVALID_WEIGHTS', /layers\[0\]\.weights must be an array of 6 numbers, received null/],
  ['weights an object', (c) => c.nn.sequential(layer({ weights: { 0: 1 } })), 'INVALID_WEIGHTS', /weights must be an array of 6 numbers, received Object/],
  ['weights of 5', (c) => c.nn.sequential(layer({ weights: [1, 2, 3, 4, 5] })), 'INVALID_WEIGHTS', /layers\[0\]\.weights has 5 values but 6 are expected \(2×3\)/],
  ['weights Float32Array of 7', (c) => c.nn.sequential(layer({ weights: new Float32Array(7) })), 'INVALID_WEIGHTS', /weights has 7 values but 6 are expected \(2×3\)/],
  ['weights with NaN', (c) => c.nn.sequential(layer({ weights: [1, 2, NaN, 4, 5, 6] })), 'INVALID_WEIGHTS', /layers\[0\]\.weights\[2\] is number NaN; weights must be finite numbers/],
  ['weights with Infinity (Float64Array)', (c) => c.nn.sequential(layer({ weights: Float64Array.of(1, 2, 3, 4, 5, -Infinity) })), 'INVALID_WEIGHTS', /weights\[5\] is .*Infinity; weights must be finite/],
  ['weights with a string', (c) => c.nn.sequential(layer({ weights: [1, 2, 3, '4', 5, 6] })), 'INVALID_WEIGHTS', /weights\[3\] is string "4"; weights must be finite numbers/],
  ['weights with null', (c) => c.nn.sequential(layer({ weights: [1, 2, 3, 4, null, 6] })), 'INVALID_WEIGHTS', /weights\[4\] is null; weights must be finite/],
  ['weights with a hole', (c) => c.nn.sequential(layer({ weights: [1, 2, 3, 4, 5, , ] })), 'INVALID_WEIGHTS', /weights is a sparse array: element 5 is a hole/], // eslint-disable-line no-sparse-arrays
  ['nested weights: 3 rows', (c) => c.nn.sequential(layer({ weights: [[1, 2, 3], [4, 5, 6], [7, 8, 9]] })), 'INVALID_WEIGHTS', /weights has 3 rows but 2 rows of 3 are expected/],
  ['nested weights: short row', (c) => c.nn.sequential(layer({ weights: [[1, 2, 3], [4, 5]] })), 'INVALID_WEIGHTS', /weights\[1\] must be 3 numbers, received Array\(2\)/],
  ['nested weights: "x" in a row', (c) => c.nn.sequential(layer({ weights: [[1, 2, 3], [4, 'x', 6]] })), 'INVALID_WEIGHTS', /weights\[1\]\[1\] is string "x"; weights must be finite numbers/],
  ['in-out weights: 2 rows of 3', (c) => c.nn.sequential(layer({ weightsLayout: 'in-out', weights: [[1, 2, 3], [4, 5, 6]] })), 'INVALID_WEIGHTS', /weights has 2 rows but 3 rows of 2 are expected/],
  ['bias of 3', (c) => c.nn.sequential(layer({ bias: [1, 2, 3] })), 'INVALID_WEIGHTS', /layers\[0\]\.bias has 3 values but 2 are expected/],
  ['bias with NaN', (c) => c.nn.sequential(layer({ bias: [0, NaN] })), 'INVALID_WEIGHTS', /bias\[1\] is number NaN; weights must be finite/],
  ['bias a number', (c) => c.nn.sequential(layer({ bias: 0 })), 'INVALID_WEIGHTS', /bias must be an array of 2 numbers, received number 0/],
  ['activation "relux" in a layer', (c) => c.nn.sequential(layer({ activation: 'relux' })), 'UNKNOWN_ACTIVATION', /layers\[0\]: unknown activation 'relux'; expected one of/],
  ['activation { name: "elu", alpha: "1" }', (c) => c.nn.sequential(layer({ activation: { name: 'elu', alpha: '1' } })), 'INVALID_PARAMETER', /layers\[0\]: elu: parameter 'alpha' must be a finite number.*received string "1"/],
  ['activation { name: "relu", slope: 1 }', (c) => c.nn.sequential(layer({ activation: { name: 'relu', slope: 1 } })), 'INVALID_PARAMETER', /layers\[0\]: relu: unknown parameter 'slope'/],
  ['prelu slope of 3 on 2 units', (c) => c.nn.sequential(layer({ activation: { name: 'prelu', slope: [1, 2, 3] } })), 'SHAPE_MISMATCH', /layers\[0\]: prelu slope has 3 values; expected 1 or 2 \(one per unit\)/],
  ['activation layer without activation', (c) => c.nn.sequential({ inputs: 3, layers: [{ type: 'activation' } as never] }), 'UNKNOWN_ACTIVATION', /layers\[0\]: activation must be a name such as 'relu', received undefined/],
  ['dense(null)', (c) => c.nn.dense(null as never), 'INVALID_SPEC', /dense: spec must be an object, received null/],
  ['dense(3)', (c) => c.nn.dense(3 as never), 'INVALID_SPEC', /dense: spec must be an object, received number 3/],
  ['dense({ units: 2 }) with an unknown initializer', (c) => c.nn.dense({ inputs: 3, units: 2, initializer: 'kaiming' } as never), 'INVALID_SPEC', /initializer must be 'he', 'glorot', 'lecun' or 'zeros'.*received string "kaiming"/],

  // ---- predict / predictInto
  ['predict(x of 2)', (c) => c.model.predict(new Float32Array(2)), 'SHAPE_MISMATCH', /model\.predict: input has 2 values but the model expects batch × inputs = 1 × 3 = 3/],
  ['predict(x of 6, batch 3)', (c) => c.model.predict(new Float32Array(6), 3), 'SHAPE_MISMATCH', /input has 6 values but the model expects batch × inputs = 3 × 3 = 9/],
  ['predict(x, -1)', (c) => c.model.predict(x3(), -1), 'INVALID_ARGUMENT', /batch must be an integer in \[0, 16777216\], received number -1/],
  ['predict(x, 1.5)', (c) => c.model.predict(x3(), 1.5), 'INVALID_ARGUMENT', /batch must be an integer .*received number 1\.5/],
  ['predict(x, NaN)', (c) => c.model.predict(x3(), NaN), 'INVALID_ARGUMENT', /batch must be an integer .*received number NaN/],
  ['predict(x, "1")', (c) => c.model.predict(x3(), '1' as never), 'INVALID_ARGUMENT', /batch must be an integer .*received string "1"/],
  ['predict(x, 2 ** 25)', (c) => c.model.predict(x3(), 2 ** 25), 'INVALID_ARGUMENT', /batch must be an integer in \[0, 16777216\], received number 33554432/],
  ['predict(x, Infinity)', (c) => c.model.predict(x3(), Infinity), 'INVALID_ARGUMENT', /batch must be an integer .*received number Infinity/],
  ['predict(BigInt64Array)', (c) => c.model.predict(new BigInt64Array(3) as never), 'INVALID_ARGUMENT', /x must be a Float32Array \(or another numeric typed array, or an array of numbers\), received BigInt64Array\(3\)/],
  ['predict(["1", 2, 3])', (c) => c.model.predict(['1', 2, 3] as never), 'INVALID_ARGUMENT', /x\[0\] is string "1"; every element must be a number/],
  ['predict(null)', (c) => c.model.predict(null as never), 'INVALID_ARGUMENT', /x must be a Float32Array .*received null/],
  ['predictInto(x, out of 3)', (c) => c.model.predictInto(x3(), new Float32Array(3)), 'SHAPE_MISMATCH', /predictInto: out must be a Float32Array of batch × outputs = 2 values, received Float32Array\(3\)/],
  ['predictInto(x, number[])', (c) => c.model.predictInto(x3(), [0, 0] as never), 'SHAPE_MISMATCH', /out must be a Float32Array of batch × outputs = 2 values, received Array\(2\)/],
  ['predictInto(x, undefined)', (c) => c.model.predictInto(x3(), undefined as never), 'SHAPE_MISMATCH', /out must be a Float32Array .*received undefined/],
  ['predict(x) where a getter of x calls relu', (c) => {
    const x = [1, 2, 3];
    Object.defineProperty(x, 0, { get: () => { c.nn.relu(new Float32Array(2)); return 1; } });
    return c.model.predict(x);
  }, 'REENTRANT_CALL', /nn\.activate: called while another simdnn call of the same runtime is running .*nothing was done/],

  // ---- disposed objects
  ['predict after dispose', (c) => c.dead.predict(x3()), 'DISPOSED', /model\.predict: this model was disposed; create a new one/],
  ['predictInto after dispose', (c) => c.dead.predictInto(x3(), new Float32Array(2)), 'DISPOSED', /this model was disposed/],

  // ---- memory limits (16 MiB runtime)
  ['a model past maximumMemory', (c) => c.small.dense({ inputs: 2048, units: 2048, weights: new Float32Array(2048 * 2048) }), 'OUT_OF_MEMORY', /cannot allocate \d+ bytes: WebAssembly memory would need \d+ bytes but its maximum is 16777216 .*Dispose unused models, or pass a larger maximumMemory/],
  ['a softmax row past maximumMemory', (c) => c.small.softmax(new Float32Array(5_000_000)), 'OUT_OF_MEMORY', /cannot allocate 20000000 bytes.*maximum is 16777216/],
  ['a prelu slope past maximumMemory', (c) => c.small.prelu(new Float32Array(3_000_000), { slope: new Float32Array(3_000_000) }), 'OUT_OF_MEMORY', /cannot allocate \d+ bytes.*maximum is 16777216/],
  ['a batch past maximumMemory', (c) => { const m = c.small.dense({ inputs: 3, units: 2, weights: w6 }); try { return m.predict(new Float32Array(3 * 1_000_000), 1_000_000); } finally { m.dispose(); } }, 'OUT_OF_MEMORY', /cannot allocate \d+ bytes.*maximum is 16777216/],
];

/** Regression rows: each reproduces a bug the hardening work found (and fixed) in src/. */
const BUG_ROWS: Array<[id: string, ...row: Row]> = [
  ['regression-2', 'predict(x, 2 ** 24) on a 300-output model rejects the input instead of allocating 20 GB (RangeError)', (c) => {
    const m = c.nn.dense({ inputs: 3, units: 300, weights: new Float32Array(900) });
    try { return m.predict(x3(), 2 ** 24); } finally { m.dispose(); }
  }, 'SHAPE_MISMATCH', /input has 3 values but the model expects batch × inputs = 16777216 × 3/],
  ['regression-3', 'sequential({ layers: [null] }) (TypeError)', (c) => c.nn.sequential({ layers: [null as never] }), 'INVALID_SPEC', /layers\[0\]: must be an object, received null/],
  ['regression-3', 'a layer name that is not a string (TypeError in summary())', (c) => c.nn.dense({ inputs: 3, units: 2, weights: w6, name: 42 as never }).summary(), 'INVALID_SPEC', /name must be a string, received number 42/],
  ['regression-3', 'weights as a BigInt64Array (TypeError)', (c) => c.nn.sequential(layer({ weights: new BigInt64Array(6) })), 'INVALID_WEIGHTS', /weights must hold numbers, received BigInt64Array\(6\)/],
  ['regression-3', 'prelu slope as a BigInt64Array (TypeError)', (c) => c.nn.prelu(x3(), { slope: new BigInt64Array(3) as never }), 'INVALID_PARAMETER', /'slope' must hold numbers, received BigInt64Array\(3\)/],
  ['regression-3', 'version as a null-prototype object (TypeError)', (c) => c.nn.sequential({ version: Object.create(null), ...layer({}) }), 'INVALID_SPEC', /version object is not supported/],
  ['regression-4', 'weights [1e39] (finite in float64, Infinity in float32) are rejected', (c) => c.nn.sequential(layer({ weights: [1, 2, 3, 4, 5, 1e39] })), 'INVALID_WEIGHTS', /weights\[5\] is number 1e\+39; weights must be finite numbers within the float32 range/],
  ['regression-4', 'nested weights [[1e39, …]] are rejected', (c) => c.nn.sequential(layer({ weights: [[1, 2, -1e39], [4, 5, 6]] })), 'INVALID_WEIGHTS', /weights\[0\]\[2\] is number -1e\+39; weights must be finite numbers within the float32 range/],
  ['regression-4', 'leakyRelu alpha 1e39 (reaches the kernel as Infinity) is rejected', (c) => c.nn.leakyRelu(x3(), { alpha: 1e39 }), 'INVALID_PARAMETER', /parameter 'alpha' must be a finite number within the float32 range.*received number 1e\+39/],
  ['regression-5', 'init({ maxMemory }) (a misspelt option) is rejected, not ignored', () => createRuntime({ simd: SIMD, maxMemory: 1 << 24 } as never), 'INVALID_ARGUMENT', /unknown option 'maxMemory'; expected simd, wasm, maximumMemory/],
  ['regression-5', "init({ maximumMemory: '16777216' }) after init({ maximumMemory: 16777216 }) is rejected, not memoised", async () => {
    await init({ simd: SIMD, maximumMemory: 16777216 });
    return init({ simd: SIMD, maximumMemory: '16777216' as never });
  }, 'INVALID_ARGUMENT', /maximumMemory must be a number .*received string "16777216"/],
];

let ctx: Ctx;
beforeAll(async () => {
  const wasm = await wasmModule(SIMD);
  const nn = await createRuntime({ simd: SIMD, wasm });
  const dead = nn.dense({ inputs: 3, units: 2, weights: w6 });
  dead.dispose();
  ctx = { nn, model: nn.dense({ inputs: 3, units: 2, weights: w6 }), dead, small: await createRuntime({ simd: SIMD, wasm, maximumMemory: 16 << 20 }), wasm };
});

/** The error `call` throws (or rejects with); fails if it returns normally. */
async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

const examples = new Map<string, string>();

async function checkRow([label, call, code, message]: Row): Promise<void> {
  const before = { nn: ctx.nn.memory(), small: ctx.small.memory() };
  const err = await thrown(() => call(ctx));
  expect(err, `${label}: threw ${String(err)}`).toBeInstanceOf(SimdnnError);
  const e = err as SimdnnError;
  expect({ code: e.code, name: e.name }, `${label}: ${e.message}`).toEqual({ code, name: 'SimdnnError' });
  expect(e.message, label).toMatch(message);
  // A rejected call changes nothing: no objects, no bytes (the staging buffer may have grown).
  for (const k of ['nn', 'small'] as const) {
    const after = ctx[k].memory();
    expect({ objects: after.objects, bytes: after.bytes }, `${label}: memory of ${k}`).toEqual({ objects: before[k].objects, bytes: before[k].bytes });
  }
  if (!examples.has(code)) examples.set(code, e.message);
}

describe(`bad inputs: every entry point throws SimdnnError with a stable code (${SIMD} binary)`, () => {
  it(`${ROWS.length} table rows: code, and a message naming expected and received`, async () => {
    const failures: string[] = [];
    for (const row of ROWS) {
      try {
        await checkRow(row);
      } catch (err) {
        failures.push(`${row[0]}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    expect(failures).toEqual([]);
    // The models used by the rows still work.
    expect(Array.from(ctx.model.predict(Float32Array.of(1, 1, 1)))).toEqual([6, 15]);
  });

  it('typed-array weights and bias: the bulk (wasm) finiteness check finds one bad value wherever it is', () => {
    // Layer shapes whose weight counts hit every vector-tail case of the 16-float SIMD blocks.
    const shapes: Array<[inputs: number, units: number]> = [[1, 1], [3, 1], [4, 1], [5, 1], [7, 1], [17, 1], [3, 7], [16, 4], [17, 33]];
    const bads = [NaN, Infinity, -Infinity];
    const before = ctx.nn.memory();
    let checked = 0;
    for (const [inputs, units] of shapes) {
      const n = inputs * units;
      const positions = n <= 70 ? Array.from({ length: n + units }, (_, i) => i) : [0, 15, 16, 17, n - 1, n, n + units - 1];
      for (const p of positions) {
        const bad = bads[p % 3]!;
        const weights = new Float32Array(n).fill(0.5);
        const bias = new Float32Array(units).fill(0.25);
        if (p < n) weights[p] = bad; else bias[p - n] = bad;
        const err = (() => {
          try {
            ctx.nn.sequential({ layers: [{ inputs, units, weights, bias }] }).dispose();
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        const where = p < n ? `weights\\[${p}\\]` : `bias\\[${p - n}\\]`;
        expect(err, `${inputs}×${units}, bad value at ${p}`).toBeInstanceOf(SimdnnError);
        expect((err as SimdnnError).code).toBe('INVALID_WEIGHTS');
        expect((err as SimdnnError).message).toMatch(new RegExp(`layers\\[0\\]\\.${where} is number ${String(bad).replace('+', '\\+')};`));
        checked++;
      }
      // The extremes of the finite float32 range pass.
      const edge = new Float32Array(n).map((_, i) => [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0][i % 4]!);
      ctx.nn.sequential({ layers: [{ inputs, units, weights: edge, bias: new Float32Array(units).fill(-0) }] }).dispose();
    }
    expect(checked).toBe(146); // every position of the small shapes, 7 of the large one
    expect(ctx.nn.memory()).toEqual(before); // failed constructions leave nothing behind
  });

  it("simd: 'relaxed' throws NO_SIMD exactly when the engine has no relaxed SIMD", async () => {
    if (detectFeatures().relaxedSimd) {
      const nn = await createRuntime({ simd: 'relaxed' });
      expect(nn.features.binary).toBe('relaxed');
    } else {
      const err = await thrown(() => createRuntime({ simd: 'relaxed' }));
      expect(err).toBeInstanceOf(SimdnnError);
      expect((err as SimdnnError).code).toBe('NO_SIMD');
      expect((err as SimdnnError).message).toMatch(/does not support relaxed SIMD \(Node 20 needs --experimental-wasm-relaxed-simd.*Use simd: "auto"/);
      examples.set('NO_SIMD', (err as SimdnnError).message);
    }
  });

  it('a failed init() is forgotten and can be retried', async () => {
    await expect(init({ simd: 'nope' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(init({ simd: 'nope' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const a = await init({ simd: SIMD, maximumMemory: 1 << 24 });
    expect(await init({ simd: SIMD, maximumMemory: 1 << 24 })).toBe(a);
  });

  it('random junk at every entry point throws SimdnnError or succeeds: never anything else', () => {
    // Includes BigInt arrays, null-prototype objects and non-string layer names (once escaped as
    // TypeErrors: regression rows regression-3).
    const typed = fc.oneof(
      fc.float32Array({ maxLength: 8 }), fc.float64Array({ maxLength: 8 }), fc.int32Array({ maxLength: 8 }),
      fc.uint8Array({ maxLength: 8 }), fc.constant(new DataView(new ArrayBuffer(8))), fc.constant(new ArrayBuffer(8)),
      fc.bigInt64Array({ maxLength: 4 }),
    );
    const junk = fc.oneof(
      { weight: 4, arbitrary: fc.anything({ withTypedArray: true, withMap: true, withSet: true, withDate: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true, maxDepth: 2 }) },
      { weight: 2, arbitrary: typed },
      { weight: 2, arbitrary: fc.constantFrom('relu', 'prelu', 'softmax', 'clip', 'gelu', 'leakyRelu', 'linear', 'in-out', 'activation', 'dense') },
      { weight: 2, arbitrary: fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(NaN, Infinity, -0, 2 ** 24, 2 ** 31, 1e300)) },
    );
    const layerJunk = fc.record({ type: junk, inputs: junk, units: junk, weights: junk, bias: junk, activation: junk, weightsLayout: junk, name: junk }, { requiredKeys: [] });
    const specJunk = fc.record({ inputs: junk, layers: fc.oneof(fc.array(layerJunk, { maxLength: 3 }), junk), format: junk, version: junk }, { requiredKeys: [] });
    const names = ['linear', 'relu', 'leakyRelu', 'prelu', 'elu', 'selu', 'celu', 'gelu', 'hardSigmoid', 'thresholdedRelu', 'clip', 'softmax', 'logSoftmax', 'tanh'];
    const { nn, model } = ctx;
    const method = (i: unknown) => names[typeof i === 'number' && Number.isFinite(i) ? Math.abs(Math.trunc(i)) % names.length : 0]!;
    const entry: Record<string, (a: unknown[], spec: unknown) => unknown> = {
      activate: (a) => nn.activate(a[0] as never, a[1] as never, a[2] as never, a[3] as never),
      activateValid: (a) => nn.activate(a[0] as never, new Float32Array(6), a[2] as never, a[3] as never),
      named: (a) => (nn as unknown as Record<string, (...args: unknown[]) => unknown>)[method(a[4])]!.call(nn, new Float32Array(6), a[2], a[3]),
      softmax: (a) => nn.softmax(a[1] as never, a[2] as never, a[3] as never),
      logSoftmax: (a) => nn.logSoftmax(new Float32Array(6), a[2] as never, a[3] as never),
      sequential: (_a, spec) => nn.sequential(spec as never),
      dense: (a, spec) => nn.dense(((spec as { layers?: unknown[] }).layers?.[0] ?? a[0]) as never),
      predict: (a) => model.predict(a[1] as never, a[2] as never),
      predictInto: (a) => model.predictInto(a[1] as never, a[3] as never, a[2] as never),
    };
    const before = nn.memory();
    let calls = 0;
    fc.assert(
      fc.property(fc.tuple(junk, junk, junk, junk, junk), specJunk, fc.constantFrom(...Object.keys(entry)), (args, spec, which) => {
        calls++;
        try {
          const r = entry[which]!(args, spec);
          if (r && typeof (r as Sequential).dispose === 'function') {
            (r as Sequential).summary();
            (r as Sequential).dispose();
          }
        } catch (err) {
          if (!(err instanceof SimdnnError)) throw new Error(`${which} escaped as ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
        }
      }),
      { seed: Number(env('FUZZ_SEED') ?? 0x15_5e_05), numRuns: Math.max(500, 3000 * BUDGET) },
    );
    const after = nn.memory();
    expect({ objects: after.objects, bytes: after.bytes }).toEqual({ objects: before.objects, bytes: before.bytes });
    expect(Array.from(model.predict(Float32Array.of(1, 1, 1)))).toEqual([6, 15]);
    expect(calls).toBeGreaterThanOrEqual(500);
  });

  for (const [id, label, call, code, message] of BUG_ROWS) {
    it(`${label} [regression: ${id}]`, () => checkRow([label, call, code, message]));
  }

  it('writes the table of error codes (ERROR_TABLE=<file>)', async () => {
    const file = env('ERROR_TABLE');
    if (!file) return;
    const { writeFile } = await import('node:fs/promises');
    const lines = ['| code | when | example message |', '| --- | --- | --- |'];
    for (const [code, when] of Object.entries(WHEN)) {
      lines.push(`| \`${code}\` | ${when} | ${(examples.get(code) ?? '').replace(/\|/g, '\\|')} |`);
    }
    await writeFile(file, lines.join('\n') + '\n');
  });
});

const WHEN: Record<ErrorCode, string> = {
  INVALID_ARGUMENT: 'An argument has the wrong type or value: `x`/`out` not a Float32Array, `batch` or `cols` not an integer in range, bad `init()` options (`simd`, `maximumMemory`, `wasm` of the wrong type), an activation spec or parameters object whose getter or Proxy trap threw (the error is its `cause`)',
  SHAPE_MISMATCH: "A length does not fit the operation: input ≠ batch × inputs, `out` of the wrong length, softmax input not a whole number of rows, a prelu slope that does not divide the input (or match the layer's units), a layer's `inputs` ≠ the previous layer's units",
  UNKNOWN_ACTIVATION: "The activation is not a spelling simdnn knows: its own names and the Keras, PyTorch, ONNX and scikit-learn spellings match exactly; another case or `_`/`-` is accepted only where every spelling it could be means one function (not 'HARDSIGMOID': PyTorch's x/6 + 1/2 or ONNX's 0.2x + 0.5?)",
  INVALID_PARAMETER: "An activation parameter is unknown for that spelling, given under two names, missing (prelu `slope`; the deciding parameter of an ambiguous spelling: `hard_sigmoid` alpha, `leaky_relu`/`LeakyReLU` negative_slope), not a finite number, or out of range (celu `alpha` 0, softplus `beta` ≤ 0, gelu `approximate`); parameters that are not an object",
  INVALID_SPEC: 'A model spec is malformed: not an object, wrong `format`/`version`, empty `layers`, a layer that is not an object, unknown layer `type`, `inputs`/`units` not a positive integer ≤ 2^24, bad `weightsLayout`',
  INVALID_WEIGHTS: 'Weights or bias are missing, of the wrong length or row structure, or hold something other than finite numbers',
  DISPOSED: 'A model used after `dispose()`, or a runtime (and its models) used after `nn.dispose()` (dispose itself is idempotent)',
  OUT_OF_MEMORY: 'A model, batch or activation would take WebAssembly memory past `maximumMemory`, a result array is larger than the engine can allocate, or `init()` could not reserve the memory; every existing object is left intact',
  NO_SIMD: "The engine has no WebAssembly SIMD, or `simd: 'relaxed'` where relaxed SIMD is unsupported",
  WASM_LOAD_FAILED: 'The .wasm could not be fetched/read (a detached buffer, a consumed `Response`, a rejected promise), is not WebAssembly (e.g. an HTML 404 page), does not compile, or is not simdnn\'s binary',
  REENTRANT_CALL: 'Caller code running inside a simdnn call (a getter, a Proxy trap, a species constructor on an argument) called the same runtime again; the inner call did nothing and the outer one goes on',
  INVALID_MODEL: 'A model file is malformed, truncated or inconsistent (bad protobuf, a safetensors header out of bounds, a weights manifest that does not add up)',
  UNSUPPORTED_MODEL: 'A model file is well-formed but uses an operator, layer or graph shape simdnn does not support (the message names the node)',
  WORKER_FAILED: 'A worker of the pool (`init({ threads })`) stopped while it computed a `predictAsync` call (that call rejects; the next one starts a new worker), or the pool module could not be loaded',
};
