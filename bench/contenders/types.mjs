// The interface every contender adapter implements (documentation only).
//
// An adapter module default-exports a Contender (or a factory's result). It must not import its
// library at module top level: `init()` does, so a start-up measurement can time import → first
// inference in a fresh process.

/**
 * @typedef {import('../lib/workloads.mjs').Workload} Workload
 *
 * @typedef {object} Instance  one workload set up in one contender
 * @property {(x: Float32Array) => Float32Array | Promise<Float32Array>} run
 *   A JS Float32Array in, a JS-readable Float32Array out: all conversion costs are inside the call.
 * @property {(x: Float32Array) => Float32Array | Promise<Float32Array>} [runInto]
 *   Optional diagnostic: the same call writing into a preallocated output (simdnn's predictInto /
 *   `out` argument), timed separately in full runs to show what allocating the result costs.
 * @property {() => void | Promise<void>} dispose
 *
 * @typedef {object} TrainInstance  one training workload (kind 'train') set up in one contender
 * @property {(k: number) => number | Promise<number>} [step]
 *   One optimizer step on batch k of the workload (0 ≤ k < w.batches), from its Float32Array inputs
 *   and Int32Array labels; returns the batch's loss computed before the update.
 * @property {(budget: object, checkSteps: number) => object} [timed]
 *   Instead of step: a contender in another process (PyTorch) that runs the check steps and the
 *   timing itself with the harness's budget rules (see lib/training.mjs for what it returns).
 * @property {boolean} crossEntropy  whether the loss is the workload's cross-entropy (checked
 *   against float64) or another measure (brain.js: only finite and falling)
 * @property {() => void | Promise<void>} dispose
 *
 * @typedef {object} Footprint  what a user ships or installs (bytes)
 * @property {number} js
 * @property {number} jsGzip
 * @property {number} wasm
 * @property {number} wasmGzip
 * @property {number} native   native libraries loaded by Node (ORT Node)
 * @property {string} note     which files were counted
 *
 * @typedef {object} Contender
 * @property {string} id                 stable id: simdnn-simd, tfjs-wasm, ort-node, …
 * @property {string} label              for tables
 * @property {boolean} [isSimdnn]
 * @property {string[]} [nodeFlags]      node/V8 flags its child process needs
 * @property {(w: Workload) => true | string} supports   true, or why this workload is n/a
 * @property {(w: Workload) => void | Promise<void>} [prepare]
 *   Untimed conversion that a real user would have done offline (e.g. building the .onnx file).
 * @property {() => Promise<Record<string, unknown>>} init   import the library, pick the backend;
 *   returns facts for the report (version, backend, binary, threads…)
 * @property {(w: Workload) => Promise<Instance | TrainInstance>} setup
 * @property {() => Promise<Footprint | null>} footprint
 * @property {string[]} [importFormats]  model formats the import timing loads with this contender
 *   (lib/import-timing.mjs): simdnn's take `runtime()`, ORT's `createSession(bytes)` / `runSession`
 */

export {};
