// What writing into memory that nothing has touched yet costs on this machine: the floor under any
// "first load in a process" figure (the import timing's first column). A model's 2.1 MB of weights
// land in fresh pages at least once (the packed block), and the operating system maps each 4 KiB
// page on its first write. Measured on a grown WebAssembly.Memory and on a new Float32Array, 4 MiB
// each, first write against second write.
//   node bench/first-touch.mjs
const MIB = 1 << 20;
const src = new Float32Array(MIB).fill(1.5); // 4 MiB
const time = (f) => { const t = performance.now(); f(); return performance.now() - t; };

const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
memory.grow(128); // 8 MiB, untouched
const heap = new Float32Array(memory.buffer);
const wasmFirst = time(() => heap.set(src, 16));
const wasmSecond = time(() => heap.set(src, 16));
let fresh;
const jsFirst = time(() => { fresh = new Float32Array(MIB); fresh.set(src); });
const jsSecond = time(() => fresh.set(src));
const fmt = (ms) => `${ms.toFixed(2)} ms`;
console.log(`4 MiB into wasm memory: first write ${fmt(wasmFirst)}, second ${fmt(wasmSecond)}`);
console.log(`4 MiB into a new Float32Array: first write ${fmt(jsFirst)}, second ${fmt(jsSecond)}`);
console.log(`per 4 KiB page on first write: about ${((wasmFirst - wasmSecond) / 1024 * 1000).toFixed(1)} µs`);
