// One fresh process: import simdnn → init → first inference of a 64×64 dense model. Prints the
// milliseconds from before the import to after the inference, measured in the process.
const t0 = performance.now();
const { init } = await import('simdnn');
const { firstInference } = await import('./startup.mjs');
const nn = await init();
const y = firstInference(nn);
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, binary: nn.features.binary, y }));
