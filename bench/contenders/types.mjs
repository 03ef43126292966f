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
 * @property {(w: Workload) => Promise<Instance>} setup
 * @property {() => Promise<Footprint>} footprint
 */

export {};
